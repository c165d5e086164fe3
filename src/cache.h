/* The content-addressed module cache: blobs by sha256, one index record per
 * source, temp files published by rename, and flock-based coordination
 * between processes. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct cache;

/* What the index knows of one source; strings owned, any may be NULL. */
struct cache_entry {
	char *source;          /* the key: "https://…", "oci://host/repo:tag", "file:///…" */
	char *digest;          /* module: "sha256:hex" */
	uint64_t size;
	char *raw_digest;      /* what was downloaded, before unboxing */
	char *manifest_digest; /* OCI: what the reference resolved to */
	char *platform_digest; /* OCI: the manifest taken from an index, or NULL */
	char *reference;       /* OCI: normalized reference */
	char *format;          /* "cncf", "http", … */
	char *platform;        /* OCI: the --platform asked for, or NULL */
	char *etag, *last_modified;
	int64_t created, last_used, checked; /* seconds since the epoch */
};

void cache_entry_release(struct cache_entry *e);
/* Makes d a deep copy of s (d is overwritten, not released). */
void cache_entry_copy(struct cache_entry *d, const struct cache_entry *s);

/* Opens (creating, 0700) the cache at root; refuses symlinked folders. */
enum wp_err cache_open(const char *root, struct cache **c, struct error *err);
void cache_free(struct cache *c);
/* Borrowed: the cache root. */
const char *cache_root(const struct cache *c);

/* Reads the record of source; WP_ENOTFOUND when there is none. */
enum wp_err cache_lookup(struct cache *c, const char *source, struct cache_entry *e,
			 struct error *err);
/* Finds a record whose module, raw or manifest digest is digest ("sha256:hex"). */
enum wp_err cache_find_digest(struct cache *c, const char *digest, struct cache_entry *e,
			      struct error *err);
/* Writes (atomically replaces) the record of e->source. */
enum wp_err cache_put(struct cache *c, const struct cache_entry *e, struct error *err);
/* Deletes the record of source; WP_ENOTFOUND when absent. */
enum wp_err cache_forget(struct cache *c, const char *source, struct error *err);

/* Returns the path of a module blob, the caller frees. hex is 64 hex digits. */
char *cache_blob_path(const struct cache *c, const char *hex);
/*
 * Opens a module blob for reading with a shared lock held while fd is open
 * (gc and rm skip locked blobs), after re-checking its size and sha256.
 * WP_ENOTFOUND: absent. WP_EVERIFY: corrupt, and removed.
 */
enum wp_err cache_open_blob(struct cache *c, const char *hex, uint64_t size, int *fd,
			    struct error *err);

/* Like cache_open_blob for a blob this process just published (and so
 * hashed while writing): no second read of its bytes. */
enum wp_err cache_open_published(struct cache *c, const char *hex, uint64_t size, int *fd,
				 struct error *err);

/* A file being written in the cache's tmp folder. */
struct cache_tmp {
	int fd;
	char *path;
};
enum wp_err cache_tmp_create(struct cache *c, struct cache_tmp *t, struct error *err);
/* fsyncs, makes read-only and renames the temp file to the blob of hex; the
 * blob stays read-locked until cache_tmp_release. */
enum wp_err cache_tmp_publish(struct cache *c, struct cache_tmp *t, const char *hex,
			      struct error *err);
/* Closes and removes an unpublished temp file. */
void cache_tmp_release(struct cache_tmp *t);

/*
 * Takes the exclusive lock of a source (one pull per source at a time),
 * waiting until deadline (now_mono() time, 0: forever). *waited tells whether
 * another process held it. Release with cache_unlock.
 */
enum wp_err cache_lock_source(struct cache *c, const char *source, double deadline, int *fd,
			      bool *waited, struct error *err);
void cache_unlock(int fd);

/* Calls fn for every record; stops early when fn returns false. */
enum wp_err cache_each(struct cache *c, bool (*fn)(const struct cache_entry *e, void *ud),
		       void *ud, struct error *err);

/* Tries to take a blob for deletion: true and deleted when no one holds it. */
bool cache_remove_blob(struct cache *c, const char *hex, uint64_t *freed);
/* Removes temp files no live process writes and stale lock files; adds bytes to *freed. */
void cache_sweep_debris(struct cache *c, bool dry_run, uint64_t *freed, uint64_t *count);
/* Calls fn for each blob file (hex, size, mtime). */
enum wp_err cache_each_blob(struct cache *c,
			    bool (*fn)(const char *hex, uint64_t size, int64_t mtime, void *ud),
			    void *ud, struct error *err);
