/*
 * OCI references: [oci://][host[:port]/]path[:tag][@sha256:HEX], checked
 * against the distribution reference grammar and normalised the way docker
 * does (docker.io, library/, the index.docker.io credential key). Pure: no
 * I/O, every failure is WP_EUSAGE naming the bad part.
 */
#include "ref.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
#define DOCKER_REGISTRY "docker.io"
#define DOCKER_HOST "registry-1.docker.io"
#define DOCKER_AUTH_KEY "https://index.docker.io/v1/"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		if (s[i] == '.') {
			j++;
		} else if (s[i] == '_') {
			j++;
			if (j < n && s[j] == '_')
				j++;
		} else if (s[i] == '-') {
			while (j < n && s[j] == '-')
				j++;
		} else {
			return false;
		}
		if (j >= n || !is_lower_alnum(s[j]))
			return false;
		i = j;
	}
	return true;
}

static bool valid_path(const char *s)
{
	const char *p = s;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!valid_path_component(p, n))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool valid_tag(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TAG_MAX_LEN || !(is_alnum(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static bool valid_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Labels [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? joined by dots. */
static bool valid_hostname(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

/* Returns a message naming what is wrong with host[:port], or NULL. */
static const char *check_registry(const char *s, size_t n)
{
	const char *host_end;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return "invalid ipv6 address";
		bool colon = false;
		for (const char *p = s + 1; p < close; p++) {
			if (*p == ':')
				colon = true;
			else if (!isxdigit((unsigned char)*p) && *p != '.')
				return "invalid ipv6 address";
		}
		if (!colon)
			return "invalid ipv6 address";
		host_end = close + 1;
	} else {
		host_end = memchr(s, ':', n);
		if (!host_end)
			host_end = s + n;
		if (!valid_hostname(s, (size_t)(host_end - s)))
			return "invalid registry host";
	}
	if (host_end == s + n)
		return NULL;
	if (*host_end != ':' || !valid_port(host_end + 1, (size_t)(s + n - host_end - 1)))
		return "invalid registry port";
	return NULL;
}

static bool is_docker_hub(const char *reg, size_t n)
{
	static const char *const names[] = { "docker.io", "index.docker.io",
					     "registry-1.docker.io" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && strncmp(reg, names[i], n) == 0)
			return true;
	return false;
}

enum wp_err ref_parse(const char *s, struct ref *r, struct error *err)
{
	const char *in = s;
	char *name = NULL;
	enum wp_err rc = WP_OK;

	memset(r, 0, sizeof(*r));
	if (str_starts_with(s, "oci://"))
		s += strlen("oci://");
	if (*s == '\0') {
		rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": empty reference", in);
		goto out;
	}

	const char *at = strchr(s, '@');
	if (at) {
		const char *d = at + 1;
		const char *colon = strchr(d, ':');
		if (!colon || colon == d) {
			rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": invalid digest \"%s\"",
				       in, d);
			goto out;
		}
		if ((size_t)(colon - d) != 6 || strncmp(d, "sha256", 6) != 0) {
			rc = error_set(err, WP_EUSAGE,
				       "invalid reference \"%s\": unsupported digest algorithm \"%.*s\"",
				       in, (int)(colon - d), d);
			goto out;
		}
		if (!is_sha256_hex(colon + 1)) {
			rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": invalid digest \"%s\"",
				       in, d);
			goto out;
		}
		r->digest = xstrdup(d);
		name = xstrndup(s, (size_t)(at - s));
	} else {
		name = xstrdup(s);
	}

	/* A tag is a colon after the last slash; earlier colons belong to a port. */
	char *last_slash = strrchr(name, '/');
	char *colon = strrchr(last_slash ? last_slash : name, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1)) {
			rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": invalid tag \"%s\"", in,
				       colon + 1);
			goto out;
		}
		r->tag = xstrdup(colon + 1);
	}
	if (name[0] == '\0') {
		rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": missing repository name", in);
		goto out;
	}
	if (strlen(name) > NAME_MAX_LEN) {
		rc = error_set(err, WP_EUSAGE,
			       "invalid reference \"%s\": repository name is longer than %d characters",
			       in, NAME_MAX_LEN);
		goto out;
	}

	const char *path = name;
	const char *slash = strchr(name, '/');
	if (slash) {
		size_t n = (size_t)(slash - name);
		if (memchr(name, '.', n) || memchr(name, ':', n) || name[0] == '[' ||
		    (n == 9 && strncmp(name, "localhost", 9) == 0)) {
			const char *why = check_registry(name, n);
			if (why) {
				rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": %s \"%.*s\"",
					       in, why, (int)n, name);
				goto out;
			}
			if (!is_docker_hub(name, n))
				r->registry = xstrndup(name, n);
			path = slash + 1;
		}
	}
	for (const char *p = path; *p; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			rc = error_set(err, WP_EUSAGE,
				       "invalid reference \"%s\": repository name must be lowercase", in);
			goto out;
		}
	}
	if (!valid_path(path)) {
		rc = error_set(err, WP_EUSAGE, "invalid reference \"%s\": invalid repository name \"%s\"",
			       in, path);
		goto out;
	}

	if (r->registry) {
		r->host = xstrdup(r->registry);
		r->auth_key = xstrdup(r->registry);
		r->repository = xstrdup(path);
	} else {
		r->registry = xstrdup(DOCKER_REGISTRY);
		r->host = xstrdup(DOCKER_HOST);
		r->auth_key = xstrdup(DOCKER_AUTH_KEY);
		r->repository = strchr(path, '/') ? xstrdup(path) : xasprintf("library/%s", path);
	}
	if (!r->tag && !r->digest) {
		r->tag = xstrdup("latest");
		r->tag_defaulted = true;
	}

out:
	free(name);
	if (rc != WP_OK)
		ref_release(r);
	return rc;
}

void ref_release(struct ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->host);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	free(r->auth_key);
	memset(r, 0, sizeof(*r));
}

char *ref_string(const struct ref *r)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_addf(&sb, "%s/%s", r->registry, r->repository);
	if (r->tag)
		strbuf_addf(&sb, ":%s", r->tag);
	if (r->digest)
		strbuf_addf(&sb, "@%s", r->digest);
	return strbuf_detach(&sb);
}

const char *ref_object(const struct ref *r)
{
	return r->digest ? r->digest : r->tag;
}
