/* wasmpull inspect: describe an OCI reference, URL or file and the module it
 * holds, without storing anything in the cache. A module the user's cache
 * already holds is read from there; any other is fetched through the normal
 * verifying pipeline into a throwaway cache in a private temp folder, which is
 * removed before the command returns. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "cleanup.h"
#include "cmd.h"
#include "fetch.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "ref.h"
#include "registry.h"
#include "source.h"
#include "wasm.h"

/* A config larger than this is described, not shown. */
#define CONFIG_SHOW_MAX (64u << 10)

static const char inspect_usage[] =
	"usage: wasmpull inspect [OPTIONS] SOURCE\n"
	"\n"
	"Shows what SOURCE (oci://REF or REF, http(s)://URL, file://PATH or a path)\n"
	"is: manifest, platforms, format, config, layers and annotations for OCI, and\n"
	"the module's imports, exports, custom sections and targets. Nothing is stored\n"
	"in the cache.\n"
	"\n"
	"Options:\n"
	"      --json                print a JSON object instead of text\n"
	"      --raw                 print the manifest exactly as served (OCI only)\n"
	"      --metadata-only       manifests and config only: no module download\n"
	"      --platform OS/ARCH[/VARIANT]  entry of an image index to describe\n"
	FETCH_USAGE;

enum {
	OPT_JSON = 0x100,
	OPT_RAW,
	OPT_METADATA_ONLY,
};

static const struct option inspect_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "metadata-only", no_argument, NULL, OPT_METADATA_ONLY },
	FETCH_LONGOPTS,
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* The module, once verified and parsed. */
struct module {
	bool present;
	bool from_cache;         /* read from the user's cache */
	char digest[72];         /* "sha256:hex" of the module */
	uint64_t size;
	char raw_digest[72];     /* of the bytes as served, before unboxing */
	uint64_t raw_size;
	struct wasm_info info;
};

struct inspect {
	const char *source;
	char *shown; /* source for display: a URL without its secrets */
	bool json, raw, metadata_only;
	struct fetch_opts fo;
	double deadline;
	char *cache_dir;    /* the user's cache: only ever read */
	char *tmp_dir;      /* the throwaway cache's folder, or NULL */
	struct cache *tmp;
	struct module mod;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void tmp_cache_remove(struct inspect *in)
{
	cache_free(in->tmp);
	in->tmp = NULL;
	if (in->tmp_dir && nftw(in->tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		warnf("cannot remove %s: %s", in->tmp_dir, strerror(errno));
	if (in->tmp_dir)
		cleanup_remove_tree(in->tmp_dir);
	free(in->tmp_dir);
	in->tmp_dir = NULL;
}

/* The throwaway cache, made on first use under $TMPDIR (else /tmp). */
static enum wp_err tmp_cache(struct inspect *in, struct error *err)
{
	const char *base = getenv("TMPDIR");

	if (in->tmp)
		return WP_OK;
	if (!base || !*base)
		base = "/tmp";
	in->tmp_dir = xasprintf("%s/wasmpull-inspect-XXXXXX", base);
	if (!mkdtemp(in->tmp_dir)) {
		free(in->tmp_dir);
		in->tmp_dir = NULL;
		return error_set(err, WP_EFAIL, "cannot create a temporary folder in %s: %s", base,
				 strerror(errno));
	}
	cleanup_add_tree(in->tmp_dir);
	return cache_open(in->tmp_dir, &in->tmp, err);
}

/* Reads the verified module behind fd and parses it. */
static enum wp_err read_module(struct inspect *in, int fd, uint64_t size, struct error *err)
{
	const char *why = "unknown error";
	unsigned char *buf = NULL;
	uint64_t off = 0;
	enum wp_err rc = WP_OK;

	if (in->fo.max_size && size > in->fo.max_size)
		return error_set(err, WP_EVERIFY, "larger than the size limit (%llu bytes)",
				 (unsigned long long)in->fo.max_size);
	if (size > SIZE_MAX)
		return error_set(err, WP_EFAIL, "module too large to read (%llu bytes)",
				 (unsigned long long)size);
	buf = xmalloc(size ? (size_t)size : 1);
	while (off < size) {
		ssize_t n = pread(fd, buf + off, (size_t)(size - off), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = error_set(err, WP_EFAIL, "cannot read the module: %s",
				       n < 0 ? strerror(errno) : "unexpected end of file");
			goto out;
		}
		off += (uint64_t)n;
	}
	if (!wasm_parse(buf, (size_t)size, &in->mod.info, &why)) {
		rc = error_set(err, WP_EVERIFY, "not a valid Wasm module: %s", why);
		goto out;
	}
	in->mod.present = true;
out:
	free(buf);
	return rc;
}

/* Verifies and unboxes what f received into the throwaway cache, then reads it. */
static enum wp_err finish_module(struct inspect *in, struct fetch *f, const struct fetch_expect *exp,
				 struct error *err)
{
	struct fetch_result res;
	enum wp_err rc;
	int fd = -1;

	if ((rc = fetch_finish(f, exp, &res, err)) != WP_OK)
		return rc;
	if ((rc = cache_open_blob(in->tmp, res.hex, res.size, &fd, err)) != WP_OK)
		return rc;
	snprintf(in->mod.digest, sizeof(in->mod.digest), "sha256:%s", res.hex);
	snprintf(in->mod.raw_digest, sizeof(in->mod.raw_digest), "sha256:%s", res.raw_hex);
	in->mod.size = res.size;
	in->mod.raw_size = res.raw_size;
	rc = read_module(in, fd, res.size, err);
	close(fd);
	return rc;
}

static enum wp_err inspect_http(struct inspect *in, struct error *err)
{
	struct http_response resp = { 0 };
	struct http *h = NULL;
	struct fetch *f = NULL;
	enum wp_err rc;

	struct http_opts ho = {
		.ca_file = in->fo.ca_file,
		.deadline = in->deadline,
		.attempts = in->fo.retries,
	};
	h = http_new(&ho);
	if ((rc = tmp_cache(in, err)) != WP_OK || (rc = fetch_begin(in->tmp, in->fo.max_size, &f, err)) != WP_OK)
		goto out;
	if ((rc = fetch_url(h, in->source, in->fo.headers, in->fo.n_headers, NULL, in->fo.max_size, f,
			    &resp, err)) != WP_OK)
		goto out;
	if (resp.status == 304) {
		rc = error_set(err, WP_EFAIL, "HTTP 304 to an unconditional request");
		goto out;
	}
	struct fetch_expect exp = { .raw_size = -1, .unbox = true };
	rc = finish_module(in, f, &exp, err);
out:
	http_response_release(&resp);
	fetch_free(f);
	http_free(h);
	return rc;
}

static enum wp_err inspect_file(struct inspect *in, struct error *err)
{
	struct fetch *f = NULL;
	enum wp_err rc;

	if ((rc = tmp_cache(in, err)) != WP_OK ||
	    (rc = fetch_path(in->tmp, source_file_path(in->source), in->fo.max_size, &f, err)) != WP_OK)
		goto out;
	struct fetch_expect exp = { .raw_size = -1, .unbox = true };
	rc = finish_module(in, f, &exp, err);
out:
	fetch_free(f);
	return rc;
}

/*
 * The module of layer from the user's cache, when a pull has verified it
 * there already. WP_ENOTFOUND: not there (fetch it). Opening a cache creates
 * its missing folders, so only a complete one is opened.
 */
static enum wp_err cached_module(struct inspect *in, const struct descriptor *layer, struct error *err)
{
	static const char *const need[] = { "blobs/sha256", "index", "tmp", "locks" };
	struct cache_entry e = { 0 };
	struct cache *c = NULL;
	struct error tmp;
	struct stat st;
	enum wp_err rc = WP_ENOTFOUND;
	int fd = -1;

	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		char *p = xasprintf("%s/%s", in->cache_dir, need[i]);
		bool ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
		free(p);
		if (!ok)
			return WP_ENOTFOUND;
	}
	error_init(&tmp);
	if (cache_open(in->cache_dir, &c, &tmp) != WP_OK ||
	    cache_find_digest(c, layer->digest, &e, &tmp) != WP_OK)
		goto out;
	/* the record must say this layer holds (or is) that module */
	if (!e.digest || !str_starts_with(e.digest, "sha256:") ||
	    ((!e.raw_digest || strcmp(e.raw_digest, layer->digest) != 0) &&
	     strcmp(e.digest, layer->digest) != 0))
		goto out;
	if (cache_open_blob(c, e.digest + 7, e.size, &fd, &tmp) != WP_OK)
		goto out;
	notef("%s: module sha256:%.12s read from the cache", in->shown, e.digest + 7);
	snprintf(in->mod.digest, sizeof(in->mod.digest), "%s", e.digest);
	snprintf(in->mod.raw_digest, sizeof(in->mod.raw_digest), "%s", layer->digest);
	in->mod.size = e.size;
	in->mod.raw_size = layer->size;
	in->mod.from_cache = true;
	rc = read_module(in, fd, e.size, err);
out:
	if (fd >= 0)
		close(fd);
	cache_entry_release(&e);
	cache_free(c);
	return rc;
}

static enum wp_err oci_module(struct inspect *in, struct registry *reg, const struct resolved *res,
			      struct error *err)
{
	const struct descriptor *layer;
	struct fetch *f = NULL;
	enum wp_err rc;

	if (res->module_rc != WP_OK)
		return error_set(err, res->module_rc, "%s", res->module_err);
	layer = &res->chosen.layers[res->layer];
	if ((rc = cached_module(in, layer, err)) != WP_ENOTFOUND)
		return rc;
	if ((rc = tmp_cache(in, err)) != WP_OK || (rc = fetch_begin(in->tmp, in->fo.max_size, &f, err)) != WP_OK)
		goto out;
	if ((rc = registry_fetch_blob(reg, layer, f, err)) != WP_OK)
		goto out;
	struct fetch_expect exp = {
		.raw_hex = layer->digest + 7,
		.raw_size = (int64_t)layer->size,
		.unbox = res->kind == LAYER_ARCHIVE,
	};
	rc = finish_module(in, f, &exp, err);
out:
	fetch_free(f);
	return rc;
}

/* ---- JSON */

static const char *kind_name(enum wasm_kind k)
{
	switch (k) {
	case WASM_NONE:
		return "none";
	case WASM_MODULE:
		return "module";
	case WASM_COMPONENT:
		return "component";
	}
	return "none";
}

/* An annotations object from its compact text; {} when there is none. */
static cJSON *annotations_json(const char *text)
{
	cJSON *a = text ? cJSON_Parse(text) : NULL;

	if (cJSON_IsObject(a))
		return a;
	cJSON_Delete(a);
	return cJSON_CreateObject();
}

static cJSON *platform_json(const struct platform *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "os", p->os ? p->os : "");
	cJSON_AddStringToObject(o, "architecture", p->architecture ? p->architecture : "");
	if (p->variant && *p->variant)
		cJSON_AddStringToObject(o, "variant", p->variant);
	return o;
}

static cJSON *module_json(const struct module *m)
{
	const struct wasm_info *w = &m->info;
	cJSON *o, *a;

	if (!m->present)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "digest", m->digest);
	cJSON_AddNumberToObject(o, "size", (double)m->size);
	cJSON_AddStringToObject(o, "kind", kind_name(w->kind));
	cJSON_AddNumberToObject(o, "version", w->version);
	a = cJSON_AddArrayToObject(o, "imports");
	for (size_t i = 0; i < w->n_imports; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "module", w->imports[i].module);
		cJSON_AddStringToObject(e, "name", w->imports[i].name);
		cJSON_AddStringToObject(e, "kind", w->imports[i].kind);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "exports");
	for (size_t i = 0; i < w->n_exports; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", w->exports[i].name);
		cJSON_AddStringToObject(e, "kind", w->exports[i].kind);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "custom_sections");
	for (size_t i = 0; i < w->n_customs; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", w->customs[i].name);
		cJSON_AddNumberToObject(e, "size", (double)w->customs[i].size);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "targets");
	for (size_t i = 0; i < w->n_targets; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(w->targets[i]));
	return o;
}

static cJSON *descriptor_json(const struct descriptor *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "media_type", d->media_type ? d->media_type : "");
	cJSON_AddStringToObject(o, "digest", d->digest ? d->digest : "");
	cJSON_AddNumberToObject(o, "size", (double)d->size);
	return o;
}

static void print_json_object(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	puts(s);
	cJSON_free(s);
	cJSON_Delete(o);
}

static void json_oci(const struct inspect *in, const char *reference, const struct resolved *res,
		     cJSON *config)
{
	const struct manifest *m = &res->chosen;
	cJSON *o = cJSON_CreateObject(), *a, *d;

	cJSON_AddStringToObject(o, "source", in->shown);
	cJSON_AddStringToObject(o, "reference", reference);
	cJSON_AddStringToObject(o, "manifest_digest", res->digest);
	cJSON_AddStringToObject(o, "media_type", res->media_type ? res->media_type : "");
	if (res->format != FMT_UNKNOWN)
		cJSON_AddStringToObject(o, "format", wasm_format_name(res->format));
	else
		cJSON_AddNullToObject(o, "format");
	a = cJSON_AddArrayToObject(o, "platforms");
	/* every entry pull could take; buildx attestations (unknown/unknown) are none */
	for (size_t i = 0; res->top.is_index && i < res->top.n_manifests; i++) {
		const struct platform *pf = &res->top.manifests[i].platform;
		if (pf->os && pf->architecture && !strcmp(pf->os, "unknown") &&
		    !strcmp(pf->architecture, "unknown"))
			continue;
		cJSON_AddItemToArray(a, platform_json(pf));
	}
	if (res->from_index) {
		d = cJSON_AddObjectToObject(o, "selected");
		cJSON_AddStringToObject(d, "digest", res->chosen_digest);
		cJSON_AddStringToObject(d, "media_type", m->media_type ? m->media_type : "");
		cJSON_AddItemToObject(d, "platform", platform_json(&res->chosen_platform));
	}
	d = descriptor_json(&m->config);
	cJSON_AddItemToObject(d, "content", config ? cJSON_Duplicate(config, true) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "config", d);
	a = cJSON_AddArrayToObject(o, "layers");
	for (size_t i = 0; i < m->n_layers; i++) {
		d = descriptor_json(&m->layers[i]);
		cJSON_AddItemToObject(d, "annotations", annotations_json(m->layers[i].annotations_json));
		cJSON_AddItemToArray(a, d);
	}
	cJSON_AddItemToObject(o, "annotations", annotations_json(res->top.annotations_json));
	cJSON_AddItemToObject(o, "module", module_json(&in->mod));
	print_json_object(o);
}

static void json_plain(const struct inspect *in, const char *format)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "source", in->shown);
	cJSON_AddStringToObject(o, "format", format);
	cJSON_AddItemToObject(o, "module", module_json(&in->mod));
	print_json_object(o);
}

/* ---- text */

/* Writes s with control bytes escaped: names come from the network. */
static void put(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static void put_field(const char *label, const char *value)
{
	printf("%-17s", label);
	put(value);
	putchar('\n');
}

/* "  key: value" lines of an annotations object; "  (none)" when empty. */
static void put_annotations(const char *text, const char *indent, bool say_none)
{
	cJSON *a = annotations_json(text), *it;
	bool any = false;

	cJSON_ArrayForEach(it, a) {
		printf("%s", indent);
		put(it->string);
		fputs(": ", stdout);
		if (cJSON_IsString(it)) {
			put(it->valuestring);
		} else {
			char *s = cJSON_PrintUnformatted(it);
			put(s);
			cJSON_free(s);
		}
		putchar('\n');
		any = true;
	}
	if (!any && say_none)
		printf("%s(none)\n", indent);
	cJSON_Delete(a);
}

static const char *short_digest(const char *digest, char buf[24])
{
	snprintf(buf, 24, "sha256:%.12s",
		 digest && str_starts_with(digest, "sha256:") ? digest + 7 : (digest ? digest : ""));
	return buf;
}

/* Sorts import indexes by module name, keeping each module's imports in order. */
static int import_cmp(const void *a, const void *b, void *ud)
{
	const struct wasm_info *w = ud;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(w->imports[i].module, w->imports[j].module);

	return c ? c : (i > j) - (i < j);
}

static void text_module(const struct module *m)
{
	const struct wasm_info *w = &m->info;
	size_t *order;

	puts("Module:");
	printf("%-17s%llu bytes\n", "  Size:", (unsigned long long)m->size);
	printf("%-17s%s\n", "  SHA-256:", m->digest);
	if (strcmp(m->raw_digest, m->digest) != 0)
		printf("%-17s%s (%llu bytes)\n", "  Unpacked from:", m->raw_digest,
		       (unsigned long long)m->raw_size);
	if (m->from_cache)
		printf("%-17s%s\n", "  Read from:", "the cache");
	printf("%-17s%s\n", "  Kind:", kind_name(w->kind));
	printf("%-17s%u\n", "  Version:", w->version);

	puts("  Imports:");
	if (!w->n_imports)
		puts("    (none)");
	order = xcalloc(w->n_imports ? w->n_imports : 1, sizeof(*order));
	for (size_t i = 0; i < w->n_imports; i++)
		order[i] = i;
	qsort_r(order, w->n_imports, sizeof(*order), import_cmp, (void *)w);
	for (size_t i = 0; i < w->n_imports; i++) {
		const struct wasm_import *im = &w->imports[order[i]];
		bool first = i == 0 || strcmp(w->imports[order[i - 1]].module, im->module) != 0;
		bool last = i + 1 == w->n_imports || strcmp(w->imports[order[i + 1]].module, im->module) != 0;
		if (first) {
			fputs("    ", stdout);
			put(im->module);
			fputs(": ", stdout);
		}
		put(im->name);
		printf(" (%s)%s", im->kind, last ? "\n" : ", ");
	}
	free(order);

	puts("  Exports:");
	if (!w->n_exports)
		puts("    (none)");
	for (size_t i = 0; i < w->n_exports; i++) {
		fputs("    ", stdout);
		put(w->exports[i].name);
		printf(" (%s)\n", w->exports[i].kind);
	}

	puts("  Custom sections:");
	if (!w->n_customs)
		puts("    (none)");
	for (size_t i = 0; i < w->n_customs; i++) {
		fputs("    ", stdout);
		put(w->customs[i].name);
		printf(" %llu bytes\n", (unsigned long long)w->customs[i].size);
	}

	printf("%-17s", "  Targets:");
	if (!w->n_targets)
		fputs("(none)", stdout);
	for (size_t i = 0; i < w->n_targets; i++) {
		if (i)
			fputs(", ", stdout);
		put(w->targets[i]);
	}
	putchar('\n');
}

static void text_oci(const struct inspect *in, const char *reference, const struct resolved *res)
{
	const struct manifest *m = &res->chosen;
	char sd[24];

	put_field("Source:", in->shown);
	put_field("Reference:", reference);
	put_field("Digest:", res->digest);
	put_field("Media type:", res->media_type);
	if (res->top.is_index) {
		puts("Platforms:");
		for (size_t i = 0; i < res->top.n_manifests; i++) {
			const struct descriptor *d = &res->top.manifests[i];
			bool sel = res->from_index && !strcmp(d->digest, res->chosen_digest);
			char *p = d->platform.os || d->platform.architecture ? platform_string(&d->platform)
									     : xstrdup("(no platform)");
			printf("  %s ", sel ? "*" : " ");
			put(p);
			printf("  %s  ", short_digest(d->digest, sd));
			put(d->media_type);
			puts(sel ? "  (selected)" : "");
			free(p);
		}
		put_field("Selected:", res->chosen_digest);
		put_field("  media type:", m->media_type);
	}
	if (res->format != FMT_UNKNOWN) {
		put_field("Format:", wasm_format_name(res->format));
	} else {
		printf("%-17sunknown (", "Format:");
		put(res->module_err);
		puts(")");
	}
	printf("%-17s", "Config:");
	put(m->config.media_type);
	printf(" %s (%llu bytes)\n", short_digest(m->config.digest, sd),
	       (unsigned long long)m->config.size);
	puts("Layers:");
	if (!m->n_layers)
		puts("  (none)");
	for (size_t i = 0; i < m->n_layers; i++) {
		const struct descriptor *d = &m->layers[i];
		fputs("  ", stdout);
		put(d->media_type);
		printf("  %s  %llu bytes%s\n", short_digest(d->digest, sd), (unsigned long long)d->size,
		       res->module_rc == WP_OK && i == res->layer ? "  (module)" : "");
		put_annotations(d->annotations_json, "    ", false);
	}
	puts("Annotations:");
	put_annotations(res->top.annotations_json, "  ", true);
	if (res->from_index && m->annotations_json) {
		puts("Selected manifest annotations:");
		put_annotations(m->annotations_json, "  ", true);
	}
	if (in->mod.present)
		text_module(&in->mod);
}

static void text_plain(const struct inspect *in, const char *format)
{
	put_field("Source:", in->shown);
	put_field("Format:", format);
	text_module(&in->mod);
}

/* ---- commands */

/* The config blob, parsed, when it is small JSON; NULL otherwise. */
static enum wp_err get_config(struct registry *reg, const struct descriptor *d, cJSON **out,
			      struct error *err)
{
	char *body = NULL;
	size_t len = 0;
	enum wp_err rc;

	*out = NULL;
	if (!d->digest || d->size > CONFIG_SHOW_MAX)
		return WP_OK;
	if ((rc = registry_get_blob(reg, d, CONFIG_SHOW_MAX, &body, &len, err)) != WP_OK)
		return rc;
	*out = cJSON_ParseWithLength(body, len);
	free(body);
	return WP_OK;
}

static enum wp_err inspect_oci(struct inspect *in, struct error *err)
{
	struct ref r = { 0 };
	struct registry *reg = NULL;
	struct resolved res = { 0 };
	cJSON *config = NULL;
	char *reference = NULL;
	struct error later; /* what failed after the manifests: shown after the rest */
	enum wp_err rc;

	error_init(&later);
	if ((rc = ref_parse(in->source, &r, err)) != WP_OK)
		goto out;
	reference = ref_string(&r);
	if ((rc = registry_new(&r, &in->fo, in->deadline, &reg, err)) != WP_OK)
		goto out;
	if (in->raw) {
		/* the manifest alone: an index prints even when no entry would be chosen */
		char *body = NULL;
		size_t len = 0;
		if ((rc = registry_get_manifest(reg, &body, &len, err)) == WP_OK &&
		    (fwrite(body, 1, len, stdout) != len || fflush(stdout) != 0))
			rc = error_set(err, WP_EFAIL, "cannot write stdout: %s", strerror(errno));
		free(body);
		goto out;
	}
	if ((rc = registry_resolve(reg, in->fo.platform, false, NULL, &res, err)) != WP_OK)
		goto out;
	/* the config is metadata (small, capped); --metadata-only skips the module */
	get_config(reg, &res.chosen.config, &config, &later);
	if (!later.code && !in->metadata_only)
		oci_module(in, reg, &res, &later);
	if (in->json)
		json_oci(in, reference, &res, config);
	else
		text_oci(in, reference, &res);
	if (later.code)
		rc = error_set(err, later.code, "%s", later.msg);
out:
	cJSON_Delete(config);
	free(reference);
	resolved_release(&res);
	registry_free(reg);
	ref_release(&r);
	return rc;
}

static enum wp_err run(struct inspect *in, struct global *g, struct error *err)
{
	enum source_kind kind = source_classify(in->source);
	const char *format = kind == SOURCE_HTTP ? "http" : "file";
	enum wp_err rc;

	if (kind == SOURCE_HTTP && !http_url_valid(in->source)) {
		rc = error_set(err, WP_EUSAGE, "invalid URL \"%s\"", in->shown);
		goto out;
	}
	if (in->raw && kind != SOURCE_OCI) {
		rc = error_set(err, WP_EUSAGE, "--raw prints a registry manifest; it needs an OCI reference");
		goto out;
	}
	if ((rc = fetch_opts_finish(&in->fo, err)) != WP_OK)
		goto out;
	in->deadline = now_mono() + in->fo.timeout;
	in->cache_dir = global_cache_dir(g);
	if (kind == SOURCE_OCI) {
		rc = inspect_oci(in, err);
		goto out;
	}
	if (in->metadata_only)
		notef("%s: --metadata-only: an %s source has nothing to show but its module", in->shown,
		      format);
	else if ((rc = kind == SOURCE_HTTP ? inspect_http(in, err) : inspect_file(in, err)) != WP_OK)
		goto out;
	if (in->json)
		json_plain(in, format);
	else if (in->mod.present)
		text_plain(in, format);
	else
		put_field("Source:", in->shown);
out:
	if (rc == WP_OK && fflush(stdout) != 0)
		rc = error_set(err, WP_EFAIL, "cannot write stdout: %s", strerror(errno));
	if (rc != WP_OK && err->msg[0])
		error_prefix(err, "%s", in->shown);
	tmp_cache_remove(in);
	return rc;
}

static bool inspect_option(int c, const char *arg, void *ud, struct error *err)
{
	struct inspect *in = ud;

	(void)arg, (void)err;
	switch (c) {
	case OPT_JSON:
		in->json = true;
		return true;
	case OPT_RAW:
		in->raw = true;
		return true;
	case OPT_METADATA_ONLY:
		in->metadata_only = true;
		return true;
	}
	return false;
}

static enum wp_err cmd_inspect_run(int argc, char **argv, struct global *g, struct error *err)
{
	struct inspect in = { 0 };
	enum wp_err rc = WP_OK;
	bool done;

	fetch_opts_init(&in.fo);
	if ((rc = cmd_getopt(argc, argv, FETCH_SHORTOPTS GLOBAL_SHORTOPTS, inspect_options, &cmd_inspect,
			     "inspect", g, &in.fo, inspect_option, &in, &done, err)) != WP_OK || done)
		goto out;
	if (optind != argc - 1) {
		rc = error_set(err, WP_EUSAGE, optind >= argc ? "inspect needs a SOURCE; see 'wasmpull help inspect'"
							       : "inspect takes one SOURCE; see 'wasmpull help inspect'");
		goto out;
	}
	if (in.raw && in.json) {
		rc = error_set(err, WP_EUSAGE, "--raw prints the manifest as served; it cannot go with --json");
		goto out;
	}
	in.source = argv[optind];
	in.shown = source_redact(in.source);
	rc = run(&in, g, err);
out:
	free(in.shown);
	wasm_info_release(&in.mod.info);
	free(in.cache_dir);
	fetch_opts_release(&in.fo);
	return err->code ? err->code : rc;
}

const struct cmd cmd_inspect = {
	.name = "inspect",
	.run = cmd_inspect_run,
	.summary = "describe a reference, URL or file",
	.usage = inspect_usage,
};
