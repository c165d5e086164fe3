/* Pure parsers for registry auth: WWW-Authenticate challenges, token
 * responses, docker config.json credentials. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum auth_scheme { AUTH_NONE = 0, AUTH_BASIC, AUTH_BEARER };

/* One challenge; strings owned. */
struct auth_challenge {
	enum auth_scheme scheme;
	char *realm, *service, *scope; /* NULL when absent */
};

/*
 * Parses a WWW-Authenticate header value (may hold several challenges,
 * quoted-string params with commas and escapes, scheme and param names in any
 * case). Picks Bearer over Basic when both are offered. Returns false when no
 * Basic or Bearer challenge is found.
 */
bool auth_parse_challenge(const char *header, struct auth_challenge *c);
void auth_challenge_release(struct auth_challenge *c);

/* A token endpoint's JSON reply: "token" or "access_token", "expires_in" (min 60). */
struct auth_token {
	char *token;
	int64_t expires_in;
	char *refresh_token; /* may be NULL */
};
bool auth_parse_token(const char *json, size_t len, struct auth_token *t);
void auth_token_release(struct auth_token *t);

/* Credentials for one registry, strings owned. */
struct auth_cred {
	char *username, *password;
	char *identity_token; /* "identitytoken" from config.json */
	char *helper;         /* credHelpers[host] or credsStore: "NAME" of docker-credential-NAME */
};

/*
 * Looks up a registry in a docker config.json text: "auths" keys match the
 * registry exactly, or as "https://HOST", "http://HOST", "HOST/v1/",
 * "https://HOST/v1/", "https://HOST/v2/" (docker.io as
 * "https://index.docker.io/v1/"); "auth" is base64 "user:pass", else
 * "username"/"password"; "identitytoken". When no auths entry exists, sets
 * helper from credHelpers[registry] or credsStore. Returns 1 found (cred or
 * helper set), 0 not mentioned, -1 when the text is not valid JSON (or auth is
 * not valid base64 "user:pass").
 */
int auth_config_lookup(const char *json, size_t len, const char *registry,
		       const char *auth_key, struct auth_cred *c);
/* Parses a credential helper's "get" reply {"Username","Secret"}; true on success. */
bool auth_parse_helper_reply(const char *json, size_t len, struct auth_cred *c);
void auth_cred_release(struct auth_cred *c);
/* Returns base64("user:pass"), the caller frees. */
char *auth_basic_encode(const char *user, const char *pass);
/* Returns s percent-encoded for a query string (RFC 3986 unreserved kept), caller frees. */
char *url_query_escape(const char *s);
