/* Wasm reader tests on hand-assembled modules, good, truncated and malformed. */
#include "wasm.h"

#include <stdlib.h>

#include "check.h"
#include "util.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
#define ENV 0x03, 'e', 'n', 'v'

/* Imports of every kind, exports of every kind, two custom sections. */
static const unsigned char module[] = {
	HDR,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, /* type: () -> () */
	0x02, 0x69, 0x08,                   /* import section, 8 entries */
	ENV, 0x01, 'f', 0x00, 0x00,                    /* func type 0 */
	ENV, 0x01, 't', 0x01, 0x70, 0x00, 0x01,        /* table funcref min 1 */
	ENV, 0x01, 'm', 0x02, 0x03, 0x01, 0x02,        /* memory 1..2 shared */
	ENV, 0x03, 'm', '6', '4', 0x02, 0x04, 0x80, 0x80, 0x04, /* memory64 min 65536 */
	ENV, 0x01, 'g', 0x03, 0x7f, 0x01,              /* global mut i32 */
	ENV, 0x02, 'g', '2', 0x03, 0x63, 0x70, 0x00,   /* global (ref null func) */
	ENV, 0x01, 'e', 0x04, 0x00, 0x00,              /* tag type 0 */
	0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_',
	'p', 'r', 'e', 'v', 'i', 'e', 'w', '1',
	0x08, 'f', 'd', '_', 'w', 'r', 'i', 't', 'e', 0x00, 0x00,
	0x07, 0x4d, 0x06, /* export section, 6 entries */
	0x17, 'p', 'r', 'o', 'x', 'y', '_', 'a', 'b', 'i', '_', 'v', 'e', 'r', 's', 'i',
	'o', 'n', '_', '0', '_', '2', '_', '1', 0x00, 0x00,
	0x17, 'p', 'r', 'o', 'x', 'y', '_', 'a', 'b', 'i', '_', 'v', 'e', 'r', 's', 'i',
	'o', 'n', '_', '0', '_', '1', '_', '0', 0x00, 0x01,
	0x03, 'm', 'e', 'm', 0x02, 0x00,
	0x03, 't', 'b', 'l', 0x01, 0x00,
	0x03, 'g', 'l', 'b', 0x03, 0x00,
	0x03, 'e', 'x', 'n', 0x04, 0x00,
	0x0a, 0x01, 0x00, /* code section (unknown to us): skipped by size */
	0x00, 0x0b, 0x04, 'n', 'a', 'm', 'e', 0x00, 0x04, 0x03, 'a', 'b', 'c',
	0x00, 0x0a, 0x09, 'p', 'r', 'o', 'd', 'u', 'c', 'e', 'r', 's',
};

static const struct {
	const char *module, *name, *kind;
} want_imports[] = {
	{ "env", "f", "func" },     { "env", "t", "table" },  { "env", "m", "memory" },
	{ "env", "m64", "memory" }, { "env", "g", "global" }, { "env", "g2", "global" },
	{ "env", "e", "tag" },      { "wasi_snapshot_preview1", "fd_write", "func" },
};

static const struct {
	const char *name, *kind;
} want_exports[] = {
	{ "proxy_abi_version_0_2_1", "func" }, { "proxy_abi_version_0_1_0", "func" },
	{ "mem", "memory" }, { "tbl", "table" }, { "glb", "global" }, { "exn", "tag" },
};

static const char *const want_targets[] = {
	"proxy-wasm/0.2.1", "proxy-wasm/0.1.0", "wasi_snapshot_preview1",
};

/* A component: custom section, a nested core module, a wasi: instance import. */
static const unsigned char component[] = {
	0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00,
	0x00, 0x05, 0x04, 'n', 'a', 'm', 'e',
	0x01, 0x08, HDR, /* core module section: skipped */
	0x07, 0x03, 0x01, 0x42, 0x00, /* type section: an empty instance type */
	0x0a, 0x1f, 0x01, 0x00, 0x1a, 'w', 'a', 's', 'i', ':', 'c', 'l', 'i', '/',
	'e', 'n', 'v', 'i', 'r', 'o', 'n', 'm', 'e', 'n', 't', '@', '0', '.', '2', '.', '0',
	0x05, 0x00,
	0x7e, 0x02, 0xff, 0xff, /* a section id from the future */
};

/* A component importing only a non-wasi function, then a wasi: name. */
static const unsigned char component2[] = {
	0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00,
	0x0a, 0x11, 0x02,
	0x00, 0x01, 'f', 0x01, 0x00,
	0x00, 0x07, 'w', 'a', 's', 'i', ':', 'x', 'y', 0x05, 0x00,
};

static const unsigned char component_plain[] = {
	0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00,
	0x0a, 0x0a, 0x01, 0x00, 0x05, 'l', 'o', 'c', 'a', 'l', 0x05, 0x00,
	0x0a, 0x03, 0xff, 0xff, 0xff, /* garbage in a component import section */
};

#define BAD(name, ...) { name, (const unsigned char[]){ __VA_ARGS__ }, \
			 sizeof((const unsigned char[]){ __VA_ARGS__ }) }

static const struct {
	const char *why;
	const unsigned char *buf;
	size_t len;
} bad[] = {
	BAD("truncated header", 0x00, 0x61, 0x73, 0x6d, 0x01),
	BAD("bad magic", 0x3c, 0x21, 0x44, 0x4f, 0x43, 0x54, 0x59, 0x50, 0x45),
	BAD("unsupported version", 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00),
	BAD("truncated section", HDR, 0x01),
	BAD("truncated section", HDR, 0x01, 0x05, 0x01, 0x60),
	BAD("truncated section", HDR, 0x01, 0x80),
	BAD("bad LEB128", HDR, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
	BAD("bad LEB128", HDR, 0x01, 0xff, 0xff, 0xff, 0xff, 0x7f),
	BAD("truncated section", HDR, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f),
	BAD("bad import kind", HDR, 0x02, 0x07, 0x01, 0x01, 'a', 0x01, 'b', 0x05, 0x00),
	BAD("bad export kind", HDR, 0x07, 0x05, 0x01, 0x01, 'a', 0x05, 0x00),
	BAD("section size mismatch", HDR, 0x07, 0x06, 0x01, 0x01, 'a', 0x00, 0x00, 0x00),
	BAD("truncated name", HDR, 0x07, 0x05, 0x01, 0x09, 'a', 0x00, 0x00),
	BAD("bad UTF-8 in name", HDR, 0x07, 0x05, 0x01, 0x01, 0xff, 0x00, 0x00),
	BAD("bad UTF-8 in name", HDR, 0x07, 0x06, 0x01, 0x02, 0xc0, 0x80, 0x00, 0x00),
	BAD("bad UTF-8 in name", HDR, 0x00, 0x04, 0x03, 0xed, 0xa0, 0x80),
	BAD("bad limits", HDR, 0x02, 0x07, 0x01, 0x01, 'a', 0x01, 'b', 0x02, 0x10),
	BAD("bad global mutability", HDR, 0x02, 0x08, 0x01, 0x01, 'a', 0x01, 'b', 0x03, 0x7f, 0x02),
	BAD("truncated section", HDR, 0x02, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f),
	BAD("truncated section", HDR, 0x00, 0x00),
	BAD("truncated name", HDR, 0x00, 0x02, 0x05, 'a'),
	BAD("truncated section", 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x0a, 0x09, 0x00),
};

static const struct {
	const char *export; /* NULL: no target */
	const char *target;
} abi[] = {
	{ "proxy_abi_version_0_2_1", "proxy-wasm/0.2.1" },
	{ "proxy_abi_version_0_1_0", "proxy-wasm/0.1.0" },
	{ "proxy_abi_version_0_2_100", "proxy-wasm/0.2.100" },
	{ "proxy_abi_version_", NULL },
	{ "proxy_abi_version_0__1", NULL },
	{ "proxy_abi_version_0_1_", NULL },
	{ "proxy_abi_version_x_y_z", NULL },
	{ "proxy_on_memory_allocate", NULL },
	{ "_start", NULL },
};

static const struct {
	const unsigned char head[8];
	size_t len;
	enum wasm_kind kind;
} sniffs[] = {
	{ { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 }, 8, WASM_MODULE },
	{ { 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00 }, 8, WASM_COMPONENT },
	{ { 0x00, 0x61, 0x73, 0x6d, 0x0e, 0x00, 0x01, 0x00 }, 8, WASM_COMPONENT },
	{ { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 }, 7, WASM_NONE },
	{ { 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00 }, 8, WASM_NONE },
	{ { 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x02, 0x00 }, 8, WASM_NONE },
	{ { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00 }, 8, WASM_NONE },
	{ { 0x00, 0x41, 0x53, 0x4d, 0x01, 0x00, 0x00, 0x00 }, 8, WASM_NONE },
	{ { 0 }, 0, WASM_NONE },
};

/* Parses from an exact-size heap copy so the sanitizer sees any over-read. */
static bool parse_copy(const unsigned char *buf, size_t len, struct wasm_info *info,
		       const char **why)
{
	unsigned char *copy = malloc(len ? len : 1);
	bool ok;

	memcpy(copy, buf, len);
	ok = wasm_parse(copy, len, info, why);
	free(copy);
	return ok;
}

static void test_module(void)
{
	struct wasm_info info;
	const char *why = NULL;
	size_t i;

	CHECK(parse_copy(module, sizeof(module), &info, &why), "parse: %s", why);
	CHECK(info.kind == WASM_MODULE && info.version == 1, "kind %d version %u",
	      info.kind, info.version);
	CHECK(info.n_imports == ARRAY_SIZE(want_imports), "%zu imports", info.n_imports);
	for (i = 0; i < info.n_imports && i < ARRAY_SIZE(want_imports); i++) {
		CHECK_STR(info.imports[i].module, want_imports[i].module);
		CHECK_STR(info.imports[i].name, want_imports[i].name);
		CHECK_STR(info.imports[i].kind, want_imports[i].kind);
	}
	CHECK(info.n_exports == ARRAY_SIZE(want_exports), "%zu exports", info.n_exports);
	for (i = 0; i < info.n_exports && i < ARRAY_SIZE(want_exports); i++) {
		CHECK_STR(info.exports[i].name, want_exports[i].name);
		CHECK_STR(info.exports[i].kind, want_exports[i].kind);
	}
	CHECK(info.n_customs == 2, "%zu customs", info.n_customs);
	if (info.n_customs == 2) {
		CHECK_STR(info.customs[0].name, "name");
		CHECK(info.customs[0].size == 11, "size %llu",
		      (unsigned long long)info.customs[0].size);
		CHECK_STR(info.customs[1].name, "producers");
		CHECK(info.customs[1].size == 10, "size %llu",
		      (unsigned long long)info.customs[1].size);
	}
	CHECK(info.n_targets == ARRAY_SIZE(want_targets), "%zu targets", info.n_targets);
	for (i = 0; i < info.n_targets && i < ARRAY_SIZE(want_targets); i++)
		CHECK_STR(info.targets[i], want_targets[i]);
	wasm_info_release(&info);
	CHECK(info.n_imports == 0 && info.imports == NULL, "release resets");
	wasm_info_release(&info);
}

/* Every prefix parses or fails cleanly; only section boundaries parse. */
static void test_truncated(void)
{
	bool boundary[sizeof(module) + 1] = { false };
	struct wasm_info info;
	size_t off = 8, len;

	while (off < sizeof(module)) {
		boundary[off] = true;
		off += 2 + module[off + 1]; /* all sizes here fit in one LEB byte */
	}
	boundary[off] = true;
	CHECK(off == sizeof(module), "walked to %zu", off);
	for (len = 0; len < sizeof(module); len++) {
		const char *why = NULL;
		bool ok = parse_copy(module, len, &info, &why);

		CHECK(ok == boundary[len], "prefix of %zu bytes: %d (%s)", len, ok,
		      why ? why : "");
		CHECK(ok || why != NULL, "prefix of %zu bytes: no reason", len);
		CHECK(info.n_imports == 0 || ok, "prefix of %zu bytes: not reset", len);
		if (ok)
			wasm_info_release(&info);
	}
}

static void test_bad(void)
{
	struct wasm_info info;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = NULL;
		bool ok = parse_copy(bad[i].buf, bad[i].len, &info, &why);

		CHECK(!ok, "bad[%zu] parsed", i);
		CHECK_STR(why, bad[i].why);
		if (ok)
			wasm_info_release(&info);
	}
}

static void test_components(void)
{
	struct wasm_info info;
	const char *why = NULL;

	CHECK(parse_copy(component, sizeof(component), &info, &why), "component: %s", why);
	CHECK(info.kind == WASM_COMPONENT && info.version == 13, "kind %d version %u",
	      info.kind, info.version);
	CHECK(info.n_customs == 1 && info.customs[0].size == 5, "%zu customs", info.n_customs);
	CHECK(info.n_targets == 1, "%zu targets", info.n_targets);
	if (info.n_targets == 1)
		CHECK_STR(info.targets[0], "wasi-preview2");
	wasm_info_release(&info);

	CHECK(parse_copy(component2, sizeof(component2), &info, &why), "component2: %s", why);
	CHECK(info.n_targets == 1, "%zu targets", info.n_targets);
	wasm_info_release(&info);

	CHECK(parse_copy(component_plain, sizeof(component_plain), &info, &why),
	      "component_plain: %s", why);
	CHECK(info.n_targets == 0, "%zu targets", info.n_targets);
	wasm_info_release(&info);
}

static void test_abi(void)
{
	unsigned char buf[128] = { HDR, 0x07 };
	struct wasm_info info;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(abi); i++) {
		const char *why = NULL;

		n = strlen(abi[i].export);
		buf[9] = (unsigned char)(n + 4);
		buf[10] = 1;
		buf[11] = (unsigned char)n;
		memcpy(buf + 12, abi[i].export, n);
		buf[12 + n] = 0x00;
		buf[13 + n] = 0x00;
		CHECK(parse_copy(buf, 14 + n, &info, &why), "%s: %s", abi[i].export, why);
		CHECK(info.n_targets == (abi[i].target ? 1u : 0u), "%s: %zu targets",
		      abi[i].export, info.n_targets);
		if (info.n_targets == 1)
			CHECK_STR(info.targets[0], abi[i].target);
		wasm_info_release(&info);
	}
}

static void test_sniff(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sniffs); i++)
		CHECK(wasm_sniff(sniffs[i].head, sniffs[i].len) == sniffs[i].kind,
		      "sniff[%zu] = %d", i, wasm_sniff(sniffs[i].head, sniffs[i].len));
	CHECK(wasm_sniff(NULL, 8) == WASM_NONE, "sniff(NULL)");
}

static void test_section_header(void)
{
	static const struct {
		unsigned char bytes[6];
		size_t n;
		int hdr;
		uint64_t size;
	} cases[] = {
		{ { 1, 5 }, 2, 2, 5 },
		{ { 0, 0x80, 0x01 }, 3, 3, 128 },
		{ { 10, 0xff, 0xff, 0xff, 0xff, 0x0f }, 6, 6, 0xffffffffu },
		{ { 10, 0xff, 0xff, 0xff, 0xff, 0x1f }, 6, -1, 0 }, /* over 32 bits */
		{ { 10, 0x80 }, 2, -1, 0 },                         /* cut short */
		{ { 10 }, 1, -1, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t size = 0;
		int hl = wasm_section_header(cases[i].bytes, cases[i].n, &size);
		CHECK(hl == cases[i].hdr, "case %zu: header length %d, want %d", i, hl, cases[i].hdr);
		if (hl > 0)
			CHECK(size == cases[i].size, "case %zu: size %llu", i, (unsigned long long)size);
	}
}

int main(void)
{
	test_section_header();
	test_sniff();
	test_module();
	test_truncated();
	test_bad();
	test_components();
	test_abi();
	CHECK_DONE();
}
