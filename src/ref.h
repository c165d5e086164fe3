/* OCI references by the distribution reference grammar (pure). */
#pragma once
#include <stdbool.h>

#include "err.h"

/* A parsed reference; every string is owned by the struct. */
struct ref {
	char *registry; /* as written or "docker.io"; "[::1]:5000" keeps brackets */
	char *host;     /* host:port to contact: "registry-1.docker.io" for docker.io */
	char *repository; /* "library/nginx", "wasm/spec" */
	char *tag;      /* NULL when only a digest was given and no tag */
	char *digest;   /* "sha256:<64 hex>" or NULL */
	bool tag_defaulted; /* no tag and no digest: tag is "latest" */
	char *auth_key; /* where credentials are looked up: "https://index.docker.io/v1/" or registry */
};

/*
 * Parses "oci://REF" or a bare REF. Malformed input returns WP_EUSAGE with a
 * message that names the bad part (e.g. "invalid tag \"Bad Tag\"").
 */
enum wp_err ref_parse(const char *s, struct ref *r, struct error *err);
void ref_release(struct ref *r);
/* Returns "registry/repository[:tag][@digest]", the caller frees. */
char *ref_string(const struct ref *r);
/* The object the manifest request names: digest if any, else tag. Borrowed. */
const char *ref_object(const struct ref *r);
