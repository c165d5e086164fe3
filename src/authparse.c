/*
 * Registry auth parsing, kept free of I/O so it can be tested from tables:
 * WWW-Authenticate challenges (RFC 7235, several per header), token endpoint
 * replies, docker config.json credential lookup, credential helper replies,
 * base64 for Basic, and query-string escaping.
 */
#include "authparse.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define TOKEN_MIN_EXPIRY 60
/* Cap so a silly expires_in cannot overflow the caller's arithmetic. */
#define TOKEN_MAX_EXPIRY (INT64_C(10) * 365 * 24 * 3600)

/* ---- WWW-Authenticate ---- */

static bool is_tchar(char c)
{
	return (isascii((unsigned char)c) && isalnum((unsigned char)c)) ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a token or quoted-string value; returns a copy and advances *pp. */
static char *read_value(const char **pp)
{
	const char *p = *pp;
	struct strbuf sb;

	strbuf_init(&sb);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			strbuf_add(&sb, p, 1);
		}
		if (*p == '"')
			p++;
	} else {
		const char *start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		strbuf_add(&sb, start, (size_t)(p - start));
	}
	*pp = p;
	return strbuf_detach(&sb);
}

static void set_param(struct auth_challenge *c, const char *name, size_t n, char *value)
{
	char **slot = NULL;

	if (n == 5 && strncasecmp(name, "realm", 5) == 0)
		slot = &c->realm;
	else if (n == 7 && strncasecmp(name, "service", 7) == 0)
		slot = &c->service;
	else if (n == 5 && strncasecmp(name, "scope", 5) == 0)
		slot = &c->scope;
	/* The first occurrence wins, as with the first scope parameter. */
	if (slot && !*slot) {
		*slot = value;
		return;
	}
	free(value);
}

/* Rank: Bearer with a realm, then Basic, then a Bearer we cannot use. */
static int challenge_rank(const struct auth_challenge *c)
{
	switch (c->scheme) {
	case AUTH_BEARER:
		return c->realm ? 3 : 1;
	case AUTH_BASIC:
		return 2;
	case AUTH_NONE:
		return 0;
	}
	return 0;
}

static void keep_better(struct auth_challenge *best, struct auth_challenge *cur)
{
	if (challenge_rank(cur) > challenge_rank(best)) {
		auth_challenge_release(best);
		*best = *cur;
	} else {
		auth_challenge_release(cur);
	}
	memset(cur, 0, sizeof(*cur));
}

bool auth_parse_challenge(const char *header, struct auth_challenge *c)
{
	struct auth_challenge cur = { 0 };
	const char *p = header;
	bool in_challenge = false;

	memset(c, 0, sizeof(*c));
	if (!p)
		return false;
	while (*p) {
		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		const char *tok = p;
		while (is_tchar(*p))
			p++;
		size_t n = (size_t)(p - tok);
		if (n == 0) {
			p++; /* junk: skip it rather than loop */
			continue;
		}
		const char *after = skip_ows(p);
		if (*after == '=' && in_challenge) {
			p = skip_ows(after + 1);
			set_param(&cur, tok, n, read_value(&p));
			continue;
		}
		if (*after == '=') {
			/* a parameter with no scheme before it: ignore it */
			p = skip_ows(after + 1);
			free(read_value(&p));
			continue;
		}
		/* A new scheme starts a new challenge. */
		keep_better(c, &cur);
		in_challenge = true;
		if (n == 5 && strncasecmp(tok, "basic", 5) == 0)
			cur.scheme = AUTH_BASIC;
		else if (n == 6 && strncasecmp(tok, "bearer", 6) == 0)
			cur.scheme = AUTH_BEARER;
		else
			cur.scheme = AUTH_NONE;
	}
	keep_better(c, &cur);
	if (c->scheme == AUTH_NONE) {
		auth_challenge_release(c);
		return false;
	}
	return true;
}

void auth_challenge_release(struct auth_challenge *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* ---- token replies ---- */

static const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

bool auth_parse_token(const char *json, size_t len, struct auth_token *t)
{
	cJSON *root = NULL;
	bool ok = false;

	memset(t, 0, sizeof(*t));
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root))
		goto out;
	const char *tok = json_str(root, "token");
	if (!tok)
		tok = json_str(root, "access_token");
	if (!tok)
		goto out;
	t->token = xstrdup(tok);
	t->refresh_token = xstrdup(json_str(root, "refresh_token"));
	t->expires_in = TOKEN_MIN_EXPIRY;
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	if (cJSON_IsNumber(exp) && exp->valuedouble > TOKEN_MIN_EXPIRY)
		t->expires_in = exp->valuedouble < (double)TOKEN_MAX_EXPIRY ?
					(int64_t)exp->valuedouble :
					TOKEN_MAX_EXPIRY;
	/* issued_at is not needed: expiry is counted from when the reply arrived. */
	ok = true;
out:
	cJSON_Delete(root);
	return ok;
}

void auth_token_release(struct auth_token *t)
{
	if (!t)
		return;
	free(t->token);
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

/* ---- base64 ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t n)
{
	char *out = xmalloc((n + 2) / 3 * 4 + 1);
	char *o = out;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;
	return p ? (int)(p - b64chars) : -1;
}

/* Decodes standard base64, padding optional; NULL when malformed or has a NUL. */
static char *b64_decode(const char *s)
{
	size_t n = strlen(s);
	struct strbuf sb;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (strlen(s) - n > 2 || n % 4 == 1)
		return NULL;
	strbuf_init(&sb);
	strbuf_add(&sb, "", 0);
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			goto fail;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char ch = (char)((acc >> bits) & 0xff);
			if (ch == '\0')
				goto fail;
			strbuf_add(&sb, &ch, 1);
		}
	}
	return strbuf_detach(&sb);
fail:
	strbuf_release(&sb);
	return NULL;
}

char *auth_basic_encode(const char *user, const char *pass)
{
	char *plain = xasprintf("%s:%s", user ? user : "", pass ? pass : "");
	char *out = b64_encode((const unsigned char *)plain, strlen(plain));

	free(plain);
	return out;
}

/* ---- config.json ---- */

/* Copies key without scheme, trailing "/", "/v1" or "/v2". */
static char *normalise_key(const char *key)
{
	char *s = NULL;
	size_t n;

	if (str_istarts_with(key, "https://"))
		key += strlen("https://");
	else if (str_istarts_with(key, "http://"))
		key += strlen("http://");
	s = xstrdup(key);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	if (n >= 3 && (strcmp(s + n - 3, "/v1") == 0 || strcmp(s + n - 3, "/v2") == 0)) {
		n -= 3;
		s[n] = '\0';
		while (n > 0 && s[n - 1] == '/')
			s[--n] = '\0';
	}
	return s;
}

static bool is_docker_hub_key(const char *norm)
{
	return strcasecmp(norm, "docker.io") == 0 || strcasecmp(norm, "index.docker.io") == 0 ||
	       strcasecmp(norm, "registry-1.docker.io") == 0;
}

/* Does a config key name this registry? docker_hub: the registry is docker.io. */
static bool key_matches(const char *key, const char *want, bool docker_hub)
{
	char *norm = normalise_key(key);
	bool ok = docker_hub ? is_docker_hub_key(norm) : strcasecmp(norm, want) == 0;

	free(norm);
	return ok;
}

/* The member naming the registry: auth_key as is, registry as is, then normalised. */
static const cJSON *find_entry(const cJSON *obj, const char *registry, const char *auth_key,
			       const char *want, bool docker_hub)
{
	const cJSON *it = NULL;

	if (!cJSON_IsObject(obj))
		return NULL;
	cJSON_ArrayForEach(it, obj)
		if (auth_key && strcmp(it->string, auth_key) == 0)
			return it;
	cJSON_ArrayForEach(it, obj)
		if (registry && strcmp(it->string, registry) == 0)
			return it;
	cJSON_ArrayForEach(it, obj)
		if (key_matches(it->string, want, docker_hub))
			return it;
	return NULL;
}

/* Fills c from one auths entry: 1 when it held credentials, 0 empty, -1 bad auth. */
static int read_auth_entry(const cJSON *e, struct auth_cred *c)
{
	const char *auth = json_str(e, "auth");
	const char *tok = json_str(e, "identitytoken");
	char *plain = NULL;
	int rc = 0;

	if (auth) {
		plain = b64_decode(auth);
		char *colon = plain ? strchr(plain, ':') : NULL;
		if (!colon) {
			rc = -1;
			goto out;
		}
		c->username = xstrndup(plain, (size_t)(colon - plain));
		c->password = xstrdup(colon + 1);
	} else if (json_str(e, "username")) {
		c->username = xstrdup(json_str(e, "username"));
		const cJSON *pw = cJSON_GetObjectItemCaseSensitive(e, "password");
		c->password = xstrdup(cJSON_IsString(pw) ? pw->valuestring : "");
	}
	if (tok)
		c->identity_token = xstrdup(tok);
	rc = c->username || c->identity_token ? 1 : 0;
out:
	free(plain);
	return rc;
}

int auth_config_lookup(const char *json, size_t len, const char *registry,
		       const char *auth_key, struct auth_cred *c)
{
	cJSON *root = NULL;
	char *want = NULL;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root)) {
		rc = -1;
		goto out;
	}
	want = normalise_key(registry ? registry : auth_key ? auth_key : "");
	bool docker_hub = is_docker_hub_key(want);
	if (!docker_hub && auth_key) {
		char *k = normalise_key(auth_key);
		docker_hub = strcasecmp(k, "index.docker.io") == 0;
		free(k);
	}

	const cJSON *e = find_entry(cJSON_GetObjectItemCaseSensitive(root, "auths"), registry,
				    auth_key, want, docker_hub);
	if (cJSON_IsObject(e)) {
		rc = read_auth_entry(e, c);
		if (rc != 0)
			goto out;
		auth_cred_release(c);
	}
	/* No usable entry (docker desktop leaves an empty one): ask a helper. */
	const cJSON *h = find_entry(cJSON_GetObjectItemCaseSensitive(root, "credHelpers"),
				    registry, auth_key, want, docker_hub);
	const char *helper = cJSON_IsString(h) && h->valuestring[0] ? h->valuestring : NULL;
	if (!helper)
		helper = json_str(root, "credsStore");
	if (helper) {
		c->helper = xstrdup(helper);
		rc = 1;
	}
out:
	if (rc < 0)
		auth_cred_release(c);
	free(want);
	cJSON_Delete(root);
	return rc;
}

bool auth_parse_helper_reply(const char *json, size_t len, struct auth_cred *c)
{
	cJSON *root = NULL;
	bool ok = false;

	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root))
		goto out;
	const char *secret = json_str(root, "Secret");
	const char *user = json_str(root, "Username");
	if (!secret)
		goto out;
	/* Replace earlier credentials but keep helper: c may come from the lookup. */
	free(c->username);
	free(c->password);
	free(c->identity_token);
	c->username = c->password = c->identity_token = NULL;
	if (user && strcmp(user, "<token>") == 0) {
		c->identity_token = xstrdup(secret);
	} else {
		c->username = xstrdup(user ? user : "");
		c->password = xstrdup(secret);
	}
	ok = true;
out:
	cJSON_Delete(root);
	return ok;
}

void auth_cred_release(struct auth_cred *c)
{
	if (!c)
		return;
	free(c->username);
	free(c->password);
	free(c->identity_token);
	free(c->helper);
	memset(c, 0, sizeof(*c));
}

/* ---- query strings ---- */

char *url_query_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_add(&sb, "", 0);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if ((isascii(*p) && isalnum(*p)) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			strbuf_add(&sb, p, 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			strbuf_add(&sb, esc, 3);
		}
	}
	return strbuf_detach(&sb);
}
