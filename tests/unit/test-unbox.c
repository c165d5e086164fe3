/*
 * Unboxing tests. Fixtures (gzip, zstd, xz, tar variants, links, bombs,
 * hostile names) are built at run time with libarchive's write API, in a
 * private temp folder, so the tests need no binary files in the tree.
 */
#include "unbox.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

#define MIB (1024 * 1024)

enum kind { REG = 1, SYM, HARD, DIR };

/* An entry: data, then `zeros` zero bytes (how bombs are made). */
struct ent {
	const char *name;
	enum kind kind;
	const char *data;
	size_t len;
	size_t zeros;
};

#define WASM "\0asm\1\0\0\0\0\4\3abc"
#define WASM_LEN 14
#define OTHER "\0asm\1\0\0\0\0\4\3xyz"
#define HTML "<!DOCTYPE html><html></html>"

/* filters: comma list, applied outermost last ("gzip,gzip" is .gz of .gz). */
static const struct fixture {
	const char *name;
	const char *format; /* NULL: the bytes of ents[0] as they are */
	const char *filters;
	struct ent ents[5];
	uint64_t max_size;
	enum wp_err code;
	int unboxed;
	const char *out;      /* expected module, WASM_LEN bytes */
	const char *msg;      /* expected substring of the error */
} cases[] = {
	{ "plain module", NULL, "", { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 0, NULL, NULL },
	{ "plain component", NULL, "",
	  { { "c", REG, "\0asm\x0d\0\1\0", 8, 0 } }, MIB, WP_OK, 0, NULL, NULL },
	{ "raw gz", "raw", "gzip", { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 1, WASM, NULL },
	{ "raw zstd", "raw", "zstd", { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 1, WASM, NULL },
	{ "raw xz", "raw", "xz", { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 1, WASM, NULL },
	{ "raw bzip2", "raw", "bzip2", { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 1, WASM, NULL },
	{ "gz of gz", "raw", "gzip,gzip", { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 1, WASM, NULL },
	{ "four compressions", "raw", "gzip,gzip,gzip,gzip",
	  { { "m", REG, WASM, WASM_LEN, 0 } }, MIB, WP_EVERIFY, 0, NULL, "too many nested" },
	{ "tar", "ustar", "",
	  { { "README", REG, "hi", 2, 0 }, { "plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "tar.gz ./dir/plugin.wasm", "pax", "gzip",
	  { { "./dir/", DIR, NULL, 0, 0 }, { "./dir/other.wasm", REG, OTHER, WASM_LEN, 0 },
	    { "./dir/plugin.wasm", REG, WASM, WASM_LEN, 0 },
	    { "./dir/later.wasm", REG, OTHER, WASM_LEN, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "tar.zst", "gnutar", "zstd", { { "plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "gz of tar.gz", "pax", "gzip,gzip", { { "plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "only .wasm", "pax", "gzip",
	  { { "lib/", DIR, NULL, 0, 0 }, { "lib/filter.wasm", REG, WASM, WASM_LEN, 0 },
	    { "lib/filter.wasm.sig", REG, "x", 1, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "two .wasm", "ustar", "",
	  { { "a.wasm", REG, WASM, WASM_LEN, 0 }, { "b/b.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "2 .wasm files in the archive and no plugin.wasm (a.wasm, b/b.wasm)" },
	{ "symlink plugin.wasm", "pax", "",
	  { { "real.wasm", REG, WASM, WASM_LEN, 0 }, { "plugin.wasm", SYM, "real.wasm", 0, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "plugin.wasm in the archive is not a regular file" },
	{ "hardlink plugin.wasm", "pax", "gzip",
	  { { "real.wasm", REG, WASM, WASM_LEN, 0 }, { "x/plugin.wasm", HARD, "real.wasm", 0, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "plugin.wasm in the archive is not a regular file" },
	{ "directory plugin.wasm", "ustar", "",
	  { { "plugin.wasm/", DIR, NULL, 0, 0 }, { "plugin.wasm/x.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "plugin.wasm in the archive is not a regular file" },
	{ "two plugin.wasm", "pax", "gzip",
	  { { "a/plugin.wasm", REG, WASM, WASM_LEN, 0 }, { "b/plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "several plugin.wasm (a/plugin.wasm, b/plugin.wasm)" },
	{ "dotdot name", "pax", "",
	  { { "../evil.wasm", REG, WASM, WASM_LEN, 0 } }, MIB, WP_OK, 1, WASM, NULL },
	{ "absolute name", "ustar", "gzip",
	  { { "/tmp/wasmpull-test-unbox-evil/plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "no .wasm", "ustar", "gzip", { { "README", REG, "hi", 2, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "no .wasm file in the archive" },
	{ "empty tar", "ustar", "", { { NULL, 0, NULL, 0, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "no .wasm file in the archive" },
	{ "html", NULL, "", { { "x", REG, HTML, sizeof(HTML) - 1, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "not a Wasm module (starts with 3c 21 44 4f)" },
	{ "empty file", NULL, "", { { "x", REG, "", 0, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "not a Wasm module (empty)" },
	{ "gz of html", "raw", "gzip", { { "x", REG, HTML, sizeof(HTML) - 1, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "decompressed data is not a Wasm module (starts with 3c 21 44 4f)" },
	{ "tar of a gz", "ustar", "", { { "plugin.wasm", REG, "\x1f\x8b\x08\x00\x00", 5, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "plugin.wasm in the archive is not a Wasm module (starts with 1f 8b 08 00)" },
	{ "gzip bomb", "raw", "gzip", { { "m", REG, WASM, WASM_LEN, 64 * MIB } },
	  MIB, WP_EVERIFY, 0, NULL, "module exceeds --max-size 1 MiB" },
	{ "big plugin.wasm", "pax", "gzip", { { "plugin.wasm", REG, WASM, WASM_LEN, 2 * MIB } },
	  MIB, WP_EVERIFY, 0, NULL, "module exceeds --max-size 1 MiB" },
	{ "big plugin.wasm, plain tar", "pax", "", { { "plugin.wasm", REG, WASM, WASM_LEN, 2 * MIB } },
	  MIB, WP_EVERIFY, 0, NULL, "module exceeds --max-size 1 MiB" },
	{ "tar.gz bomb", "pax", "gzip",
	  { { "zeros", REG, "", 0, 64 * MIB }, { "plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "archive exceeds 5 MiB once decompressed" },
	{ "big .wasm, then plugin.wasm", "pax", "gzip",
	  { { "big.wasm", REG, OTHER, WASM_LEN, 2 * MIB }, { "plugin.wasm", REG, WASM, WASM_LEN, 0 } },
	  MIB, WP_OK, 1, WASM, NULL },
	{ "only .wasm too big", "ustar", "",
	  { { "big.wasm", REG, OTHER, WASM_LEN, 2 * MIB }, { "README", REG, "hi", 2, 0 } },
	  MIB, WP_EVERIFY, 0, NULL, "module exceeds --max-size 1 MiB" },
	{ "exactly max_size", "raw", "gzip", { { "m", REG, WASM, WASM_LEN, 1024 - WASM_LEN } },
	  1024, WP_OK, 1, WASM, NULL },
	{ "one byte over", "raw", "gzip", { { "m", REG, WASM, WASM_LEN, 1025 - WASM_LEN } },
	  1024, WP_EVERIFY, 0, NULL, "module exceeds --max-size 1 KiB" },
};

static int tmpfd(void)
{
	char path[] = "tmp-XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static bool write_all(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n) == (ssize_t)n;
}

/* Writes one fixture into a fresh unlinked file; returns its fd. */
static int build(const struct fixture *f)
{
	static const char zeros[64 * 1024];
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	char *filters = NULL, *tok, *save = NULL;
	const struct ent *en;
	size_t left;
	int fd = tmpfd();

	if (fd < 0)
		return -1;
	if (!f->format) {
		if (!write_all(fd, f->ents[0].data, f->ents[0].len))
			goto fail;
		return fd;
	}
	a = archive_write_new();
	filters = xstrdup(f->filters);
	for (tok = strtok_r(filters, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (archive_write_add_filter_by_name(a, tok) != ARCHIVE_OK)
			goto fail;
	if (archive_write_set_format_by_name(a, f->format) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		goto fail;
	for (en = f->ents; en < f->ents + ARRAY_SIZE(f->ents) && en->name; en++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, en->name);
		archive_entry_set_perm(e, 0644);
		if (en->kind == SYM) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, en->data);
		} else if (en->kind == HARD) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, en->data);
		} else if (en->kind == DIR) {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)(en->len + en->zeros));
		}
		if (archive_write_header(a, e) != ARCHIVE_OK)
			goto fail;
		if (en->kind == REG) {
			if (en->len && archive_write_data(a, en->data, en->len) != (la_ssize_t)en->len)
				goto fail;
			for (left = en->zeros; left > 0;) {
				size_t n = left < sizeof(zeros) ? left : sizeof(zeros);
				if (archive_write_data(a, zeros, n) != (la_ssize_t)n)
					goto fail;
				left -= n;
			}
		}
		archive_entry_free(e);
		e = NULL;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	archive_write_free(a);
	free(filters);
	return fd;
fail:
	fprintf(stderr, "%s: cannot build: %s\n", f->name, a ? archive_error_string(a) : "write");
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	free(filters);
	close(fd);
	return -1;
}

static void test_case(const struct fixture *f)
{
	struct error err;
	char got[WASM_LEN + 1];
	int in = -1, out = -1, unboxed = -1;
	enum wp_err code;
	struct stat st;
	size_t want;
	double t0;

	error_init(&err);
	in = build(f);
	out = tmpfd();
	CHECK(in >= 0 && out >= 0, "%s: fixture", f->name);
	if (in < 0 || out < 0)
		goto out;
	/* junk in out_fd and a moved in_fd position must not matter */
	CHECK(write_all(out, "junk that must go away, longer than a module", 45), "junk");
	lseek(in, 3, SEEK_SET);
	t0 = now_mono();
	code = unbox_fd(in, out, f->max_size, &unboxed, &err);
	CHECK(now_mono() - t0 < 10, "%s: took %.1fs", f->name, now_mono() - t0);
	CHECK(code == f->code, "%s: code %d (%s), want %d", f->name, code, err.msg, f->code);
	CHECK(unboxed == f->unboxed, "%s: unboxed %d", f->name, unboxed);
	if (f->msg)
		CHECK(strstr(err.msg, f->msg) != NULL, "%s: message \"%s\", want \"%s\"", f->name,
		      err.msg, f->msg);
	else
		CHECK(err.msg[0] == '\0', "%s: message \"%s\"", f->name, err.msg);
	if (code != WP_OK || !f->out)
		goto out;
	/* the selected tar entries have no padding; a raw stream is all of ents[0] */
	want = strcmp(f->format, "raw") == 0 ? f->ents[0].len + f->ents[0].zeros : WASM_LEN;
	CHECK(fstat(out, &st) == 0 && st.st_size == (off_t)want, "%s: out is %lld bytes",
	      f->name, (long long)st.st_size);
	CHECK(lseek(out, 0, SEEK_CUR) == 0, "%s: out not rewound", f->name);
	CHECK(pread(out, got, WASM_LEN, 0) == WASM_LEN && memcmp(got, f->out, WASM_LEN) == 0,
	      "%s: wrong module bytes", f->name);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

int main(void)
{
	char dir[] = "/tmp/test-unbox-XXXXXX";
	char *sub = NULL;
	size_t i;

	/* fixtures live in dir/sub, so "../evil.wasm" would land in dir */
	CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	sub = xasprintf("%s/sub", dir);
	CHECK(mkdir(sub, 0700) == 0 && chdir(sub) == 0, "chdir: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		test_case(&cases[i]);
	CHECK(access("../evil.wasm", F_OK) != 0, "../evil.wasm was written");
	CHECK(access("/tmp/wasmpull-test-unbox-evil", F_OK) != 0, "absolute path was written");
	CHECK(strstr(unbox_backend_version(), "libarchive") != NULL, "backend version");
	CHECK(chdir("/") == 0 && rmdir(sub) == 0 && rmdir(dir) == 0, "cleanup: %s", strerror(errno));
	free(sub);
	CHECK_DONE();
}
