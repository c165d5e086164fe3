/*
 * Unboxing a downloaded file down to one Wasm module, with libarchive (the
 * only file that includes it). Archive data is hostile: entries are only ever
 * streamed into out_fd through a fixed buffer (never written to the paths
 * they name), the module is bounded by max_size, and a compressed stream is
 * bounded too, so a gzip bomb stops early instead of burning CPU.
 * Nested compression (.gz of .tar.gz) needs no loop here: libarchive stacks
 * one decompressor per layer and we only cap how many there are.
 */
#include "unbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "parse.h"
#include "util.h"
#include "wasm.h"

enum {
	BUFSIZE = 64 * 1024,
	MAX_FILTERS = 4,   /* the pseudo-filter of the fd plus 3 compressions */
	MAX_NAMES = 5,     /* entry names quoted in one message */
};

struct unbox {
	struct archive *a;
	int out_fd;
	uint64_t max_size;
	/* decompressed bytes the archive may span; 0 when it is not compressed */
	uint64_t stream_cap;
	unsigned char *buf;
	struct error *err;
};

static ssize_t pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* "not a Wasm module (starts with 3c 21 44 4f)" after an optional subject. */
static enum wp_err not_wasm(struct error *err, const char *subject,
			    const unsigned char *head, size_t n)
{
	char hex[16] = "";
	size_t i, len = 0;

	for (i = 0; i < n && i < 4; i++)
		len += (size_t)snprintf(hex + len, sizeof(hex) - len, "%s%02x",
					i ? " " : "", head[i]);
	if (n == 0)
		return error_set(err, WP_EVERIFY, "%s%snot a Wasm module (empty)",
				 subject ? subject : "", subject ? " is " : "");
	return error_set(err, WP_EVERIFY, "%s%snot a Wasm module (starts with %s)",
			 subject ? subject : "", subject ? " is " : "", hex);
}

static enum wp_err archive_fail(struct unbox *u)
{
	const char *msg = archive_error_string(u->a);

	return error_set(u->err, WP_EVERIFY, "corrupt archive: %s",
			 msg ? msg : "unknown error");
}

static enum wp_err too_big(struct unbox *u)
{
	char size[32];

	format_size(u->max_size, size, sizeof(size));
	return error_set(u->err, WP_EVERIFY, "module exceeds --max-size %s", size);
}

static enum wp_err check_stream(struct unbox *u)
{
	char size[32];

	if (!u->stream_cap || (uint64_t)archive_filter_bytes(u->a, 0) <= u->stream_cap)
		return WP_OK;
	format_size(u->stream_cap, size, sizeof(size));
	return error_set(u->err, WP_EVERIFY, "archive exceeds %s once decompressed", size);
}

/* Archive names go into one-line messages: bounded, control bytes made harmless. */
static void add_printable(struct strbuf *sb, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i < 128; i++) {
		unsigned char c = (unsigned char)name[i];
		strbuf_add(sb, c < 0x20 || c == 0x7f ? "?" : &name[i], 1);
	}
}

static void add_name(struct strbuf *sb, const char *name, size_t *count)
{
	if (++*count > MAX_NAMES) {
		if (*count == MAX_NAMES + 1)
			strbuf_addstr(sb, ", ...");
		return;
	}
	if (sb->len)
		strbuf_addstr(sb, ", ");
	add_printable(sb, name);
}

/*
 * Streams the current entry into out_fd from offset 0. An entry larger than
 * max_size sets *over and stops there: the caller decides whether that is
 * fatal or the rest is to be drained (a later plugin.wasm may win).
 */
static enum wp_err copy_entry(struct unbox *u, bool *over)
{
	uint64_t total = 0;
	enum wp_err ret;
	ssize_t n, w;
	size_t done;

	*over = false;
	if (ftruncate(u->out_fd, 0) < 0)
		return error_set(u->err, WP_EFAIL, "cannot write the module: %s", strerror(errno));
	for (;;) {
		n = archive_read_data(u->a, u->buf, BUFSIZE);
		if (n < 0)
			return archive_fail(u);
		if (n == 0)
			break;
		if (total + (uint64_t)n > u->max_size) {
			*over = true;
			if (ftruncate(u->out_fd, 0) < 0)
				return error_set(u->err, WP_EFAIL, "cannot write the module: %s",
						 strerror(errno));
			return WP_OK;
		}
		if ((ret = check_stream(u)) != WP_OK)
			return ret;
		for (done = 0; done < (size_t)n; done += (size_t)w) {
			w = pwrite(u->out_fd, u->buf + done, (size_t)n - done,
				   (off_t)(total + done));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return error_set(u->err, WP_EFAIL, "cannot write the module: %s",
						 strerror(errno));
		}
		total += (uint64_t)n;
	}
	return WP_OK;
}

/* Moves past an entry we do not want, within the stream cap. */
static enum wp_err drain_entry(struct unbox *u)
{
	const void *block;
	size_t size;
	la_int64_t off;
	enum wp_err ret;
	int r;

	if (!u->stream_cap)
		return archive_read_data_skip(u->a) == ARCHIVE_OK ? WP_OK : archive_fail(u);
	for (;;) {
		r = archive_read_data_block(u->a, &block, &size, &off);
		if (r == ARCHIVE_EOF)
			return WP_OK;
		if (r < ARCHIVE_WARN)
			return archive_fail(u);
		if ((ret = check_stream(u)) != WP_OK)
			return ret;
	}
}

/* Base name of an entry path, ignoring trailing slashes of directories. */
static bool base_is(const char *path, const char *name)
{
	size_t len = strlen(path), n = strlen(name);

	while (len > 0 && path[len - 1] == '/')
		len--;
	if (len < n || memcmp(path + len - n, name, n) != 0)
		return false;
	return len == n || path[len - n - 1] == '/';
}

static bool is_wasm_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return str_ends_with(path, ".wasm") && strcmp(slash ? slash + 1 : path, ".wasm") != 0;
}

static enum wp_err from_tar(struct unbox *u, struct archive_entry *entry, char **chosen)
{
	struct strbuf wasms, plugins;
	size_t n_wasms = 0, n_plugins = 0;
	bool over = false, wasm_over = false;
	enum wp_err ret = WP_OK;
	int r = ARCHIVE_OK;

	strbuf_init(&wasms);
	strbuf_init(&plugins);
	for (; r != ARCHIVE_EOF; r = archive_read_next_header(u->a, &entry)) {
		const char *path;
		bool regular;

		if (r < ARCHIVE_WARN) {
			ret = archive_fail(u);
			goto out;
		}
		path = archive_entry_pathname(entry);
		if (!path)
			path = archive_entry_pathname_utf8(entry);
		if (!path)
			path = "";
		regular = archive_entry_filetype(entry) == AE_IFREG &&
			  !archive_entry_hardlink(entry);
		if (base_is(path, "plugin.wasm")) {
			if (!regular) {
				ret = error_set(u->err, WP_EVERIFY,
						"plugin.wasm in the archive is not a regular file");
				goto out;
			}
			add_name(&plugins, path, &n_plugins);
			if (n_plugins > 1) {
				ret = error_set(u->err, WP_EVERIFY,
						"ambiguous archive: several plugin.wasm (%s)",
						plugins.buf);
				goto out;
			}
			if ((ret = copy_entry(u, &over)) != WP_OK)
				goto out;
			if (over) {
				ret = too_big(u);
				goto out;
			}
			free(*chosen);
			*chosen = xstrdup(path);
			continue;
		}
		if (regular && is_wasm_name(path)) {
			add_name(&wasms, path, &n_wasms);
			if (n_plugins == 0 && n_wasms == 1) {
				if ((ret = copy_entry(u, &wasm_over)) != WP_OK)
					goto out;
				if (wasm_over && (ret = drain_entry(u)) != WP_OK)
					goto out;
				*chosen = xstrdup(path);
				continue;
			}
		}
		if ((ret = drain_entry(u)) != WP_OK)
			goto out;
	}
	if (n_plugins)
		goto out;
	if (n_wasms == 0)
		ret = error_set(u->err, WP_EVERIFY, "no .wasm file in the archive");
	else if (n_wasms > 1)
		ret = error_set(u->err, WP_EVERIFY,
				"%zu .wasm files in the archive and no plugin.wasm (%s)",
				n_wasms, wasms.buf);
	else if (wasm_over)
		ret = too_big(u);
out:
	strbuf_release(&plugins);
	strbuf_release(&wasms);
	return ret;
}

static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();

	if (!a)
		abort();
	/* Listed rather than _all: that would also run external programs
	 * (lrzip, lzop, grzip) on untrusted input. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_raw(a);
	return a;
}

enum wp_err unbox_fd(int in_fd, int out_fd, uint64_t max_size, int *unboxed,
		     struct error *err)
{
	struct unbox u = { NULL, out_fd, max_size, 0, NULL, err };
	struct archive_entry *entry = NULL;
	unsigned char head[8];
	char *chosen = NULL, *subject = NULL;
	enum wp_err ret = WP_OK;
	bool over = false;
	ssize_t n;
	int r;

	*unboxed = 0;
	n = pread_full(in_fd, head, sizeof(head), 0);
	if (n < 0)
		return error_set(err, WP_EFAIL, "cannot read: %s", strerror(errno));
	if (wasm_sniff(head, (size_t)n) != WASM_NONE)
		return WP_OK;
	if (n == 0)
		return not_wasm(err, NULL, head, 0);
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return error_set(err, WP_EFAIL, "cannot read: %s", strerror(errno));

	u.a = reader_new();
	u.buf = xmalloc(BUFSIZE);
	if (archive_read_open_fd(u.a, in_fd, BUFSIZE) != ARCHIVE_OK) {
		ret = archive_fail(&u);
		goto out;
	}
	r = archive_read_next_header(u.a, &entry);
	if (r == ARCHIVE_EOF) {
		ret = error_set(err, WP_EVERIFY, "no .wasm file in the archive");
		goto out;
	}
	if (r < ARCHIVE_WARN) {
		ret = archive_fail(&u);
		goto out;
	}
	/* "raw" accepts anything: without a decompressor it was not an archive */
	if (archive_format(u.a) == ARCHIVE_FORMAT_RAW && archive_filter_count(u.a) <= 1) {
		ret = not_wasm(err, NULL, head, (size_t)n);
		goto out;
	}
	if (archive_filter_count(u.a) > MAX_FILTERS) {
		ret = error_set(err, WP_EVERIFY, "too many nested compression layers");
		goto out;
	}
	if (archive_filter_count(u.a) > 1) {
		/* room for other entries of a layer, but not for a bomb */
		u.stream_cap = max_size > (UINT64_MAX - (1 << 20)) / 4 ?
			UINT64_MAX : max_size * 4 + (1 << 20);
	}
	if (archive_format(u.a) == ARCHIVE_FORMAT_RAW) {
		if ((ret = copy_entry(&u, &over)) != WP_OK)
			goto out;
		if (over) {
			ret = too_big(&u);
			goto out;
		}
		subject = xstrdup("the decompressed data");
	} else {
		struct strbuf sb;

		if ((ret = from_tar(&u, entry, &chosen)) != WP_OK)
			goto out;
		strbuf_init(&sb);
		add_printable(&sb, chosen);
		strbuf_addstr(&sb, " in the archive");
		subject = strbuf_detach(&sb);
	}

	n = pread_full(out_fd, head, sizeof(head), 0);
	if (n < 0) {
		ret = error_set(err, WP_EFAIL, "cannot read the module: %s", strerror(errno));
		goto out;
	}
	if (wasm_sniff(head, (size_t)n) == WASM_NONE) {
		ret = not_wasm(err, subject, head, (size_t)n);
		goto out;
	}
	if (lseek(out_fd, 0, SEEK_SET) < 0) {
		ret = error_set(err, WP_EFAIL, "cannot read the module: %s", strerror(errno));
		goto out;
	}
	*unboxed = 1;
out:
	free(subject);
	free(chosen);
	free(u.buf);
	if (u.a)
		archive_read_free(u.a);
	return ret;
}

const char *unbox_backend_version(void)
{
	return archive_version_details();
}
