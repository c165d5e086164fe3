/* Decoding OCI/Docker manifests and indexes, Wasm format detection and
 * platform selection (pure; cJSON). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MANIFEST_ACCEPT MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST
#define MANIFEST_MAX (4u << 20)

struct platform {
	char *os, *architecture, *variant; /* variant may be NULL */
};

struct descriptor {
	char *media_type;
	char *digest; /* "sha256:hex" (validated) */
	uint64_t size;
	struct platform platform; /* index entries only; zeroed otherwise */
	char *annotations_json; /* compact JSON object text or NULL */
};

enum wasm_format {
	FMT_UNKNOWN = 0,
	FMT_CNCF,
	FMT_WASME,
	FMT_WASM_TO_OCI,
	FMT_COMPAT,
	FMT_DOCKER_COMPAT,
};

/* How the module layer is stored. */
enum layer_kind { LAYER_RAW, LAYER_ARCHIVE };

struct manifest {
	char *media_type; /* from the body, else from Content-Type */
	bool is_index;
	struct descriptor config;     /* manifests only */
	struct descriptor *layers;    /* manifests only */
	size_t n_layers;
	struct descriptor *manifests; /* indexes only */
	size_t n_manifests;
	char *annotations_json;       /* compact JSON object text or NULL */
	char *artifact_type;          /* OCI 1.1 "artifactType" or NULL */
};

/*
 * Parses a manifest or index body. content_type (may be NULL) is used when the
 * body has no mediaType; a body mediaType that contradicts a manifest-ish
 * content_type is WP_EVERIFY. Not JSON, wrong schemaVersion, bad digests in
 * descriptors, negative sizes: WP_EVERIFY with a message saying what.
 */
enum wp_err manifest_parse(const char *body, size_t len, const char *content_type,
			   struct manifest *m, struct error *err);
void manifest_release(struct manifest *m);

/*
 * Picks the index entry to take. want (may be NULL) is "os/arch[/variant]":
 * no match is WP_ENOTFOUND listing the platforms there are. Without want:
 * wasm/wasip1, wasm/wasi, wasm/wasip2 (os/arch as "wasip1/wasm" in OCI terms:
 * architecture "wasm" with os "wasip1" etc.), then linux/amd64, then a sole
 * entry; otherwise WP_EVERIFY listing the platforms. Returns the index in *pick.
 */
enum wp_err manifest_select(const struct manifest *index, const char *want, size_t *pick,
			    struct error *err);

/*
 * Finds the module layer of a manifest and names its format. More than one
 * module layer: WP_EVERIFY listing them; no module layer or an unknown media
 * type: WP_EVERIFY naming the media type. *layer is the index in m->layers.
 */
enum wp_err manifest_find_module(const struct manifest *m, enum wasm_format *fmt,
				 size_t *layer, enum layer_kind *kind, struct error *err);

/* Borrowed: "cncf", "wasme", "wasm-to-oci", "compat", "docker-compat". */
const char *wasm_format_name(enum wasm_format f);
/* Returns "os/arch[/variant]", the caller frees. */
char *platform_string(const struct platform *p);
/* Parses "os/arch[/variant]"; false when malformed. */
bool platform_parse(const char *s, struct platform *p);
void platform_release(struct platform *p);
