/* Talking to an OCI distribution registry: auth (Basic, Bearer, identity
 * tokens, credential helpers), mirrors, insecure and plain-HTTP fallbacks,
 * manifest resolution through indexes, and verified blob downloads. */
#pragma once
#include <stdbool.h>

#include "cmd.h"
#include "err.h"
#include "fetch.h"
#include "manifest.h"
#include "ref.h"

struct registry;

/* What a reference resolved to. */
struct resolved {
	char *digest;         /* of what the reference names (an index's own digest included) */
	char *media_type;
	char *raw;            /* that manifest exactly as served */
	size_t raw_len;
	struct manifest top;  /* as parsed */
	bool from_index;
	char *chosen_digest;  /* the platform manifest taken from an index, or = digest */
	struct platform chosen_platform;
	struct manifest chosen; /* the manifest that holds the module (copy of top when no index) */
	enum wasm_format format;
	size_t layer;
	enum layer_kind kind;
	enum wp_err module_rc; /* why there is no module layer (inspect shows the rest anyway) */
	bool unchanged;       /* digest equals the one we knew: nothing past the top was fetched */
	char module_err[256];
};
void resolved_release(struct resolved *r);

/* Returns a session for r's registry (mirrors first), the caller frees. */
enum wp_err registry_new(const struct ref *r, const struct fetch_opts *o, double deadline,
			 struct registry **out, struct error *err);
void registry_free(struct registry *reg);
/*
 * GETs the manifest the reference names, verifies it, and when it is an index
 * follows the platform entry (want, or the default preference). A manifest
 * without a usable module layer is WP_OK with res->module_rc set, unless
 * need_module, when it is that error. When the reference still names the
 * digest known, only res->digest, raw and top are filled and res->unchanged
 * is set: a check under policy always costs one request.
 */
enum wp_err registry_resolve(struct registry *reg, const char *platform, bool need_module,
			     const char *known, struct resolved *res, struct error *err);
/* GETs the manifest the reference names, verified, exactly as served (inspect --raw). */
enum wp_err registry_get_manifest(struct registry *reg, char **body, size_t *len,
				  struct error *err);
/* Downloads a blob into f, verified against d's digest and size while streaming. */
enum wp_err registry_fetch_blob(struct registry *reg, const struct descriptor *d, struct fetch *f,
				struct error *err);
/* Downloads a small blob (a config) into memory, verified; the caller frees *body. */
enum wp_err registry_get_blob(struct registry *reg, const struct descriptor *d, size_t max,
			      char **body, size_t *len, struct error *err);
