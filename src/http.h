/* HTTP transport over libcurl (the only module that includes it): one
 * connection reused for a session's requests, retries with backoff and
 * Retry-After, manual redirects that keep credentials on their host, resumable
 * streamed bodies, and -vv traces with secrets redacted. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct http_opts {
	const char *ca_file;     /* extra trusted CAs (PEM), or NULL */
	const char *insecure_host; /* host[:port] whose TLS peer is not verified, or NULL */
	double deadline;         /* absolute now_mono() time; 0: none */
	int attempts;            /* total tries for transient failures, >= 1 */
	/* Told how a streamed body advances (total 0: unknown), or NULL. */
	void (*progress)(uint64_t now, uint64_t total);
};

/* Where a body goes while it streams. */
struct http_sink {
	/* Takes the next bytes; false aborts the transfer (the sink keeps its own error). */
	bool (*write)(void *ctx, const void *data, size_t len);
	/* Forgets all bytes taken so far: the next write starts at offset 0. */
	void (*reset)(void *ctx);
	void *ctx;
};

struct http_request {
	const char *method;          /* NULL: GET; "HEAD", "POST" */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value", sent to every host */
	const char *const *origin_headers; /* ditto, sent only to the URL's own scheme+host+port */
	const char *post_body;       /* form body for POST (application/x-www-form-urlencoded) */
	bool follow;                 /* follow up to 10 redirects; https->http refused */
	bool resume;                 /* continue a dropped body with Range when the server allows it */
	uint64_t max_body;           /* > this many body bytes is WP_EVERIFY; 0: no limit */
	struct http_sink sink;       /* write == NULL: body collected in response.body */
};

struct http_response {
	long status;
	char *content_type, *etag, *last_modified, *docker_digest, *www_authenticate;
	bool accept_ranges;
	struct strbuf body;   /* when the request had no sink, or the status was not 2xx */
};

struct http;

void http_global_init(void);
void http_global_cleanup(void);
/* Borrowed: "libcurl/7.88.1 OpenSSL/3.0.x ..." */
const char *http_backend_version(void);

/* Whether url is a well-formed http(s) URL. */
bool http_url_valid(const char *url);

/* Returns a session the caller frees with http_free; opts is copied. */
struct http *http_new(const struct http_opts *opts);
void http_free(struct http *h);

/*
 * Performs req. Transient failures (connection errors, 408, 429, 500, 502,
 * 503, 504) are retried within opts.attempts and the deadline; their
 * exhaustion is WP_ENET. Any other final status is WP_OK with resp->status
 * set: the caller decides what 401, 404 or 304 means. Sink aborts return the
 * code the caller set in err beforehand (WP_EVERIFY etc.), or WP_EFAIL.
 */
enum wp_err http_request(struct http *h, const struct http_request *req,
			 struct http_response *resp, struct error *err);
void http_response_release(struct http_response *resp);
