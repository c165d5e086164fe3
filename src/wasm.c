/*
 * WebAssembly binary reader: just enough of the core format (imports,
 * exports, custom sections) to tell users what a module needs and targets.
 * Every read goes through struct reader, which checks bounds first, so a
 * hostile or truncated module can only make wasm_parse return false.
 * Components get a best-effort summary: their sections are framed like core
 * sections, and only the top-level import names are looked at.
 */
#include "wasm.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct reader {
	const unsigned char *p, *end;
	const char *why;
};

enum wasm_kind wasm_sniff(const unsigned char *head, size_t len)
{
	if (!head || len < 8 || memcmp(head, "\0asm", 4) != 0)
		return WASM_NONE;
	if (head[4] == 1 && head[5] == 0 && head[6] == 0 && head[7] == 0)
		return WASM_MODULE;
	/* components: a 16-bit version (0x0d for now) then layer 1 */
	if (head[6] == 1 && head[7] == 0)
		return WASM_COMPONENT;
	return WASM_NONE;
}

static bool fail(struct reader *r, const char *why)
{
	if (!r->why)
		r->why = why;
	return false;
}

static bool read_byte(struct reader *r, unsigned char *b)
{
	if (r->p >= r->end)
		return fail(r, "truncated section");
	*b = *r->p++;
	return true;
}

/* Unsigned LEB128 of at most `bits` bits; unused high bits must be zero. */
static bool read_uleb(struct reader *r, unsigned bits, uint64_t *v)
{
	uint64_t result = 0;
	unsigned shift = 0;
	unsigned char b;

	for (;;) {
		if (!read_byte(r, &b))
			return false;
		if (shift + 7 > bits && (b & 0x7f) >> (bits - shift) != 0)
			return fail(r, "bad LEB128");
		result |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
		if (shift >= bits)
			return fail(r, "bad LEB128");
	}
	*v = result;
	return true;
}

int wasm_section_header(const unsigned char *p, size_t n, uint64_t *size)
{
	struct reader r = { .p = p + 1, .end = p + n };
	uint64_t v;

	if (n < 2 || !read_uleb(&r, 32, &v))
		return -1;
	*size = v;
	return (int)(r.p - p);
}

static bool read_u32(struct reader *r, uint32_t *v)
{
	uint64_t x;

	if (!read_uleb(r, 32, &x))
		return false;
	*v = (uint32_t)x;
	return true;
}

/* Signed LEB128 up to 33 bits (heap types, block types); the value is unused. */
static bool skip_s33(struct reader *r)
{
	unsigned char b;
	int i;

	for (i = 0; i < 5; i++) {
		if (!read_byte(r, &b))
			return false;
		if (!(b & 0x80))
			return true;
	}
	return fail(r, "bad LEB128");
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* A name: u32 length + UTF-8 bytes; *out points into the buffer. */
static bool read_name(struct reader *r, const unsigned char **out, size_t *len)
{
	uint32_t n;

	if (!read_u32(r, &n))
		return false;
	if (n > (size_t)(r->end - r->p))
		return fail(r, "truncated name");
	if (!utf8_valid(r->p, n))
		return fail(r, "bad UTF-8 in name");
	*out = r->p;
	*len = n;
	r->p += n;
	return true;
}

static bool read_name_dup(struct reader *r, char **out)
{
	const unsigned char *s;
	size_t n;

	if (!read_name(r, &s, &n))
		return false;
	*out = xstrndup((const char *)s, n);
	return true;
}

/* Value and reference types: one byte, or a typed reference + heap type. */
static bool skip_valtype(struct reader *r)
{
	unsigned char b;

	if (!read_byte(r, &b))
		return false;
	if (b == 0x63 || b == 0x64)
		return skip_s33(r);
	return true;
}

/* Limits flags: bit 0 max present, bit 1 shared, bit 2 64-bit, bit 3 page size. */
static bool skip_limits(struct reader *r)
{
	unsigned char flags;
	unsigned bits;
	uint64_t v;
	uint32_t pagesz;

	if (!read_byte(r, &flags))
		return false;
	if (flags & ~0x0fu)
		return fail(r, "bad limits");
	bits = (flags & 0x04) ? 64 : 32;
	if (!read_uleb(r, bits, &v))
		return false;
	if ((flags & 0x01) && !read_uleb(r, bits, &v))
		return false;
	if ((flags & 0x08) && !read_u32(r, &pagesz))
		return false;
	return true;
}

static const char *const extern_kinds[] = { "func", "table", "memory", "global", "tag" };

static bool parse_imports(struct reader *r, struct wasm_info *info)
{
	uint32_t count, i, idx;
	unsigned char kind, b;

	if (!read_u32(r, &count))
		return false;
	for (i = 0; i < count; i++) {
		struct wasm_import *im;

		/* no preallocation by count: it is untrusted, the bytes are not */
		info->imports = xrealloc(info->imports, (info->n_imports + 1) * sizeof(*im));
		im = &info->imports[info->n_imports];
		memset(im, 0, sizeof(*im));
		info->n_imports++;
		if (!read_name_dup(r, &im->module) || !read_name_dup(r, &im->name) ||
		    !read_byte(r, &kind))
			return false;
		switch (kind) {
		case 0x00:
			if (!read_u32(r, &idx))
				return false;
			break;
		case 0x01:
			if (!skip_valtype(r) || !skip_limits(r))
				return false;
			break;
		case 0x02:
			if (!skip_limits(r))
				return false;
			break;
		case 0x03:
			if (!skip_valtype(r) || !read_byte(r, &b))
				return false;
			if (b > 1)
				return fail(r, "bad global mutability");
			break;
		case 0x04:
			if (!read_byte(r, &b) || !read_u32(r, &idx))
				return false;
			break;
		default:
			return fail(r, "bad import kind");
		}
		im->kind = extern_kinds[kind];
	}
	return true;
}

static bool parse_exports(struct reader *r, struct wasm_info *info)
{
	uint32_t count, i, idx;
	unsigned char kind;

	if (!read_u32(r, &count))
		return false;
	for (i = 0; i < count; i++) {
		struct wasm_export *ex;

		info->exports = xrealloc(info->exports, (info->n_exports + 1) * sizeof(*ex));
		ex = &info->exports[info->n_exports];
		memset(ex, 0, sizeof(*ex));
		info->n_exports++;
		if (!read_name_dup(r, &ex->name) || !read_byte(r, &kind))
			return false;
		if (kind >= ARRAY_SIZE(extern_kinds))
			return fail(r, "bad export kind");
		if (!read_u32(r, &idx))
			return false;
		ex->kind = extern_kinds[kind];
	}
	return true;
}

static bool parse_custom(struct reader *r, struct wasm_info *info, uint32_t size)
{
	struct wasm_custom *c;

	info->customs = xrealloc(info->customs, (info->n_customs + 1) * sizeof(*c));
	c = &info->customs[info->n_customs];
	memset(c, 0, sizeof(*c));
	info->n_customs++;
	c->size = size;
	if (!read_name_dup(r, &c->name))
		return false;
	r->p = r->end; /* the rest is the section's own business */
	return true;
}

/* Component import names; stops quietly at anything it does not know. */
static bool component_imports_wasi(struct reader *r)
{
	uint32_t count, i, idx;
	const unsigned char *name;
	size_t len;
	unsigned char b;

	if (!read_u32(r, &count))
		return false;
	for (i = 0; i < count; i++) {
		if (!read_byte(r, &b) || b > 1 || !read_name(r, &name, &len))
			return false;
		if (len >= 5 && memcmp(name, "wasi:", 5) == 0)
			return true;
		if (b == 1 && !read_name(r, &name, &len))
			return false;
		if (!read_byte(r, &b))
			return false;
		switch (b) {
		case 0x00:
			if (!read_byte(r, &b) || b != 0x11 || !read_u32(r, &idx))
				return false;
			break;
		case 0x01: case 0x04: case 0x05:
			if (!read_u32(r, &idx))
				return false;
			break;
		case 0x02:
			if (!read_byte(r, &b) || b > 1 || !skip_s33(r))
				return false;
			break;
		case 0x03:
			if (!read_byte(r, &b) || b > 1 || (b == 0 && !read_u32(r, &idx)))
				return false;
			break;
		default:
			return false;
		}
	}
	return false;
}

static void add_target(struct wasm_info *info, char *t)
{
	size_t i;

	for (i = 0; i < info->n_targets; i++) {
		if (strcmp(info->targets[i], t) == 0) {
			free(t);
			return;
		}
	}
	info->targets = xrealloc(info->targets, (info->n_targets + 1) * sizeof(char *));
	info->targets[info->n_targets++] = t;
}

/* proxy_abi_version_0_2_1 -> "proxy-wasm/0.2.1"; NULL if not that shape. */
static char *proxy_abi_target(const char *export)
{
	const char *prefix = "proxy_abi_version_", *v;
	char *t, *q;

	if (!str_starts_with(export, prefix))
		return NULL;
	v = export + strlen(prefix);
	if (!*v || v[strspn(v, "0123456789_")] || *v == '_' || str_ends_with(v, "_") ||
	    strstr(v, "__"))
		return NULL;
	t = xasprintf("proxy-wasm/%s", v);
	for (q = t; *q; q++)
		if (*q == '_')
			*q = '.';
	return t;
}

static void core_targets(struct wasm_info *info)
{
	size_t i;
	char *t;

	for (i = 0; i < info->n_exports; i++)
		if ((t = proxy_abi_target(info->exports[i].name)) != NULL)
			add_target(info, t);
	for (i = 0; i < info->n_imports; i++)
		if (strcmp(info->imports[i].module, "wasi_snapshot_preview1") == 0)
			add_target(info, xstrdup("wasi_snapshot_preview1"));
}

static bool core_section(struct reader *sec, struct wasm_info *info, unsigned char id)
{
	switch (id) {
	case 2:
		return parse_imports(sec, info);
	case 7:
		return parse_exports(sec, info);
	default:
		sec->p = sec->end;
		return true;
	}
}

/* Component-specific sections are skipped, never a reason to fail. */
static bool component_section(struct reader *sec, bool *wasi_p2, unsigned char id)
{
	if (id == 10 && !*wasi_p2)
		*wasi_p2 = component_imports_wasi(sec);
	sec->p = sec->end;
	return true;
}

bool wasm_parse(const unsigned char *buf, size_t len, struct wasm_info *info, const char **why)
{
	struct reader r = { buf, buf + len, NULL };
	bool wasi_p2 = false, ok;
	unsigned char id;
	uint32_t size;

	memset(info, 0, sizeof(*info));
	if (!buf || len < 8) {
		fail(&r, "truncated header");
		goto out;
	}
	info->kind = wasm_sniff(buf, len);
	if (info->kind == WASM_NONE) {
		fail(&r, memcmp(buf, "\0asm", 4) ? "bad magic" : "unsupported version");
		goto out;
	}
	if (info->kind == WASM_MODULE)
		info->version = 1;
	else
		info->version = (uint32_t)buf[4] | (uint32_t)buf[5] << 8;
	r.p += 8;
	while (r.p < r.end) {
		struct reader sec = { NULL, NULL, NULL };

		if (!read_byte(&r, &id) || !read_u32(&r, &size))
			goto out;
		if (size > (size_t)(r.end - r.p)) {
			fail(&r, "truncated section");
			goto out;
		}
		sec.p = r.p;
		sec.end = r.p + size;
		r.p += size;
		if (id == 0)
			ok = parse_custom(&sec, info, size);
		else if (info->kind == WASM_MODULE)
			ok = core_section(&sec, info, id);
		else
			ok = component_section(&sec, &wasi_p2, id);
		if (!ok || sec.p != sec.end) {
			fail(&r, sec.why ? sec.why : "section size mismatch");
			goto out;
		}
	}
	if (info->kind == WASM_MODULE)
		core_targets(info);
	else if (wasi_p2)
		add_target(info, xstrdup("wasi-preview2"));
out:
	if (r.why) {
		wasm_info_release(info);
		if (why)
			*why = r.why;
		return false;
	}
	return true;
}

void wasm_info_release(struct wasm_info *info)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; i < info->n_imports; i++) {
		free(info->imports[i].module);
		free(info->imports[i].name);
	}
	free(info->imports);
	for (i = 0; i < info->n_exports; i++)
		free(info->exports[i].name);
	free(info->exports);
	for (i = 0; i < info->n_customs; i++)
		free(info->customs[i].name);
	free(info->customs);
	for (i = 0; i < info->n_targets; i++)
		free(info->targets[i]);
	free(info->targets);
	memset(info, 0, sizeof(*info));
}
