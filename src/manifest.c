/*
 * OCI and Docker manifests and indexes: decoding with every descriptor
 * checked (registries do not validate what is pushed), the Wasm format a
 * manifest carries (DESIGN "Wasm-in-OCI formats to read"), and the choice of
 * an index entry by platform. Pure: bytes in, structs and errors out.
 */
#include "manifest.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "util.h"

#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_CNCF_CONFIG "application/vnd.wasm.config.v0+json"
#define MT_WASME_CONFIG "application/vnd.module.wasm.config.v1+json"
#define MT_W2O_CONFIG "application/vnd.wasm.config.v1+json"
#define MT_COMPONENT_LAYER "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm"
/* JSON numbers are doubles: above this a size is no longer exact. */
#define SIZE_MAX_EXACT 9007199254740992.0

/* Layers that are a module's bytes as they are. */
static const char *const raw_layer_types[] = {
	"application/wasm",
	"application/vnd.module.wasm.content.layer.v1+wasm",
	"application/vnd.wasm.content.layer.v1+wasm",
	MT_COMPONENT_LAYER,
};

/* Image layers that hold the module inside a tar. */
static const char *const archive_layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static bool is_known_type(const char *mt)
{
	return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_OCI_MANIFEST) == 0 ||
	       strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0;
}

static bool is_index_type(const char *mt)
{
	return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

/* A Content-Type that claims to be a manifest, so a body must agree with it. */
static bool is_manifest_content_type(const char *ct)
{
	return is_known_type(ct) ||
	       str_starts_with(ct, "application/vnd.docker.distribution.manifest.");
}

/* Copies a Content-Type without parameters and surrounding blanks. */
static char *bare_content_type(const char *ct)
{
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return xstrndup(ct, n);
}

static const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *json_object_text(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char *tmp = NULL, *out = NULL;

	if (!cJSON_IsObject(v))
		return NULL;
	tmp = cJSON_PrintUnformatted(v);
	out = xstrdup(tmp);
	cJSON_free(tmp);
	return out;
}

static enum wp_err parse_descriptor(const cJSON *j, const char *what, size_t i, bool platform,
				    struct descriptor *d, struct error *err)
{
	char name[64];

	if (i == (size_t)-1)
		snprintf(name, sizeof(name), "%s", what);
	else
		snprintf(name, sizeof(name), "%s[%zu]", what, i);
	if (!cJSON_IsObject(j))
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: not an object", name);

	const char *mt = json_str(j, "mediaType");
	if (!mt || !*mt)
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: no mediaType", name);
	d->media_type = xstrdup(mt);

	const char *dg = json_str(j, "digest");
	if (!dg)
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: no digest", name);
	const char *colon = strchr(dg, ':');
	if (!colon || colon == dg)
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: invalid digest \"%s\"", name,
				 dg);
	if ((size_t)(colon - dg) != 6 || strncmp(dg, "sha256", 6) != 0)
		return error_set(err, WP_EVERIFY,
				 "invalid descriptor %s: unsupported digest algorithm \"%.*s\"", name,
				 (int)(colon - dg), dg);
	if (!is_sha256_hex(colon + 1))
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: invalid digest \"%s\"", name,
				 dg);
	d->digest = xstrdup(dg);

	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(j, "size");
	if (!cJSON_IsNumber(sz))
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: no size", name);
	double v = sz->valuedouble;
	if (!(v >= 0) || v > SIZE_MAX_EXACT || (double)(uint64_t)v != v)
		return error_set(err, WP_EVERIFY, "invalid descriptor %s: invalid size %g", name, v);
	d->size = (uint64_t)v;

	d->annotations_json = json_object_text(j, "annotations");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "platform");
	if (platform && cJSON_IsObject(p)) {
		d->platform.os = xstrdup(json_str(p, "os"));
		d->platform.architecture = xstrdup(json_str(p, "architecture"));
		d->platform.variant = xstrdup(json_str(p, "variant"));
	}
	return WP_OK;
}

static void descriptor_release(struct descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->annotations_json);
	platform_release(&d->platform);
	memset(d, 0, sizeof(*d));
}

static enum wp_err parse_descriptors(const cJSON *arr, const char *what, bool platform,
				     struct descriptor **out, size_t *n, struct error *err)
{
	enum wp_err rc = WP_OK;
	size_t count;

	if (!cJSON_IsArray(arr))
		return error_set(err, WP_EVERIFY, "manifest has no %s array", what);
	count = (size_t)cJSON_GetArraySize(arr);
	*out = xcalloc(count, sizeof(**out));
	*n = count;
	for (size_t i = 0; i < count && rc == WP_OK; i++)
		rc = parse_descriptor(cJSON_GetArrayItem(arr, (int)i), what, i, platform, &(*out)[i],
				      err);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key twice in one object: JSON parsers disagree on which one wins (cJSON
 * the first, Go the last), so the registry and we could read two manifests.
 * Sorting each object's keys keeps this O(n log n) on a 4 MiB manifest. */
static bool has_duplicate_keys(const cJSON *j, int depth)
{
	const char **keys = NULL;
	size_t n = 0, cap = 0;
	bool dup = false;

	if (depth > 64)
		return true;
	for (const cJSON *a = j ? j->child : NULL; a && !dup; a = a->next) {
		if (cJSON_IsObject(j) && a->string) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				keys = xrealloc(keys, cap * sizeof(*keys));
			}
			keys[n++] = a->string;
		}
		if ((cJSON_IsObject(a) || cJSON_IsArray(a)) && has_duplicate_keys(a, depth + 1))
			dup = true;
	}
	if (!dup && n > 1) {
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (size_t i = 1; i < n && !dup; i++)
			dup = strcmp(keys[i - 1], keys[i]) == 0;
	}
	free(keys);
	return dup;
}

enum wp_err manifest_parse(const char *body, size_t len, const char *content_type,
			   struct manifest *m, struct error *err)
{
	cJSON *root = NULL;
	char *ct = NULL;
	enum wp_err rc = WP_OK;

	memset(m, 0, sizeof(*m));
	if (len > MANIFEST_MAX) {
		rc = error_set(err, WP_EVERIFY, "manifest is larger than 4 MiB");
		goto out;
	}
	const char *end = NULL;
	root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	while (root && end < body + len && strchr(" \t\r\n", *end) && *end)
		end++;
	if (!root || end != body + len) {
		rc = error_set(err, WP_EVERIFY, "manifest is not valid JSON");
		goto out;
	}
	if (has_duplicate_keys(root, 0)) {
		rc = error_set(err, WP_EVERIFY, "manifest has a key twice in one object");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = error_set(err, WP_EVERIFY, "manifest is not a JSON object");
		goto out;
	}

	const cJSON *sv = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
	if (!cJSON_IsNumber(sv)) {
		rc = error_set(err, WP_EVERIFY, "manifest has no schemaVersion");
		goto out;
	}
	if (sv->valuedouble != 2) {
		rc = error_set(err, WP_EVERIFY, "unsupported manifest schemaVersion %g",
			       sv->valuedouble);
		goto out;
	}

	ct = content_type ? bare_content_type(content_type) : NULL;
	const cJSON *mtj = cJSON_GetObjectItemCaseSensitive(root, "mediaType");
	if (mtj && !cJSON_IsString(mtj)) {
		rc = error_set(err, WP_EVERIFY, "manifest mediaType is not a string");
		goto out;
	}
	const char *mt = mtj ? mtj->valuestring : NULL;
	if (mt && ct && is_manifest_content_type(ct) && strcmp(mt, ct) != 0) {
		rc = error_set(err, WP_EVERIFY,
			       "manifest media type %s does not match content type %s", mt, ct);
		goto out;
	}
	if (!mt && ct && is_known_type(ct))
		mt = ct;
	/* OCI lets the body omit mediaType; the shape then says which it is. */
	if (!mt)
		mt = cJSON_HasObjectItem(root, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	if (!is_known_type(mt)) {
		rc = error_set(err, WP_EVERIFY, "unsupported manifest media type %s", mt);
		goto out;
	}
	m->media_type = xstrdup(mt);
	m->is_index = is_index_type(mt);
	m->annotations_json = json_object_text(root, "annotations");
	m->artifact_type = xstrdup(json_str(root, "artifactType"));

	if (m->is_index) {
		rc = parse_descriptors(cJSON_GetObjectItemCaseSensitive(root, "manifests"),
				       "manifests", true, &m->manifests, &m->n_manifests, err);
		goto out;
	}
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
	if (!cfg) {
		rc = error_set(err, WP_EVERIFY, "manifest has no config");
		goto out;
	}
	rc = parse_descriptor(cfg, "config", (size_t)-1, false, &m->config, err);
	if (rc != WP_OK)
		goto out;
	rc = parse_descriptors(cJSON_GetObjectItemCaseSensitive(root, "layers"), "layers", false,
			       &m->layers, &m->n_layers, err);

out:
	if (rc != WP_OK)
		manifest_release(m);
	free(ct);
	cJSON_Delete(root);
	return rc;
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_release(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->n_manifests; i++)
		descriptor_release(&m->manifests[i]);
	free(m->manifests);
	free(m->annotations_json);
	free(m->artifact_type);
	memset(m, 0, sizeof(*m));
}

/* ---- platform selection ---- */

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Attestation entries (buildx) carry platform unknown/unknown: never a choice. */
static bool is_attestation(const struct descriptor *d)
{
	return str_eq(d->platform.os, "unknown") && str_eq(d->platform.architecture, "unknown");
}

/* arm64 without a variant is v8 (as containerd normalises it). */
static const char *variant_of(const struct platform *p)
{
	if (p->variant && *p->variant)
		return p->variant;
	return str_eq(p->architecture, "arm64") ? "v8" : NULL;
}

/* exact: the variants agree too (both absent counts); else any variant of a
 * wanted OS/ARCH without one matches. */
static bool platform_matches(const struct platform *have, const struct platform *want, bool exact)
{
	const char *hv = variant_of(have), *wv = variant_of(want);

	if (!str_eq(have->os, want->os) || !str_eq(have->architecture, want->architecture))
		return false;
	if (exact)
		return (!hv && !wv) || (hv && wv && !strcmp(hv, wv));
	return !wv;
}

/* "a, b, c" of the distinct platforms in the index, the caller frees. */
static char *platform_list(const struct manifest *index)
{
	struct strbuf sb;
	char **seen = xcalloc(index->n_manifests, sizeof(*seen));
	size_t n_seen = 0;

	strbuf_init(&sb);
	for (size_t i = 0; i < index->n_manifests; i++) {
		if (is_attestation(&index->manifests[i]))
			continue;
		char *s = platform_string(&index->manifests[i].platform);
		bool dup = false;
		for (size_t k = 0; k < n_seen && !dup; k++)
			dup = strcmp(seen[k], s) == 0;
		if (dup) {
			free(s);
			continue;
		}
		if (n_seen)
			strbuf_addstr(&sb, ", ");
		strbuf_addstr(&sb, s);
		seen[n_seen++] = s;
	}
	if (!n_seen)
		strbuf_addstr(&sb, "none");
	for (size_t k = 0; k < n_seen; k++)
		free(seen[k]);
	free(seen);
	return strbuf_detach(&sb);
}

enum wp_err manifest_select(const struct manifest *index, const char *want, size_t *pick,
			    struct error *err)
{
	static const struct {
		const char *os, *arch;
	} prefs[] = {
		{ "wasip1", "wasm" },
		{ "wasi", "wasm" },
		{ "wasip2", "wasm" },
		{ "linux", "amd64" },
	};
	struct platform w = { 0 };
	char *list = NULL;
	enum wp_err rc = WP_OK;

	if (!index->is_index) {
		rc = error_set(err, WP_EFAIL, "manifest is not an index");
		goto out;
	}
	if (want) {
		if (!platform_parse(want, &w)) {
			rc = error_set(err, WP_EUSAGE, "invalid platform \"%s\"", want);
			goto out;
		}
		for (int exact = 1; exact >= 0; exact--)
			for (size_t i = 0; i < index->n_manifests; i++)
				if (platform_matches(&index->manifests[i].platform, &w, exact)) {
					*pick = i;
					goto out;
				}
		list = platform_list(index);
		rc = error_set(err, WP_ENOTFOUND, "no entry for platform %s; available: %s", want,
			       list);
		goto out;
	}

	for (size_t k = 0; k < ARRAY_SIZE(prefs); k++) {
		struct platform p = { (char *)prefs[k].os, (char *)prefs[k].arch, NULL };
		for (int exact = 1; exact >= 0; exact--)
			for (size_t i = 0; i < index->n_manifests; i++)
				if (platform_matches(&index->manifests[i].platform, &p, exact)) {
					*pick = i;
					goto out;
				}
	}
	size_t candidates = 0, last = 0;
	for (size_t i = 0; i < index->n_manifests; i++) {
		if (!is_attestation(&index->manifests[i])) {
			candidates++;
			last = i;
		}
	}
	if (candidates == 1) {
		*pick = last;
		goto out;
	}
	list = platform_list(index);
	if (candidates == 0)
		rc = error_set(err, WP_EVERIFY, "index has no usable entries; available: %s", list);
	else
		rc = error_set(err, WP_EVERIFY,
			       "ambiguous index, no wasm or linux/amd64 entry; available: %s", list);
out:
	free(list);
	platform_release(&w);
	return rc;
}

/* ---- format detection ---- */

static enum wasm_format format_of_config(const struct manifest *m)
{
	const char *ct = m->config.media_type;

	if (strcmp(ct, MT_CNCF_CONFIG) == 0)
		return FMT_CNCF;
	if (strcmp(ct, MT_WASME_CONFIG) == 0)
		return FMT_WASME;
	if (strcmp(ct, MT_W2O_CONFIG) == 0)
		return FMT_WASM_TO_OCI;
	if (strcmp(ct, MT_OCI_CONFIG) == 0 || strcmp(ct, MT_DOCKER_CONFIG) == 0)
		return strcmp(m->media_type, MT_DOCKER_MANIFEST) == 0 ? FMT_DOCKER_COMPAT :
									FMT_COMPAT;
	if (strcmp(ct, MT_OCI_EMPTY) == 0 && str_eq(m->artifact_type, MT_CNCF_CONFIG))
		return FMT_CNCF;
	return FMT_UNKNOWN;
}

enum wp_err manifest_find_module(const struct manifest *m, enum wasm_format *fmt,
				 size_t *layer, enum layer_kind *kind, struct error *err)
{
	struct strbuf found;
	size_t n_found = 0, first = 0;
	enum wp_err rc = WP_OK;

	strbuf_init(&found);
	if (m->is_index) {
		rc = error_set(err, WP_EFAIL, "an index has no layers; choose a platform first");
		goto out;
	}
	enum wasm_format f = format_of_config(m);
	if (f == FMT_UNKNOWN) {
		if (strcmp(m->config.media_type, MT_OCI_EMPTY) == 0 && m->artifact_type)
			rc = error_set(err, WP_EVERIFY, "unsupported artifact type %s",
				       m->artifact_type);
		else
			rc = error_set(err, WP_EVERIFY, "unknown config media type %s",
				       m->config.media_type);
		goto out;
	}

	for (size_t i = 0; i < m->n_layers; i++) {
		if (!in_list(m->layers[i].media_type, raw_layer_types, ARRAY_SIZE(raw_layer_types)))
			continue;
		if (n_found++ == 0)
			first = i;
		strbuf_addf(&found, "%s%s", n_found > 1 ? ", " : "", m->layers[i].digest);
	}
	if (n_found > 1) {
		rc = error_set(err, WP_EVERIFY, "more than one module layer: %s", found.buf);
		goto out;
	}
	if (n_found == 1) {
		*fmt = f;
		*layer = first;
		*kind = LAYER_RAW;
		goto out;
	}
	if (m->n_layers == 0) {
		rc = error_set(err, WP_EVERIFY, "unsupported artifact: manifest has no layers");
		goto out;
	}
	/* Images put the module in their last layer, as Istio does. */
	const struct descriptor *last = &m->layers[m->n_layers - 1];
	if ((f == FMT_COMPAT || f == FMT_DOCKER_COMPAT) &&
	    in_list(last->media_type, archive_layer_types, ARRAY_SIZE(archive_layer_types))) {
		*fmt = f;
		*layer = m->n_layers - 1;
		*kind = LAYER_ARCHIVE;
		goto out;
	}
	rc = error_set(err, WP_EVERIFY, "unsupported artifact: layer media type %s",
		       last->media_type);
out:
	strbuf_release(&found);
	return rc;
}

const char *wasm_format_name(enum wasm_format f)
{
	switch (f) {
	case FMT_UNKNOWN:
		return "unknown";
	case FMT_CNCF:
		return "cncf";
	case FMT_WASME:
		return "wasme";
	case FMT_WASM_TO_OCI:
		return "wasm-to-oci";
	case FMT_COMPAT:
		return "compat";
	case FMT_DOCKER_COMPAT:
		return "docker-compat";
	}
	return "unknown";
}

char *platform_string(const struct platform *p)
{
	const char *os = p->os && *p->os ? p->os : "unknown";
	const char *arch = p->architecture && *p->architecture ? p->architecture : "unknown";

	if (p->variant && *p->variant)
		return xasprintf("%s/%s/%s", os, arch, p->variant);
	return xasprintf("%s/%s", os, arch);
}

bool platform_parse(const char *s, struct platform *p)
{
	const char *a = NULL, *b = NULL;

	memset(p, 0, sizeof(*p));
	if (!s || strpbrk(s, " \t\r\n"))
		return false;
	a = strchr(s, '/');
	if (!a || a == s)
		return false;
	b = strchr(a + 1, '/');
	if (b == a + 1 || a[1] == '\0')
		return false;
	if (b && (b[1] == '\0' || strchr(b + 1, '/')))
		return false;
	p->os = xstrndup(s, (size_t)(a - s));
	if (b) {
		p->architecture = xstrndup(a + 1, (size_t)(b - a - 1));
		p->variant = xstrdup(b + 1);
	} else {
		p->architecture = xstrdup(a + 1);
	}
	return true;
}

void platform_release(struct platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	memset(p, 0, sizeof(*p));
}
