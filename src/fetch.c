/* Downloads into the cache: a temp file that hashes what it is given, then
 * verification, unboxing and publication under the module's sha256. */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "digest.h"
#include "unbox.h"
#include "wasm.h"

/* 0666 less the umask, as a file created by the user would get. */
static mode_t file_mode(void)
{
	mode_t m = umask(0);
	umask(m);
	return 0666 & ~m;
}

struct fetch {
	struct cache *cache;
	struct cache_tmp raw, mod;
	struct sha256 *h;
	uint64_t size, max_size;
	int write_errno;
};

enum wp_err fetch_begin(struct cache *c, uint64_t max_size, struct fetch **out, struct error *err)
{
	struct fetch *f = xcalloc(1, sizeof(*f));

	f->cache = c;
	f->max_size = max_size;
	f->raw.fd = f->mod.fd = -1;
	if (cache_tmp_create(c, &f->raw, err) != WP_OK) {
		fetch_free(f);
		*out = NULL;
		return err->code;
	}
	f->h = sha256_new();
	*out = f;
	return WP_OK;
}

void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	cache_tmp_release(&f->raw);
	cache_tmp_release(&f->mod);
	sha256_free(f->h);
	free(f);
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool sink_write(void *ud, const void *data, size_t len)
{
	struct fetch *f = ud;

	if (!write_all(f->raw.fd, data, len)) {
		f->write_errno = errno;
		return false;
	}
	sha256_update(f->h, data, len);
	f->size += len;
	return true;
}

static void sink_reset(void *ud)
{
	struct fetch *f = ud;

	if (ftruncate(f->raw.fd, 0) < 0 || lseek(f->raw.fd, 0, SEEK_SET) < 0)
		f->write_errno = errno;
	sha256_reset(f->h);
	f->size = 0;
}

uint64_t fetch_limit(const struct fetch *f)
{
	return f->max_size ? f->max_size : UINT64_MAX;
}

struct http_sink fetch_sink(struct fetch *f)
{
	return (struct http_sink){ sink_write, sink_reset, f };
}

static enum wp_err fetch_write(struct fetch *f, const void *data, size_t len, struct error *err)
{
	if (f->max_size && f->size + len > f->max_size)
		return error_set(err, WP_EVERIFY, "larger than the size limit (%llu bytes)",
				 (unsigned long long)f->max_size);
	if (!sink_write(f, data, len))
		return error_set(err, WP_EFAIL, "cannot write to the cache: %s", strerror(f->write_errno));
	return WP_OK;
}

/* Walks the module's section framing on disk: a file cut short or spliced
 * from two versions rarely ends exactly on a section boundary. */
static enum wp_err check_framing(int fd, uint64_t size, struct error *err)
{
	unsigned char h[6];
	uint64_t off = 8, len;

	while (off < size) {
		ssize_t n = pread(fd, h, sizeof(h), (off_t)off);
		int hl = n > 0 ? wasm_section_header(h, (size_t)n, &len) : -1;
		if (hl < 0 || len > size - off - (uint64_t)hl)
			return error_set(err, WP_EVERIFY, "not a complete Wasm module (section at byte %llu %s)",
					 (unsigned long long)off, hl < 0 ? "is malformed" : "runs past the end");
		off += (uint64_t)hl + len;
	}
	return WP_OK;
}

enum wp_err fetch_finish(struct fetch *f, const struct fetch_expect *exp, struct fetch_result *res,
			 struct error *err)
{
	struct cache_tmp *module = &f->raw;
	unsigned char head[8];
	int unboxed = 0;
	enum wp_err rc;

	memset(res, 0, sizeof(*res));
	if (f->write_errno)
		return error_set(err, WP_EFAIL, "cannot write to the cache: %s", strerror(f->write_errno));
	sha256_final_hex(f->h, res->raw_hex);
	res->raw_size = f->size;
	if (exp->raw_size >= 0 && (uint64_t)exp->raw_size != f->size)
		return error_set(err, WP_EVERIFY, "size mismatch: expected %lld bytes, got %llu",
				 (long long)exp->raw_size, (unsigned long long)f->size);
	if (exp->raw_hex && strcmp(exp->raw_hex, res->raw_hex) != 0)
		return error_set(err, WP_EVERIFY, "digest mismatch: expected sha256:%s, got sha256:%s",
				 exp->raw_hex, res->raw_hex);
	memcpy(res->hex, res->raw_hex, sizeof(res->hex));
	res->size = res->raw_size;

	if (exp->unbox) {
		if ((rc = cache_tmp_create(f->cache, &f->mod, err)) != WP_OK)
			return rc;
		if ((rc = unbox_fd(f->raw.fd, f->mod.fd, f->max_size, &unboxed, err)) != WP_OK)
			return rc;
		if (unboxed) {
			if (sha256_fd(f->mod.fd, res->hex, &res->size) < 0)
				return error_set(err, WP_EFAIL, "cannot read %s: %s", f->mod.path,
						 strerror(errno));
			module = &f->mod;
		}
	}
	if (!unboxed) {
		ssize_t n = pread(f->raw.fd, head, sizeof(head), 0);
		if (n < 0)
			return error_set(err, WP_EFAIL, "cannot read %s: %s", f->raw.path, strerror(errno));
		if (wasm_sniff(head, (size_t)n) == WASM_NONE) {
			if (n >= 4)
				return error_set(err, WP_EVERIFY,
						 "not a Wasm module (starts with %02x %02x %02x %02x)",
						 head[0], head[1], head[2], head[3]);
			return error_set(err, WP_EVERIFY, "not a Wasm module (%zd bytes)", n);
		}
	}
	res->unboxed = unboxed;
	if ((rc = check_framing(module->fd, res->size, err)) != WP_OK)
		return rc;
	if (exp->want_hex && strcmp(exp->want_hex, res->hex) != 0 &&
	    strcmp(exp->want_hex, res->raw_hex) != 0)
		return error_set(err, WP_EVERIFY, "sha256 mismatch: expected sha256:%s, got sha256:%s",
				 exp->want_hex, res->hex);
	return cache_tmp_publish(f->cache, module, res->hex, err);
}

enum wp_err fetch_url(struct http *h, const char *url, char *const *headers, size_t n_headers,
		      const char *const *extra, uint64_t max_size, struct fetch *f,
		      struct http_response *resp, struct error *err)
{
	enum wp_err rc;

	/* Any -H header may be a credential (PRIVATE-TOKEN, X-Api-Key…): none
	 * follows a redirect to another host, where signed URLs need none. */
	const char **origin = xcalloc(n_headers + 1, sizeof(*origin));
	for (size_t i = 0; i < n_headers; i++)
		origin[i] = headers[i];
	struct http_request req = {
		.url = url,
		.headers = extra,
		.origin_headers = origin,
		.follow = true,
		.resume = true,
		.max_body = max_size,
		.sink = fetch_sink(f),
	};
	if ((rc = http_request(h, &req, resp, err)) != WP_OK)
		goto out;
	switch (resp->status) {
	case 200:
	case 206: /* a resumed body the transport stitched */
	case 304:
		break;
	case 404:
	case 410:
		rc = error_set(err, WP_ENOTFOUND, "HTTP %ld (not found)", resp->status);
		break;
	case 401:
	case 403:
		rc = error_set(err, WP_EAUTH, "HTTP %ld (%s)", resp->status,
			       resp->status == 401 ? "authentication required" : "forbidden");
		break;
	default:
		/* a 3xx here had no usable Location; other 4xx are final failures */
		rc = error_set(err, resp->status / 100 == 3 ? WP_ENET : WP_EFAIL, "unexpected HTTP %ld",
			       resp->status);
	}
out:
	free(origin);
	return rc;
}

static enum wp_err fetch_fd(struct fetch *f, int fd, struct error *err)
{
	char buf[1 << 16];
	enum wp_err rc;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, WP_EFAIL, "cannot read: %s", strerror(errno));
		}
		if ((rc = fetch_write(f, buf, (size_t)n, err)) != WP_OK)
			return rc;
	}
	return WP_OK;
}

enum wp_err fetch_path(struct cache *c, const char *path, uint64_t max_size, struct fetch **out,
		       struct error *err)
{
	enum wp_err rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return error_set(err, errno == ENOENT ? WP_ENOTFOUND : WP_EFAIL, "cannot open %s: %s",
				 path, strerror(errno));
	if ((rc = fetch_begin(c, max_size, out, err)) == WP_OK)
		rc = fetch_fd(*out, fd, err);
	close(fd);
	return rc;
}

static enum wp_err copy_fd(int in, int out, const char *what, struct error *err)
{
	char buf[1 << 16];
	ssize_t n;

	if (lseek(in, 0, SEEK_SET) < 0)
		return error_set(err, WP_EFAIL, "cannot read the cached module: %s", strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, WP_EFAIL, "cannot read the cached module: %s", strerror(errno));
		}
		if (!write_all(out, buf, (size_t)n))
			return error_set(err, WP_EFAIL, "cannot write %s: %s", what, strerror(errno));
	}
	return WP_OK;
}

enum wp_err copy_to_path(int fd, const char *path, struct error *err)
{
	char *dup = NULL, *tmp = NULL;
	enum wp_err rc = WP_OK;
	struct stat st;
	int out = -1;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or a FIFO (-o /dev/null): written into, never replaced */
		if ((out = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			rc = error_set(err, WP_EFAIL, "cannot write %s: %s", path, strerror(errno));
			goto out;
		}
		rc = copy_fd(fd, out, path, err);
		goto out;
	}
	dup = xstrdup(path);
	char *dir = dirname(dup);
	tmp = xasprintf("%s/.%s.wasmpull-XXXXXX", dir, strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	if ((out = mkstemp(tmp)) < 0) {
		rc = error_set(err, WP_EFAIL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	cleanup_add(tmp);
	if ((rc = copy_fd(fd, out, path, err)) == WP_OK &&
	    (fchmod(out, file_mode()) < 0 || fsync(out) < 0 || rename(tmp, path) < 0))
		rc = error_set(err, WP_EFAIL, "cannot write %s: %s", path, strerror(errno));
	if (rc != WP_OK)
		unlink(tmp);
	cleanup_remove(tmp);
out:
	if (out >= 0 && close(out) < 0 && rc == WP_OK)
		rc = error_set(err, WP_EFAIL, "cannot write %s: %s", path, strerror(errno));
	free(tmp);
	free(dup);
	return rc;
}

enum wp_err copy_to_stdout(int fd, struct error *err)
{
	enum wp_err rc = copy_fd(fd, STDOUT_FILENO, "stdout", err);
	if (rc == WP_OK && fflush(stdout) != 0)
		rc = error_set(err, WP_EFAIL, "cannot write stdout: %s", strerror(errno));
	return rc;
}
