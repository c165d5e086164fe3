/* The content-addressed module cache.
 *
 *   ROOT/blobs/sha256/HEX   modules, read-only, published by rename
 *   ROOT/index/KEY.json     one record per source (KEY = sha256 of the source)
 *   ROOT/tmp/               downloads in flight, each flock'ed by its writer
 *   ROOT/locks/KEY.lock     one pull per source at a time
 *
 * Readers hold a shared flock on a blob while they use it; gc and rm delete
 * only what they can lock exclusively. Every open refuses symlinks. */
#include "cache.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "digest.h"
#include "log.h"
#include "parse.h"

struct cache {
	char *root;
	int rootfd, blobfd, indexfd, tmpfd, lockfd;
};

static const char *const subdirs[] = { "blobs", "blobs/sha256", "index", "tmp", "locks" };

void cache_entry_release(struct cache_entry *e)
{
	free(e->source);
	free(e->digest);
	free(e->raw_digest);
	free(e->manifest_digest);
	free(e->platform_digest);
	free(e->reference);
	free(e->format);
	free(e->platform);
	free(e->etag);
	free(e->last_modified);
	memset(e, 0, sizeof(*e));
}

void cache_entry_copy(struct cache_entry *d, const struct cache_entry *s)
{
	*d = *s;
	d->source = xstrdup(s->source);
	d->digest = xstrdup(s->digest);
	d->raw_digest = xstrdup(s->raw_digest);
	d->manifest_digest = xstrdup(s->manifest_digest);
	d->platform_digest = xstrdup(s->platform_digest);
	d->reference = xstrdup(s->reference);
	d->format = xstrdup(s->format);
	d->platform = xstrdup(s->platform);
	d->etag = xstrdup(s->etag);
	d->last_modified = xstrdup(s->last_modified);
}

/* mkdir -p with 0700 for what we create; every component must be a real folder. */
static int mkdirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static int open_dir_at(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

enum wp_err cache_open(const char *root, struct cache **out, struct error *err)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	struct stat st;
	int *fds[] = { NULL, &c->blobfd, &c->indexfd, &c->tmpfd, &c->lockfd };

	c->root = xstrdup(root);
	c->rootfd = c->blobfd = c->indexfd = c->tmpfd = c->lockfd = -1;
	if (mkdirs(root) < 0) {
		error_set(err, WP_EFAIL, "cannot create cache folder %s: %s", root, strerror(errno));
		goto fail;
	}
	if (lstat(root, &st) == 0 && S_ISLNK(st.st_mode))
		notef("cache folder %s is a symlink; following it for the root only", root);
	/* printed paths are absolute, whatever -C said */
	char *abs = realpath(root, NULL);
	if (abs) {
		free(c->root);
		c->root = abs;
	}
	c->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->rootfd < 0) {
		error_set(err, WP_EFAIL, "cannot open cache folder %s: %s", root, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		int fd = open_dir_at(c->rootfd, subdirs[i]);
		if (fd < 0) {
			error_set(err, WP_EFAIL, "cannot open cache folder %s/%s: %s%s", root, subdirs[i],
				  strerror(errno), errno == ELOOP || errno == ENOTDIR ? " (a symlink?)" : "");
			goto fail;
		}
		if (fds[i])
			*fds[i] = fd;
		else
			close(fd);
	}
	*out = c;
	return WP_OK;
fail:
	cache_free(c);
	*out = NULL;
	return err->code;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	int fds[] = { c->rootfd, c->blobfd, c->indexfd, c->tmpfd, c->lockfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(c->root);
	free(c);
}

const char *cache_root(const struct cache *c)
{
	return c->root;
}

char *cache_blob_path(const struct cache *c, const char *hex)
{
	return xasprintf("%s/blobs/sha256/%s", c->root, hex);
}

static void key_of(const char *source, char key[65])
{
	sha256_hex(source, strlen(source), key);
}

static char *read_small_at(int dirfd, const char *name, size_t max)
{
	struct strbuf sb;
	char buf[4096];
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	strbuf_init(&sb);
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len <= max)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	if (n < 0 || sb.len > max) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

static char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static int64_t json_int(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Parses a record; false when it is not one of ours (debris or damage). */
static bool parse_record(const char *text, struct cache_entry *e)
{
	cJSON *o = cJSON_Parse(text);

	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return false;
	}
	e->source = json_str(o, "source");
	e->digest = json_str(o, "digest");
	e->size = (uint64_t)json_int(o, "size");
	e->raw_digest = json_str(o, "raw_digest");
	e->manifest_digest = json_str(o, "manifest_digest");
	e->platform_digest = json_str(o, "platform_digest");
	e->reference = json_str(o, "reference");
	e->format = json_str(o, "format");
	e->platform = json_str(o, "platform");
	e->etag = json_str(o, "etag");
	e->last_modified = json_str(o, "last_modified");
	e->created = json_int(o, "created");
	e->last_used = json_int(o, "last_used");
	e->checked = json_int(o, "checked");
	cJSON_Delete(o);
	if (!e->source || !e->digest || !str_starts_with(e->digest, "sha256:") || !is_sha256_hex(e->digest + 7)) {
		cache_entry_release(e);
		return false;
	}
	return true;
}

enum wp_err cache_lookup(struct cache *c, const char *source, struct cache_entry *e,
			 struct error *err)
{
	char key[65], name[80];
	char *text;
	bool ok;

	key_of(source, key);
	snprintf(name, sizeof(name), "%s.json", key);
	text = read_small_at(c->indexfd, name, 1 << 20);
	if (!text)
		return error_set(err, WP_ENOTFOUND, "not in the cache");
	ok = parse_record(text, e) && strcmp(e->source, source) == 0;
	free(text);
	if (!ok) {
		cache_entry_release(e);
		return error_set(err, WP_ENOTFOUND, "not in the cache");
	}
	return WP_OK;
}

struct find_ctx {
	const char *digest;
	struct cache_entry *out;
	bool found;
};

static bool find_cb(const struct cache_entry *e, void *ud)
{
	struct find_ctx *f = ud;
	const char *d = f->digest;

	if ((e->digest && strcmp(e->digest, d) == 0) ||
	    (e->raw_digest && strcmp(e->raw_digest, d) == 0) ||
	    (e->manifest_digest && strcmp(e->manifest_digest, d) == 0) ||
	    (e->platform_digest && strcmp(e->platform_digest, d) == 0)) {
		f->found = true;
		cache_entry_copy(f->out, e);
		return false;
	}
	return true;
}

enum wp_err cache_find_digest(struct cache *c, const char *digest, struct cache_entry *e,
			      struct error *err)
{
	struct find_ctx f = { digest, e, false };
	enum wp_err rc;

	memset(e, 0, sizeof(*e));
	if ((rc = cache_each(c, find_cb, &f, err)) != WP_OK)
		return rc;
	if (!f.found)
		return error_set(err, WP_ENOTFOUND, "%s is not in the cache", digest);
	return WP_OK;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

/* Writes data to DIR/name through a temp file and rename. */
static int write_atomic_at(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[128];
	int fd, rc = -1;

	for (int i = 0;; i++) {
		snprintf(tmp, sizeof(tmp), ".%s.%ld.%08lx", name, (long)getpid(), (unsigned long)random());
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || i == 100)
			return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto out;
	rc = 0;
out:
	close(fd);
	if (rc < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
	}
	return rc;
}

enum wp_err cache_put(struct cache *c, const struct cache_entry *e, struct error *err)
{
	char key[65], name[80];
	cJSON *o = cJSON_CreateObject();
	char *text;
	enum wp_err rc = WP_OK;

	add_str(o, "source", e->source);
	add_str(o, "digest", e->digest);
	cJSON_AddNumberToObject(o, "size", (double)e->size);
	add_str(o, "raw_digest", e->raw_digest);
	add_str(o, "manifest_digest", e->manifest_digest);
	add_str(o, "platform_digest", e->platform_digest);
	add_str(o, "reference", e->reference);
	add_str(o, "format", e->format);
	add_str(o, "platform", e->platform);
	add_str(o, "etag", e->etag);
	add_str(o, "last_modified", e->last_modified);
	cJSON_AddNumberToObject(o, "created", (double)e->created);
	cJSON_AddNumberToObject(o, "last_used", (double)e->last_used);
	cJSON_AddNumberToObject(o, "checked", (double)e->checked);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	key_of(e->source, key);
	snprintf(name, sizeof(name), "%s.json", key);
	if (write_atomic_at(c->indexfd, name, text, strlen(text)) < 0)
		rc = error_set(err, WP_EFAIL, "cannot write the cache index in %s: %s", c->root,
			       strerror(errno));
	cJSON_free(text);
	return rc;
}

enum wp_err cache_forget(struct cache *c, const char *source, struct error *err)
{
	char key[65], name[80];

	key_of(source, key);
	snprintf(name, sizeof(name), "%s.json", key);
	if (unlinkat(c->indexfd, name, 0) < 0) {
		if (errno == ENOENT)
			return error_set(err, WP_ENOTFOUND, "%s is not in the cache", source);
		return error_set(err, WP_EFAIL, "cannot remove a cache record: %s", strerror(errno));
	}
	return WP_OK;
}

enum wp_err cache_each(struct cache *c, bool (*fn)(const struct cache_entry *e, void *ud),
		       void *ud, struct error *err)
{
	int fd = dup(c->indexfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return error_set(err, WP_EFAIL, "cannot read the cache index: %s", strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct cache_entry e;
		char *text;
		bool ok, more = true;

		if (de->d_name[0] == '.' || !str_ends_with(de->d_name, ".json"))
			continue;
		if (!(text = read_small_at(c->indexfd, de->d_name, 1 << 20)))
			continue;
		ok = parse_record(text, &e);
		free(text);
		if (ok) {
			more = fn(&e, ud);
			cache_entry_release(&e);
		}
		if (!more)
			break;
	}
	closedir(d);
	return WP_OK;
}

/* Removes a file or a whole folder (a planted one: no symlink is followed). */
static void remove_tree_at(int dirfd, const char *name, int depth)
{
	int fd;
	DIR *d;
	struct dirent *de;

	if (unlinkat(dirfd, name, 0) == 0 || errno != EISDIR || depth > 16)
		return;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				remove_tree_at(fd, de->d_name, depth + 1);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Moves what is not a module file out of blobs/, for gc to remove. */
static void discard_blob_name(struct cache *c, const char *hex)
{
	char junk[128];

	snprintf(junk, sizeof(junk), "junk-%.16s-%ld-%08lx", hex, (long)getpid(), (unsigned long)random());
	if (renameat(c->blobfd, hex, c->tmpfd, junk) < 0)
		remove_tree_at(c->blobfd, hex, 0);
}

static enum wp_err open_blob(struct cache *c, const char *hex, uint64_t size, bool verify,
			     int *out, struct error *err)
{
	struct stat st, again;
	char got[65];
	uint64_t n = 0;
	/* O_NONBLOCK: a FIFO planted here must not hang us */
	int fd = openat(c->blobfd, hex, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*out = -1;
	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, WP_ENOTFOUND, "sha256:%s is not in the cache", hex);
		if (errno == ELOOP) {
			/* planted: never followed; dropped like a corrupt entry */
			unlinkat(c->blobfd, hex, 0);
			return error_set(err, WP_EVERIFY, "cached module sha256:%s was a symlink (removed)", hex);
		}
		return error_set(err, WP_EFAIL, "cannot open sha256:%s in the cache: %s", hex,
				 strerror(errno));
	}
	if (flock(fd, LOCK_SH) < 0 || fstat(fd, &st) < 0)
		goto gone;
	/* gc may have removed the file between our open and our lock */
	if (fstatat(c->blobfd, hex, &again, AT_SYMLINK_NOFOLLOW) < 0 || again.st_ino != st.st_ino ||
	    again.st_dev != st.st_dev)
		goto gone;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		discard_blob_name(c, hex);
		return error_set(err, WP_EVERIFY, "cached module sha256:%s was not a regular file (removed)",
				 hex);
	}
	if ((size != UINT64_MAX && (uint64_t)st.st_size != size) ||
	    (verify && (sha256_fd(fd, got, &n) < 0 || strcmp(got, hex) != 0))) {
		close(fd);
		unlinkat(c->blobfd, hex, 0);
		return error_set(err, WP_EVERIFY, "cached module sha256:%s was corrupt (removed)", hex);
	}
	lseek(fd, 0, SEEK_SET);
	*out = fd;
	return WP_OK;
gone:
	close(fd);
	return error_set(err, WP_ENOTFOUND, "sha256:%s is not in the cache", hex);
}

enum wp_err cache_open_blob(struct cache *c, const char *hex, uint64_t size, int *out,
			    struct error *err)
{
	return open_blob(c, hex, size, true, out, err);
}

enum wp_err cache_open_published(struct cache *c, const char *hex, uint64_t size, int *out,
				 struct error *err)
{
	return open_blob(c, hex, size, false, out, err);
}

enum wp_err cache_tmp_create(struct cache *c, struct cache_tmp *t, struct error *err)
{
	char name[96];
	int tries = 0;

again:
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "%ld-%08lx.part", (long)getpid(), (unsigned long)random());
		t->fd = openat(c->tmpfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (t->fd >= 0)
			break;
		if (errno != EEXIST)
			break;
	}
	if (t->fd < 0) {
		t->path = NULL;
		return error_set(err, WP_EFAIL, "cannot create a file in %s/tmp: %s", c->root,
				 strerror(errno));
	}
	/* the lock says "a live process writes this"; gc removes unlocked debris,
	 * and may have done so between our create and our lock: then start over */
	struct stat a, b;
	if (flock(t->fd, LOCK_EX) < 0 || fstat(t->fd, &a) < 0 ||
	    fstatat(c->tmpfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino) {
		close(t->fd);
		t->fd = -1;
		if (++tries < 100)
			goto again;
		return error_set(err, WP_EFAIL, "cannot create a file in %s/tmp", c->root);
	}
	t->path = xasprintf("%s/tmp/%s", c->root, name);
	cleanup_add(t->path);
	return WP_OK;
}

enum wp_err cache_tmp_publish(struct cache *c, struct cache_tmp *t, const char *hex,
			      struct error *err)
{
	const char *name = strrchr(t->path, '/') + 1;

	/* Keep a shared lock across the rename, until the caller has opened the
	 * blob itself: a published blob has no record yet, and gc must not take
	 * it for unreferenced. (Linux converts EX to SH without a gap.) */
	if (fsync(t->fd) < 0 || fchmod(t->fd, 0444) < 0 || flock(t->fd, LOCK_SH) < 0)
		return error_set(err, WP_EFAIL, "cannot write %s: %s", t->path, strerror(errno));
	/* Never rename over a blob: gc deletes by name, and must find there the
	 * file it locked. An intact blob already there is used instead. */
	for (int tries = 0; tries < 5; tries++) {
		struct error tmp;
		int fd;

		if (renameat2(c->tmpfd, name, c->blobfd, hex, RENAME_NOREPLACE) == 0) {
			fsync(c->blobfd);
			cleanup_remove(t->path);
			free(t->path);
			t->path = NULL; /* published: release closes, and removes nothing */
			return WP_OK;
		}
		if (errno != EEXIST)
			break;
		error_init(&tmp);
		switch (open_blob(c, hex, UINT64_MAX, true, &fd, &tmp)) {
		case WP_OK:
			/* the same bytes are there, intact: hold those instead */
			close(t->fd);
			t->fd = fd;
			unlinkat(c->tmpfd, name, 0);
			cleanup_remove(t->path);
			free(t->path);
			t->path = NULL;
			return WP_OK;
		case WP_EFAIL:
			return error_set(err, WP_EFAIL, "%s", tmp.msg);
		default:
			continue; /* gone, or corrupt and removed: try the rename again */
		}
	}
	return error_set(err, WP_EFAIL, "cannot publish sha256:%s in the cache: %s", hex, strerror(errno));
}

void cache_tmp_release(struct cache_tmp *t)
{
	if (t->path) {
		unlink(t->path);
		cleanup_remove(t->path);
	}
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	t->path = NULL;
	t->fd = -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

enum wp_err cache_lock_source(struct cache *c, const char *source, double deadline, int *out,
			      bool *waited, struct error *err)
{
	char key[65], name[80];
	struct stat a, b;
	int fd = -1;

	key_of(source, key);
	snprintf(name, sizeof(name), "%s.lock", key);
	*waited = false;
	for (int tries = 0;; tries++) {
		fd = openat(c->lockfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd < 0 && (errno == ELOOP || errno == EISDIR || errno == ENXIO) && tries < 3) {
			remove_tree_at(c->lockfd, name, 0); /* planted: not ours to follow */
			continue;
		}
		if (fd < 0)
			return error_set(err, WP_EFAIL, "cannot create a lock in %s/locks: %s", c->root,
					 strerror(errno));
		while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK && errno != EINTR) {
				close(fd);
				return error_set(err, WP_EFAIL, "cannot lock %s/locks/%s: %s", c->root, name,
						 strerror(errno));
			}
			if (!*waited)
				notef("waiting for another wasmpull pulling the same source");
			*waited = true;
			if (deadline > 0 && now_mono() >= deadline) {
				close(fd);
				return error_set(err, WP_ENET,
						 "timed out waiting for another pull of the same source");
			}
			sleep_ms(50);
		}
		/* gc removes lock files no one holds: ours must still be the one named */
		if (fstat(fd, &a) == 0 && fstatat(c->lockfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			break;
		close(fd);
		if (tries > 100)
			return error_set(err, WP_EFAIL, "cannot hold a lock in %s/locks", c->root);
	}
	*out = fd;
	return WP_OK;
}

void cache_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

bool cache_remove_blob(struct cache *c, const char *hex, uint64_t *freed)
{
	struct stat st;
	int fd = openat(c->blobfd, hex, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool ok = false;

	if (fd < 0) {
		/* a symlink or other debris planted here: remove the name itself */
		if (errno == ELOOP && fstatat(c->blobfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    unlinkat(c->blobfd, hex, 0) == 0)
			return true;
		return false;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		discard_blob_name(c, hex);
		return true;
	}
	/* delete the name only while it still names the file we hold locked */
	struct stat now;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    fstatat(c->blobfd, hex, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == st.st_ino &&
	    now.st_dev == st.st_dev && unlinkat(c->blobfd, hex, 0) == 0) {
		if (freed)
			*freed += (uint64_t)st.st_size;
		ok = true;
	}
	close(fd);
	return ok;
}

void cache_sweep_debris(struct cache *c, bool dry_run, uint64_t *freed, uint64_t *count)
{
	int dirs[] = { c->tmpfd, c->indexfd, c->lockfd };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int fd = dup(dirs[i]);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;

		if (!d) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		rewinddir(d);
		while ((de = readdir(d))) {
			struct stat st;
			bool debris;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(dirs[i], de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			/* in index/: only our own interrupted record writes, if old */
			if (dirs[i] == c->indexfd)
				debris = de->d_name[0] == '.' && st.st_mtime < time(NULL) - 3600;
			else
				debris = true;
			if (!debris)
				continue;
			if (S_ISREG(st.st_mode) && dirs[i] != c->indexfd) {
				/* a writer or a puller holds its file locked; the rest is debris */
				int f = openat(dirs[i], de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
				if (f < 0)
					continue;
				bool held = flock(f, LOCK_EX | LOCK_NB) < 0;
				if (!held && !dry_run)
					unlinkat(dirs[i], de->d_name, 0);
				close(f);
				if (held)
					continue;
			} else if (!dry_run) {
				remove_tree_at(dirs[i], de->d_name, 0);
			}
			*freed += S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
			(*count)++;
		}
		closedir(d);
	}
}

enum wp_err cache_each_blob(struct cache *c,
			    bool (*fn)(const char *hex, uint64_t size, int64_t mtime, void *ud),
			    void *ud, struct error *err)
{
	int fd = dup(c->blobfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return error_set(err, WP_EFAIL, "cannot read %s/blobs: %s", c->root, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(c->blobfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!fn(de->d_name, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, st.st_mtime, ud))
			break;
	}
	closedir(d);
	return WP_OK;
}
