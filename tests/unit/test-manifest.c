/* Table-driven tests for manifest decoding, format detection and platform choice. */
#include <stdlib.h>

#include "check.h"
#include "manifest.h"
#include "util.h"

#define HEX(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	       c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DA "sha256:" HEX("a")
#define DB "sha256:" HEX("b")
#define DC "sha256:" HEX("c")
#define DD "sha256:" HEX("d")

#define DESC(mt, dg, size) "{\"mediaType\":\"" mt "\",\"digest\":\"" dg "\",\"size\":" size "}"
#define MANIFEST(mt, cfg, layers) \
	"{\"schemaVersion\":2,\"mediaType\":\"" mt "\",\"config\":" cfg ",\"layers\":[" layers "]}"
#define OCI(cfg, layers) MANIFEST(MT_OCI_MANIFEST, cfg, layers)

#define CNCF_CFG DESC("application/vnd.wasm.config.v0+json", DA, "100")
#define WASME_CFG DESC("application/vnd.module.wasm.config.v1+json", DA, "2")
#define W2O_CFG DESC("application/vnd.wasm.config.v1+json", DA, "2")
#define IMG_CFG DESC("application/vnd.oci.image.config.v1+json", DA, "300")
#define DOCKER_CFG DESC("application/vnd.docker.container.image.v1+json", DA, "300")
#define EMPTY_CFG DESC("application/vnd.oci.empty.v1+json", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "2")
#define WASM_LAYER(dg) DESC("application/wasm", dg, "77")
#define COMPONENT_LAYER DESC("application/vnd.bytecodealliance.wasm.component.layer.v0+wasm", DC, "900")
#define TGZ(dg) DESC("application/vnd.oci.image.layer.v1.tar+gzip", dg, "1000")

static const struct {
	const char *name, *json, *content_type;
	enum wp_err parse_rc, find_rc;
	enum wasm_format fmt;
	size_t layer;
	enum layer_kind kind;
	const char *msg; /* substring of the error */
} cases[] = {
	{ "cncf", OCI(CNCF_CFG, WASM_LAYER(DB)), NULL, WP_OK, WP_OK, FMT_CNCF, 0, LAYER_RAW, NULL },
	{ "cncf with annotations",
	  "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":" CNCF_CFG
	  ",\"layers\":[{\"mediaType\":\"application/wasm\",\"digest\":\"" DB
	  "\",\"size\":77,\"annotations\":{\"org.opencontainers.image.title\":\"m.wasm\"}}],"
	  "\"annotations\":{\"a\": \"b\",  \"c\":\"d\"}}",
	  MT_OCI_MANIFEST, WP_OK, WP_OK, FMT_CNCF, 0, LAYER_RAW, NULL },
	{ "cncf artifactType, empty config",
	  "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST
	  "\",\"artifactType\":\"application/vnd.wasm.config.v0+json\",\"config\":" EMPTY_CFG
	  ",\"layers\":[" WASM_LAYER(DB) "]}",
	  NULL, WP_OK, WP_OK, FMT_CNCF, 0, LAYER_RAW, NULL },
	{ "other artifactType, empty config",
	  "{\"schemaVersion\":2,\"artifactType\":\"application/vnd.example\",\"config\":" EMPTY_CFG
	  ",\"layers\":[" WASM_LAYER(DB) "]}",
	  NULL, WP_OK, WP_EVERIFY, FMT_UNKNOWN, 0, LAYER_RAW,
	  "unsupported artifact type application/vnd.example" },
	{ "wasme with runtime config",
	  OCI(WASME_CFG, DESC("application/vnd.module.wasm.runtime.config.v1+json", DB, "10") ","
	      DESC("application/vnd.module.wasm.content.layer.v1+wasm", DC, "77")),
	  NULL, WP_OK, WP_OK, FMT_WASME, 1, LAYER_RAW, NULL },
	{ "wasm-to-oci", OCI(W2O_CFG, DESC("application/vnd.wasm.content.layer.v1+wasm", DB, "77")),
	  NULL, WP_OK, WP_OK, FMT_WASM_TO_OCI, 0, LAYER_RAW, NULL },
	{ "compat takes the last layer", OCI(IMG_CFG, TGZ(DB) "," TGZ(DC)), NULL, WP_OK, WP_OK,
	  FMT_COMPAT, 1, LAYER_ARCHIVE, NULL },
	{ "compat tar", OCI(IMG_CFG, DESC("application/vnd.oci.image.layer.v1.tar", DB, "1")), NULL,
	  WP_OK, WP_OK, FMT_COMPAT, 0, LAYER_ARCHIVE, NULL },
	{ "compat zstd",
	  OCI(IMG_CFG, DESC("application/vnd.oci.image.layer.v1.tar+zstd", DB, "1")), NULL,
	  WP_OK, WP_OK, FMT_COMPAT, 0, LAYER_ARCHIVE, NULL },
	{ "compat last layer not tar",
	  OCI(IMG_CFG, TGZ(DB) "," DESC("application/x-foo", DC, "1")), NULL, WP_OK, WP_EVERIFY,
	  FMT_UNKNOWN, 0, LAYER_RAW, "unsupported artifact: layer media type application/x-foo" },
	{ "docker-compat",
	  MANIFEST(MT_DOCKER_MANIFEST, DOCKER_CFG,
		   DESC("application/vnd.docker.image.rootfs.diff.tar.gzip", DB, "5") ","
		   DESC("application/vnd.docker.image.rootfs.diff.tar.gzip", DC, "6")),
	  MT_DOCKER_MANIFEST, WP_OK, WP_OK, FMT_DOCKER_COMPAT, 1, LAYER_ARCHIVE, NULL },
	{ "component in cncf", OCI(CNCF_CFG, COMPONENT_LAYER), NULL, WP_OK, WP_OK, FMT_CNCF, 0,
	  LAYER_RAW, NULL },
	{ "component in image", OCI(IMG_CFG, TGZ(DB) "," COMPONENT_LAYER), NULL, WP_OK, WP_OK,
	  FMT_COMPAT, 1, LAYER_RAW, NULL },
	{ "component in wasme", OCI(WASME_CFG, COMPONENT_LAYER), NULL, WP_OK, WP_OK, FMT_WASME, 0,
	  LAYER_RAW, NULL },
	{ "two module layers", OCI(CNCF_CFG, WASM_LAYER(DB) "," WASM_LAYER(DC)), NULL, WP_OK,
	  WP_EVERIFY, FMT_UNKNOWN, 0, LAYER_RAW,
	  "more than one module layer: " DB ", " DC },
	{ "no module layer", OCI(CNCF_CFG, DESC("text/plain", DB, "3")), NULL, WP_OK, WP_EVERIFY,
	  FMT_UNKNOWN, 0, LAYER_RAW, "unsupported artifact: layer media type text/plain" },
	{ "no layers", OCI(CNCF_CFG, ""), NULL, WP_OK, WP_EVERIFY, FMT_UNKNOWN, 0, LAYER_RAW,
	  "no layers" },
	{ "unknown config", OCI(DESC("application/vnd.example.config+json", DA, "1"), WASM_LAYER(DB)),
	  NULL, WP_OK, WP_EVERIFY, FMT_UNKNOWN, 0, LAYER_RAW,
	  "unknown config media type application/vnd.example.config+json" },
	/* mediaType from Content-Type when the body has none */
	{ "content type", "{\"schemaVersion\":2,\"config\":" CNCF_CFG ",\"layers\":[" WASM_LAYER(DB) "]}",
	  MT_OCI_MANIFEST "; charset=utf-8", WP_OK, WP_OK, FMT_CNCF, 0, LAYER_RAW, NULL },
	{ "contradicting content type", OCI(CNCF_CFG, WASM_LAYER(DB)), MT_DOCKER_MANIFEST,
	  WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "does not match content type" },
	{ "generic content type", OCI(CNCF_CFG, WASM_LAYER(DB)), "application/json", WP_OK, WP_OK,
	  FMT_CNCF, 0, LAYER_RAW, NULL },
	/* broken manifests */
	{ "not json", "<html>", NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW,
	  "manifest is not valid JSON" },
	{ "truncated", "{\"schemaVersion\":2,", NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW,
	  "manifest is not valid JSON" },
	{ "trailing garbage", OCI(CNCF_CFG, WASM_LAYER(DB)) "garbage", NULL, WP_EVERIFY, WP_OK,
	  FMT_UNKNOWN, 0, LAYER_RAW, "manifest is not valid JSON" },
	{ "trailing whitespace", OCI(CNCF_CFG, WASM_LAYER(DB)) " \n", NULL, WP_OK, WP_OK, FMT_CNCF, 0,
	  LAYER_RAW, NULL },
	{ "a key twice", "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":"
	  CNCF_CFG ",\"layers\":[" WASM_LAYER(DB) "],\"layers\":[]}", NULL, WP_EVERIFY, WP_OK,
	  FMT_UNKNOWN, 0, LAYER_RAW, "key twice" },
	{ "a key twice, nested", OCI(CNCF_CFG, "{\"mediaType\":\"application/wasm\",\"digest\":\"" DB
	  "\",\"size\":77,\"size\":5}"), NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW,
	  "key twice" },
	{ "array", "[]", NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "not a JSON object" },
	{ "schema 1", "{\"schemaVersion\":1,\"name\":\"x\"}", NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0,
	  LAYER_RAW, "schemaVersion 1" },
	{ "no schema", "{\"config\":" CNCF_CFG "}", NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0,
	  LAYER_RAW, "no schemaVersion" },
	{ "sha512 layer", OCI(CNCF_CFG, DESC("application/wasm", "sha512:" HEX("a") HEX("a"), "1")),
	  NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "unsupported digest algorithm" },
	{ "short digest", OCI(CNCF_CFG, DESC("application/wasm", "sha256:abc", "1")), NULL,
	  WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "invalid digest \"sha256:abc\"" },
	{ "uppercase digest", OCI(CNCF_CFG, DESC("application/wasm", "sha256:" HEX("A"), "1")), NULL,
	  WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "invalid digest" },
	{ "no algorithm", OCI(DESC("application/vnd.wasm.config.v0+json", HEX("a"), "1"), ""), NULL,
	  WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "config: invalid digest" },
	{ "negative size", OCI(CNCF_CFG, DESC("application/wasm", DB, "-1")), NULL, WP_EVERIFY,
	  WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "layers[0]: invalid size" },
	{ "fractional size", OCI(CNCF_CFG, DESC("application/wasm", DB, "1.5")), NULL, WP_EVERIFY,
	  WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "invalid size" },
	{ "string size", OCI(CNCF_CFG, DESC("application/wasm", DB, "\"1\"")), NULL, WP_EVERIFY,
	  WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "no size" },
	{ "no media type", OCI(CNCF_CFG, "{\"digest\":\"" DB "\",\"size\":1}"), NULL, WP_EVERIFY,
	  WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "no mediaType" },
	{ "no config", "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"layers\":[]}",
	  NULL, WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "no config" },
	{ "layers not array", "{\"schemaVersion\":2,\"config\":" CNCF_CFG ",\"layers\":{}}", NULL,
	  WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW, "no layers array" },
	{ "unknown manifest type", MANIFEST("application/vnd.example+json", CNCF_CFG, ""), NULL,
	  WP_EVERIFY, WP_OK, FMT_UNKNOWN, 0, LAYER_RAW,
	  "unsupported manifest media type application/vnd.example+json" },
};

static void test_manifests(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct manifest m;
		struct error err;
		enum wasm_format fmt = FMT_UNKNOWN;
		size_t layer = 99;
		enum layer_kind kind = LAYER_RAW;

		error_init(&err);
		enum wp_err rc = manifest_parse(cases[i].json, strlen(cases[i].json),
					       cases[i].content_type, &m, &err);
		CHECK(rc == cases[i].parse_rc, "%s: parse rc %d: %s", cases[i].name, (int)rc, err.msg);
		if (rc == WP_OK) {
			CHECK(!m.is_index, "%s: is_index", cases[i].name);
			rc = manifest_find_module(&m, &fmt, &layer, &kind, &err);
			CHECK(rc == cases[i].find_rc, "%s: find rc %d: %s", cases[i].name, (int)rc,
			      err.msg);
			if (rc == WP_OK) {
				CHECK(fmt == cases[i].fmt, "%s: fmt %s", cases[i].name,
				      wasm_format_name(fmt));
				CHECK(layer == cases[i].layer, "%s: layer %zu", cases[i].name, layer);
				CHECK(kind == cases[i].kind, "%s: kind", cases[i].name);
			}
		} else {
			CHECK(m.media_type == NULL && m.layers == NULL, "%s: cleared", cases[i].name);
		}
		if (cases[i].msg)
			CHECK(strstr(err.msg, cases[i].msg) != NULL, "%s: message \"%s\"", cases[i].name,
			      err.msg);
		else
			CHECK(err.code == WP_OK, "%s: unexpected error %s", cases[i].name, err.msg);
		manifest_release(&m);
	}
}

static void test_fields(void)
{
	const char *json = cases[1].json;
	struct manifest m;
	struct error err;

	error_init(&err);
	CHECK(manifest_parse(json, strlen(json), NULL, &m, &err) == WP_OK, "%s", err.msg);
	CHECK_STR(m.media_type, MT_OCI_MANIFEST);
	CHECK_STR(m.annotations_json, "{\"a\":\"b\",\"c\":\"d\"}");
	CHECK_STR(m.config.media_type, "application/vnd.wasm.config.v0+json");
	CHECK_STR(m.config.digest, DA);
	CHECK(m.config.size == 100, "config size");
	CHECK(m.n_layers == 1, "n_layers %zu", m.n_layers);
	CHECK_STR(m.layers[0].annotations_json, "{\"org.opencontainers.image.title\":\"m.wasm\"}");
	CHECK(m.layers[0].size == 77, "layer size");
	CHECK(m.artifact_type == NULL, "artifact_type");
	manifest_release(&m);
	manifest_release(&m); /* release twice is harmless */
}

#define PLAT(os, arch) "\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"}"
#define PLATV(os, arch, v) \
	"\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\",\"variant\":\"" v "\"}"
#define ENTRY(dg, plat) "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" dg "\",\"size\":500," plat "}"
#define ENTRY_NOPLAT(dg) "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" dg "\",\"size\":500}"
#define INDEX(entries) "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[" entries "]}"

static const struct {
	const char *name, *json, *want;
	enum wp_err rc;
	size_t pick;
	const char *msg;
} indexes[] = {
	{ "wasip1 over linux/amd64",
	  INDEX(ENTRY(DA, PLAT("linux", "amd64")) "," ENTRY(DB, PLAT("wasip1", "wasm"))), NULL,
	  WP_OK, 1, NULL },
	{ "wasi", INDEX(ENTRY(DA, PLAT("linux", "amd64")) "," ENTRY(DB, PLAT("wasi", "wasm"))),
	  NULL, WP_OK, 1, NULL },
	{ "wasi over wasip2",
	  INDEX(ENTRY(DA, PLAT("wasip2", "wasm")) "," ENTRY(DB, PLAT("wasi", "wasm"))), NULL, WP_OK,
	  1, NULL },
	{ "wasip1 over wasip2",
	  INDEX(ENTRY(DA, PLAT("wasip2", "wasm")) "," ENTRY(DB, PLAT("wasip1", "wasm"))), NULL,
	  WP_OK, 1, NULL },
	{ "wasip2", INDEX(ENTRY(DA, PLAT("linux", "arm64")) "," ENTRY(DB, PLAT("wasip2", "wasm"))),
	  NULL, WP_OK, 1, NULL },
	{ "linux/amd64 only",
	  INDEX(ENTRY(DA, PLAT("linux", "arm64")) "," ENTRY(DB, PLATV("linux", "amd64", "v3")) ","
	  ENTRY(DC, PLAT("linux", "s390x"))),
	  NULL, WP_OK, 1, NULL },
	{ "sole entry", INDEX(ENTRY(DA, PLAT("linux", "arm64"))), NULL, WP_OK, 0, NULL },
	{ "sole entry without platform", INDEX(ENTRY_NOPLAT(DA)), NULL, WP_OK, 0, NULL },
	{ "sole entry beside attestation",
	  INDEX(ENTRY(DA, PLAT("unknown", "unknown")) "," ENTRY(DB, PLAT("linux", "arm64"))), NULL,
	  WP_OK, 1, NULL },
	{ "ambiguous",
	  INDEX(ENTRY(DA, PLAT("linux", "arm64")) "," ENTRY(DB, PLATV("linux", "arm", "v7"))), NULL,
	  WP_EVERIFY, 0, "available: linux/arm64, linux/arm/v7" },
	{ "empty", INDEX(""), NULL, WP_EVERIFY, 0, "available: none" },
	{ "want", INDEX(ENTRY(DA, PLAT("wasip1", "wasm")) "," ENTRY(DB, PLAT("linux", "amd64"))),
	  "linux/amd64", WP_OK, 1, NULL },
	{ "want variant",
	  INDEX(ENTRY(DA, PLATV("linux", "arm", "v6")) "," ENTRY(DB, PLATV("linux", "arm", "v7"))),
	  "linux/arm/v7", WP_OK, 1, NULL },
	{ "want without variant",
	  INDEX(ENTRY(DA, PLAT("linux", "amd64")) "," ENTRY(DB, PLATV("linux", "arm", "v7"))),
	  "linux/arm", WP_OK, 1, NULL },
	{ "arm64 without variant is v8", INDEX(ENTRY(DA, PLAT("linux", "amd64")) "," ENTRY(DB,
	  PLAT("linux", "arm64"))), "linux/arm64/v8", WP_OK, 1, NULL },
	{ "v8 entry for plain arm64", INDEX(ENTRY(DA, PLATV("linux", "arm64", "v8"))), "linux/arm64",
	  WP_OK, 0, NULL },
	{ "exact variant first", INDEX(ENTRY(DA, PLATV("linux", "amd64", "v3")) "," ENTRY(DB,
	  PLAT("linux", "amd64"))), "linux/amd64", WP_OK, 1, NULL },
	{ "no v7 for v6", INDEX(ENTRY(DA, PLATV("linux", "arm", "v7"))), "linux/arm/v6",
	  WP_ENOTFOUND, 0, "no entry for platform linux/arm/v6" },
	{ "want not there",
	  INDEX(ENTRY(DA, PLAT("linux", "amd64")) "," ENTRY(DB, PLAT("wasip1", "wasm")) ","
	  ENTRY(DC, PLAT("linux", "amd64"))),
	  "wasip2/wasm", WP_ENOTFOUND, 0,
	  "no entry for platform wasip2/wasm; available: linux/amd64, wasip1/wasm" },
	{ "want bad", INDEX(ENTRY(DA, PLAT("linux", "amd64"))), "linux", WP_EUSAGE, 0,
	  "invalid platform \"linux\"" },
};

static void test_indexes(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(indexes); i++) {
		struct manifest m;
		struct error err;
		size_t pick = 99;

		error_init(&err);
		enum wp_err rc = manifest_parse(indexes[i].json, strlen(indexes[i].json), NULL, &m, &err);
		CHECK(rc == WP_OK, "%s: %s", indexes[i].name, err.msg);
		CHECK(m.is_index, "%s: is_index", indexes[i].name);
		rc = manifest_select(&m, indexes[i].want, &pick, &err);
		CHECK(rc == indexes[i].rc, "%s: rc %d: %s", indexes[i].name, (int)rc, err.msg);
		if (rc == WP_OK)
			CHECK(pick == indexes[i].pick, "%s: pick %zu", indexes[i].name, pick);
		if (indexes[i].msg)
			CHECK(strstr(err.msg, indexes[i].msg) != NULL, "%s: message \"%s\"",
			      indexes[i].name, err.msg);
		manifest_release(&m);
	}
}

static void test_index_fields(void)
{
	const char *json = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
			   "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" DA "\",\"size\":7,"
			   PLATV("linux", "arm64", "v8") ",\"annotations\":{\"k\":\"v\"}}]}";
	struct manifest m;
	struct error err;
	enum wasm_format fmt;
	size_t layer;
	enum layer_kind kind;

	error_init(&err);
	CHECK(manifest_parse(json, strlen(json), MT_DOCKER_LIST, &m, &err) == WP_OK, "%s", err.msg);
	CHECK(m.is_index && m.n_manifests == 1, "index");
	CHECK_STR(m.manifests[0].platform.os, "linux");
	CHECK_STR(m.manifests[0].platform.architecture, "arm64");
	CHECK_STR(m.manifests[0].platform.variant, "v8");
	CHECK_STR(m.manifests[0].annotations_json, "{\"k\":\"v\"}");
	char *s = platform_string(&m.manifests[0].platform);
	CHECK_STR(s, "linux/arm64/v8");
	free(s);
	CHECK(manifest_find_module(&m, &fmt, &layer, &kind, &err) != WP_OK, "index has module");
	manifest_release(&m);

	/* An index body named by Content-Type only. */
	json = "{\"schemaVersion\":2,\"manifests\":[]}";
	error_init(&err);
	CHECK(manifest_parse(json, strlen(json), NULL, &m, &err) == WP_OK, "%s", err.msg);
	CHECK_STR(m.media_type, MT_OCI_INDEX);
	manifest_release(&m);

	/* A manifest is not an index to select from. */
	json = OCI(CNCF_CFG, WASM_LAYER(DB));
	error_init(&err);
	CHECK(manifest_parse(json, strlen(json), NULL, &m, &err) == WP_OK, "%s", err.msg);
	size_t pick;
	CHECK(manifest_select(&m, NULL, &pick, &err) != WP_OK, "select on manifest");
	manifest_release(&m);
}

static const struct {
	const char *in;
	bool ok;
	const char *out;
} platforms[] = {
	{ "wasip1/wasm", true, "wasip1/wasm" },
	{ "linux/arm/v7", true, "linux/arm/v7" },
	{ "linux", false, NULL },
	{ "linux/", false, NULL },
	{ "/amd64", false, NULL },
	{ "linux/arm/", false, NULL },
	{ "linux//v7", false, NULL },
	{ "a/b/c/d", false, NULL },
	{ "linux/amd 64", false, NULL },
	{ "", false, NULL },
};

static void test_platforms(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(platforms); i++) {
		struct platform p;
		bool ok = platform_parse(platforms[i].in, &p);
		CHECK(ok == platforms[i].ok, "%s", platforms[i].in);
		if (ok) {
			char *s = platform_string(&p);
			CHECK_STR(s, platforms[i].out);
			free(s);
		}
		platform_release(&p);
	}
	CHECK_STR(wasm_format_name(FMT_CNCF), "cncf");
	CHECK_STR(wasm_format_name(FMT_WASME), "wasme");
	CHECK_STR(wasm_format_name(FMT_WASM_TO_OCI), "wasm-to-oci");
	CHECK_STR(wasm_format_name(FMT_COMPAT), "compat");
	CHECK_STR(wasm_format_name(FMT_DOCKER_COMPAT), "docker-compat");
}

/* A manifest near the 4 MiB cap with 200k annotation keys: the duplicate-key
 * check must stay near-linear (a quadratic one runs into meson's timeout). */
static void test_many_keys(void)
{
	struct strbuf sb;
	struct manifest m;
	struct error err;
	enum wp_err rc;

	for (int dup = 0; dup < 2; dup++) {
		strbuf_init(&sb);
		strbuf_addstr(&sb, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":"
			      CNCF_CFG ",\"layers\":[" WASM_LAYER(DB) "],\"annotations\":{");
		for (int i = 0; i < 200000; i++)
			strbuf_addf(&sb, "%s\"k%d\":\"v\"", i ? "," : "", dup && i == 199999 ? 7 : i);
		strbuf_addstr(&sb, "}}");
		error_init(&err);
		rc = manifest_parse(sb.buf, sb.len, NULL, &m, &err);
		CHECK(rc == (dup ? WP_EVERIFY : WP_OK), "200k keys, dup=%d: rc %d %s", dup, rc, err.msg);
		if (rc == WP_OK)
			manifest_release(&m);
		strbuf_release(&sb);
	}
}

int main(void)
{
	test_many_keys();
	test_manifests();
	test_fields();
	test_indexes();
	test_index_fields();
	test_platforms();
	CHECK_DONE();
}
