/* Downloads into the cache: a temp file that hashes what it is given, then
 * verification, unboxing and publication under the module's sha256. Shared by
 * HTTP, file and OCI blob sources. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "err.h"
#include "http.h"

struct fetch;

/* What the downloaded bytes must be, before unboxing. */
struct fetch_expect {
	const char *raw_hex;  /* sha256 of the bytes as served, or NULL */
	int64_t raw_size;     /* -1: unknown */
	bool unbox;           /* may be an archive / compressed */
	const char *want_hex; /* --sha256: matches the raw bytes or the module (NULL: none) */
};

struct fetch_result {
	char hex[65];     /* the module's sha256 */
	uint64_t size;
	char raw_hex[65]; /* what was downloaded */
	uint64_t raw_size;
	bool unboxed;
};

/* Starts a download into a new temp file of the cache. */
enum wp_err fetch_begin(struct cache *c, uint64_t max_size, struct fetch **f, struct error *err);
/* The largest download this fetch accepts. */
uint64_t fetch_limit(const struct fetch *f);
/* The sink to hand to http_request. */
struct http_sink fetch_sink(struct fetch *f);
/* Verifies against exp, unboxes, and publishes the module in the cache. */
enum wp_err fetch_finish(struct fetch *f, const struct fetch_expect *exp, struct fetch_result *res,
			 struct error *err);
/* Removes what was not published. */
void fetch_free(struct fetch *f);

/*
 * GETs url into f, following redirects and resuming. headers ("Name: value",
 * from -H) go to the URL's own host only; extra (NULL-terminated, may be
 * NULL) go everywhere. A 200/206 or 304 answer
 * is WP_OK (resp->status tells); 404/410 is WP_ENOTFOUND, 401/403 WP_EAUTH,
 * anything else a failure.
 */
enum wp_err fetch_url(struct http *h, const char *url, char *const *headers, size_t n_headers,
		      const char *const *extra, uint64_t max_size, struct fetch *f,
		      struct http_response *resp, struct error *err);
/* Starts a fetch of c and reads the file at path into it (missing: WP_ENOTFOUND). */
enum wp_err fetch_path(struct cache *c, const char *path, uint64_t max_size, struct fetch **f,
		       struct error *err);

/* Copies an open file to path atomically (temp file beside it, fsync,
 * rename), or into it when it is a device or FIFO. path is where the bytes
 * land: symlinks already followed, not a folder (the caller checks). */
enum wp_err copy_to_path(int fd, const char *path, struct error *err);
/* Copies an open file to stdout. */
enum wp_err copy_to_stdout(int fd, struct error *err);
