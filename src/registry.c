/* Talking to an OCI distribution registry.
 *
 * A registry session is a list of endpoints: the mirrors named for this
 * registry, then the registry itself. Each endpoint has its own HTTP session
 * (one connection reused), its own credentials (looked up by its host, never
 * the token realm's) and its own Authorization, which the transport sends to
 * that host only. Mirrors get one attempt and any failure moves on. */
#include "registry.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "authparse.h"
#include "cleanup.h"
#include "digest.h"
#include "http.h"
#include "log.h"
#include "source.h"

extern char **environ;

struct endpoint {
	char *host;  /* host[:port] */
	char *base;  /* scheme://host */
	bool mirror;
	bool insecure;
	bool tls_fallback; /* insecure and not yet known to speak TLS */
	struct http *http;
	char *authz; /* "Authorization: …" once known */
	bool cred_loaded;
	struct auth_cred cred;
	char *cred_source; /* where the credentials came from, for messages */
};

struct registry {
	const struct ref *ref;
	const struct fetch_opts *o;
	double deadline;
	struct endpoint *eps;
	size_t n_eps, cur;
};

void resolved_release(struct resolved *r)
{
	free(r->digest);
	free(r->media_type);
	free(r->raw);
	manifest_release(&r->top);
	free(r->chosen_digest);
	platform_release(&r->chosen_platform);
	if (r->from_index)
		manifest_release(&r->chosen);
	memset(r, 0, sizeof(*r));
}

static bool host_matches(const char *pattern, const char *host)
{
	if (!strcmp(pattern, "*") || !strcasecmp(pattern, host))
		return true;
	/* HOST without a port matches that host on any port */
	size_t n = strlen(pattern);
	return !strchr(pattern, ':') && !strncasecmp(pattern, host, n) && host[n] == ':';
}

static bool is_insecure(const struct fetch_opts *o, const char *registry, const char *host)
{
	for (size_t i = 0; i < o->n_insecure; i++)
		if (host_matches(o->insecure[i], registry) || host_matches(o->insecure[i], host))
			return true;
	return false;
}

static void endpoint_init(struct endpoint *ep, const char *spec, bool mirror,
			  const struct registry *reg)
{
	const struct fetch_opts *o = reg->o;
	const char *host = spec;
	const char *scheme = NULL;

	if (str_istarts_with(spec, "http://")) {
		scheme = "http";
		host = spec + 7;
	} else if (str_istarts_with(spec, "https://")) {
		scheme = "https";
		host = spec + 8;
	}
	memset(ep, 0, sizeof(*ep));
	ep->host = xstrndup(host, strcspn(host, "/"));
	ep->mirror = mirror;
	ep->insecure = is_insecure(o, mirror ? ep->host : reg->ref->registry, ep->host);
	if (!scheme)
		scheme = o->plain_http ? "http" : "https";
	ep->tls_fallback = ep->insecure && !strcmp(scheme, "https");
	ep->base = xasprintf("%s://%s", scheme, ep->host);
	struct http_opts ho = {
		.ca_file = o->ca_file,
		/* only this host: a token realm or a blob store elsewhere is verified */
		.insecure_host = ep->insecure ? ep->host : NULL,
		.deadline = reg->deadline,
		.attempts = mirror ? 1 : o->retries,
		.progress = progress_update,
	};
	ep->http = http_new(&ho);
}

static void endpoint_release(struct endpoint *ep)
{
	free(ep->host);
	free(ep->base);
	http_free(ep->http);
	if (ep->authz)
		explicit_bzero(ep->authz, strlen(ep->authz));
	free(ep->authz);
	auth_cred_release(&ep->cred);
	free(ep->cred_source);
}

enum wp_err registry_new(const struct ref *r, const struct fetch_opts *o, double deadline,
			 struct registry **out, struct error *err)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));

	(void)err;
	reg->ref = r;
	reg->o = o;
	reg->deadline = deadline;
	reg->eps = xcalloc(o->n_mirrors + 1, sizeof(*reg->eps));
	for (size_t i = 0; i < o->n_mirrors; i++) {
		const char *eq = strchr(o->mirrors[i], '=');
		size_t n = (size_t)(eq - o->mirrors[i]);
		if (strncasecmp(o->mirrors[i], r->registry, n) || r->registry[n])
			if (strncasecmp(o->mirrors[i], r->host, n) || r->host[n])
				continue;
		endpoint_init(&reg->eps[reg->n_eps++], eq + 1, true, reg);
	}
	endpoint_init(&reg->eps[reg->n_eps++], r->host, false, reg);
	*out = reg;
	return WP_OK;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_eps; i++)
		endpoint_release(&reg->eps[i]);
	free(reg->eps);
	free(reg);
}

/* Runs docker-credential-NAME get with the server on stdin; true with cred
 * filled. Its stderr is dropped (it may hold secrets), and it gets no more
 * time than the pull has left. */
static bool run_helper(const char *name, const char *server, double deadline,
		       struct auth_cred *cred)
{
	char *prog = xasprintf("docker-credential-%s", name);
	char *argv[] = { prog, "get", NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct strbuf sb;
	pid_t pid = -1;
	bool ok = false, exited = false;

	strbuf_init(&sb);
	if (deadline <= 0)
		deadline = now_mono() + 30;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP); /* its children die with it */
	posix_spawnattr_setpgroup(&attr, 0);
	rc = posix_spawnp(&pid, prog, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]), in[0] = -1;
	close(out[1]), out[1] = -1;
	if (rc != 0) {
		notef("cannot run %s: %s", prog, strerror(rc));
		pid = -1;
		goto out;
	}
	cleanup_set_group(pid);
	signal(SIGPIPE, SIG_IGN);
	if (write(in[1], server, strlen(server)) < 0)
		goto out;
	close(in[1]), in[1] = -1;
	for (;;) {
		struct pollfd p = { out[0], POLLIN, 0 };
		double left = deadline - now_mono();
		char buf[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			break;
		n = read(out[0], buf, sizeof(buf));
		if (n <= 0 || sb.len > 65536)
			break;
		strbuf_add(&sb, buf, (size_t)n);
	}
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (pid > 0) {
		while (!exited && now_mono() < deadline) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid || (w < 0 && errno != EINTR)) {
				exited = w == pid;
				break;
			}
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (!exited) {
			notef("%s did not answer in time", prog);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && sb.len) {
			ok = auth_parse_helper_reply(sb.buf, sb.len, cred);
		}
	}
	cleanup_set_group(0);
	if (sb.buf)
		explicit_bzero(sb.buf, sb.len);
	strbuf_release(&sb);
	free(prog);
	return ok;
}

/* Credentials for an endpoint, from the first source that has an entry for it. */
static void load_creds(struct registry *reg, struct endpoint *ep)
{
	const struct fetch_opts *o = reg->o;
	const char *registry = ep->mirror ? ep->host : reg->ref->registry;
	const char *key = ep->mirror ? ep->host : reg->ref->auth_key;
	char *paths[5] = { NULL };
	const char *e;
	size_t n = 0;

	if (ep->cred_loaded)
		return;
	ep->cred_loaded = true;
	if (o->username && !ep->mirror) {
		ep->cred.username = xstrdup(o->username);
		ep->cred.password = xstrdup(o->password);
		ep->cred_source = xstrdup("--username");
		return;
	}
	if (o->authfile)
		paths[n++] = xstrdup(o->authfile);
	if ((e = getenv("REGISTRY_AUTH_FILE")) && *e && (!o->authfile || strcmp(e, o->authfile)))
		paths[n++] = xstrdup(e);
	if ((e = getenv("DOCKER_CONFIG")) && *e)
		paths[n++] = xasprintf("%s/config.json", e);
	if ((e = getenv("HOME")) && *e)
		paths[n++] = xasprintf("%s/.docker/config.json", e);
	if ((e = getenv("XDG_RUNTIME_DIR")) && *e)
		paths[n++] = xasprintf("%s/containers/auth.json", e);
	for (size_t i = 0; i < n && !ep->cred_source; i++) {
		size_t len = 0;
		char *text = read_file_max(paths[i], 4u << 20, &len);
		struct auth_cred c = { 0 };

		if (!text)
			continue;
		if (auth_config_lookup(text, len, registry, key, &c) == 1) {
			if (c.helper && !c.username && !c.identity_token) {
				const char *server = strcmp(registry, "docker.io") ? registry : key;
				if (run_helper(c.helper, server, reg->deadline, &c))
					ep->cred_source = xasprintf("docker-credential-%s", c.helper);
				else
					notef("docker-credential-%s has no credentials for %s", c.helper, server);
			} else {
				ep->cred_source = xstrdup(paths[i]);
			}
			if (ep->cred_source)
				ep->cred = c;
			else
				auth_cred_release(&c);
		} else {
			auth_cred_release(&c);
		}
		explicit_bzero(text, len);
		free(text);
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	if (ep->cred_source)
		notef("%s: using credentials from %s", ep->host, ep->cred_source);
}

static bool have_basic(const struct endpoint *ep)
{
	return ep->cred.username && ep->cred.password;
}

static char *basic_header(const struct endpoint *ep)
{
	char *b = auth_basic_encode(ep->cred.username, ep->cred.password);
	char *h = xasprintf("Authorization: Basic %s", b);
	explicit_bzero(b, strlen(b));
	free(b);
	return h;
}

static const char *cred_note(const struct endpoint *ep)
{
	if (!ep->cred_loaded)
		return "none sent, the registry asked for none";
	return ep->cred_source ? ep->cred_source : "none found";
}

/* Exchanges credentials (or nothing) for a Bearer token at the realm. */
static enum wp_err fetch_token(struct registry *reg, struct endpoint *ep,
			       const struct auth_challenge *ch, struct error *err)
{
	struct http_response resp = { 0 };
	struct auth_token tok = { 0 };
	struct strbuf q;
	char *scope = NULL, *svc = NULL, *url = NULL, *basic = NULL, *form = NULL;
	const char *origin[2] = { NULL, NULL };
	enum wp_err rc = WP_OK;

	if (!ch->realm || !(str_istarts_with(ch->realm, "https://") || str_istarts_with(ch->realm, "http://")))
		return error_set(err, WP_EAUTH, "%s: token realm is not an http(s) URL", ep->host);
	char *wanted = xasprintf("repository:%s:pull", reg->ref->repository);
	scope = url_query_escape(ch->scope ? ch->scope : wanted);
	free(wanted);
	svc = ch->service ? url_query_escape(ch->service) : NULL;
	strbuf_init(&q);
	if (svc)
		strbuf_addf(&q, "service=%s&", svc);
	strbuf_addf(&q, "scope=%s", scope);
	load_creds(reg, ep);

	if (ep->cred.identity_token) {
		/* OAuth2 refresh token: POST, falling back to GET for realms that refuse it */
		char *rt = url_query_escape(ep->cred.identity_token);
		form = xasprintf("grant_type=refresh_token&client_id=wasmpull&%s&refresh_token=%s", q.buf, rt);
		explicit_bzero(rt, strlen(rt));
		free(rt);
		struct http_request req = { .method = "POST", .url = ch->realm, .post_body = form };
		if ((rc = http_request(ep->http, &req, &resp, err)) != WP_OK)
			goto out;
		if (resp.status == 200)
			goto parse;
		http_response_release(&resp);
	}
	url = xasprintf("%s%c%s", ch->realm, strchr(ch->realm, '?') ? '&' : '?', q.buf);
	if (have_basic(ep)) {
		basic = basic_header(ep);
		origin[0] = basic;
	}
	/* the realm gets the credentials, and only the realm: not where it redirects */
	struct http_request req = { .url = url, .origin_headers = origin, .follow = true,
				    .max_body = 1 << 20 };
	if ((rc = http_request(ep->http, &req, &resp, err)) != WP_OK)
		goto out;
parse:
	if (resp.status == 401 || resp.status == 403) {
		rc = error_set(err, WP_EAUTH, "token request refused (HTTP %ld; credentials: %s)",
			       resp.status, cred_note(ep));
		goto out;
	}
	if (resp.status != 200) {
		rc = error_set(err, WP_EAUTH, "token request failed (HTTP %ld)", resp.status);
		goto out;
	}
	if (!auth_parse_token(resp.body.buf, resp.body.len, &tok)) {
		rc = error_set(err, WP_EAUTH, "token server answered without a token");
		goto out;
	}
	free(ep->authz);
	ep->authz = xasprintf("Authorization: Bearer %s", tok.token);
out:
	if (rc != WP_OK && err->msg[0]) {
		char *shown = source_redact(ch->realm);
		error_prefix(err, "token realm %s", shown);
		free(shown);
	}
	if (resp.body.buf)
		explicit_bzero(resp.body.buf, resp.body.len);
	auth_token_release(&tok);
	http_response_release(&resp);
	if (basic)
		explicit_bzero(basic, strlen(basic));
	if (form)
		explicit_bzero(form, strlen(form));
	free(basic);
	free(form);
	free(url);
	free(scope);
	free(svc);
	strbuf_release(&q);
	return rc;
}

/* Answers a 401: sets ep->authz from the challenge, or says why it cannot. */
static enum wp_err authenticate(struct registry *reg, struct endpoint *ep, const char *header,
			       struct error *err)
{
	struct auth_challenge ch = { 0 };
	enum wp_err rc = WP_OK;

	if (!header || !auth_parse_challenge(header, &ch))
		return error_set(err, WP_EAUTH, "HTTP 401 without a usable challenge");
	load_creds(reg, ep);
	/* a credential helper may have used up the time */
	if (reg->deadline > 0 && now_mono() >= reg->deadline) {
		auth_challenge_release(&ch);
		return error_set(err, WP_ENET, "timed out looking up credentials for %s", ep->host);
	}
	if (ch.scheme == AUTH_BEARER) {
		rc = fetch_token(reg, ep, &ch, err);
	} else {
		load_creds(reg, ep);
		if (!have_basic(ep))
			rc = error_set(err, WP_EAUTH, "authentication required (HTTP 401) and no credentials for %s",
				       ep->mirror ? ep->host : reg->ref->registry);
		else {
			free(ep->authz);
			ep->authz = basic_header(ep);
		}
	}
	auth_challenge_release(&ch);
	return rc;
}

/* The registry's JSON error code ("MANIFEST_UNKNOWN"), if the body has one. */
static char *error_code(const struct http_response *resp)
{
	cJSON *o = resp->body.len ? cJSON_ParseWithLength(resp->body.buf, resp->body.len) : NULL;
	cJSON *errs = cJSON_GetObjectItemCaseSensitive(o, "errors");
	cJSON *first = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
	cJSON *code = first ? cJSON_GetObjectItemCaseSensitive(first, "code") : NULL;
	char *s = cJSON_IsString(code) ? xstrdup(code->valuestring) : NULL;

	cJSON_Delete(o);
	return s;
}

/*
 * One registry request with auth: a 401 is answered once with the challenge's
 * scheme. An insecure endpoint that does not speak TLS is tried again over
 * plain HTTP.
 */
static enum wp_err ep_request(struct registry *reg, struct endpoint *ep, const char *path,
			      const char *what, const char *accept, struct http_sink sink,
			      uint64_t max, struct http_response *resp, struct error *err)
{
	char *url = NULL, *acc = accept ? xasprintf("Accept: %s", accept) : NULL;
	const char *headers[2] = { acc, NULL };
	enum wp_err rc = WP_OK;

	for (bool answered = false;;) {
		const char *origin[2] = { ep->authz, NULL };
		struct error tmp;

		free(url);
		url = xasprintf("%s%s", ep->base, path);
		struct http_request req = {
			.url = url, .headers = headers, .origin_headers = origin,
			.follow = true, .resume = sink.write != NULL, .max_body = max, .sink = sink,
		};
		error_init(&tmp);
		http_response_release(resp);
		rc = http_request(ep->http, &req, resp, &tmp);
		if (rc == WP_ENET && ep->tls_fallback) {
			ep->tls_fallback = false;
			notef("%s: %s; trying plain HTTP (insecure registry)", ep->host, tmp.msg);
			char *b = xasprintf("http://%s", ep->host);
			free(ep->base);
			ep->base = b;
			continue;
		}
		if (rc != WP_OK) {
			/* retries ran out: say on what, with the registry's own word for it */
			char *code = resp->status >= 400 ? error_code(resp) : NULL;
			error_set(err, rc, "%s: %s%s%s%s", what, tmp.msg, code ? " (" : "", code ? code : "",
				  code ? ")" : "");
			free(code);
			break;
		}
		ep->tls_fallback = false;
		if (resp->status == 401 && !answered) {
			answered = true;
			if ((rc = authenticate(reg, ep, resp->www_authenticate, err)) != WP_OK)
				break;
			continue;
		}
		break;
	}
	free(url);
	free(acc);
	return rc;
}

/* Turns a final non-2xx status into the documented error. */
static enum wp_err status_error(struct registry *reg, struct endpoint *ep,
				const struct http_response *resp, const char *what, struct error *err)
{
	char *code = error_code(resp);
	char detail[96];
	enum wp_err rc;

	snprintf(detail, sizeof(detail), "HTTP %ld%s%s", resp->status, code ? " " : "", code ? code : "");
	if (resp->status == 404)
		rc = error_set(err, WP_ENOTFOUND, "%s not found (%s)", what, detail);
	else if (resp->status == 401 && ((code && !strcmp(code, "INSUFFICIENT_SCOPE")) ||
					 (resp->www_authenticate &&
					  strstr(resp->www_authenticate, "insufficient_scope"))))
		rc = error_set(err, WP_EAUTH, "%s not found or not authorized (%s; credentials: %s)", what,
			       detail, cred_note(ep));
	else if (resp->status == 401 || resp->status == 403 ||
		 (resp->status == 400 && code && !strcmp(code, "DENIED")))
		rc = error_set(err, WP_EAUTH, "access to %s denied (%s; credentials: %s)",
			       reg->ref->repository, detail, cred_note(ep));
	else
		rc = error_set(err, resp->status / 100 == 3 ? WP_ENET : WP_EFAIL, "%s: unexpected %s", what, detail);
	free(code);
	return rc;
}

/* GETs and verifies one manifest by tag or digest. */
static enum wp_err get_manifest(struct registry *reg, struct endpoint *ep, const char *object,
				char **body, size_t *len, char **digest, char **ctype,
				struct error *err)
{
	struct http_response resp = { 0 };
	char *path = xasprintf("/v2/%s/manifests/%s", reg->ref->repository, object);
	char *what = xasprintf("manifest %s:%s", reg->ref->repository, object);
	char hex[65];
	enum wp_err rc;

	rc = ep_request(reg, ep, path, what, MANIFEST_ACCEPT, (struct http_sink){ 0 }, MANIFEST_MAX,
			&resp, err);
	if (rc != WP_OK)
		goto out;
	if (resp.status != 200) {
		rc = status_error(reg, ep, &resp, what, err);
		goto out;
	}
	sha256_hex(resp.body.buf ? resp.body.buf : "", resp.body.len, hex);
	if (str_starts_with(object, "sha256:") && strcmp(object + 7, hex) != 0) {
		rc = error_set(err, WP_EVERIFY, "manifest digest mismatch: asked for %s, got sha256:%s",
			       object, hex);
		goto out;
	}
	if (resp.docker_digest && str_starts_with(resp.docker_digest, "sha256:") &&
	    strcmp(resp.docker_digest + 7, hex) != 0) {
		rc = error_set(err, WP_EVERIFY,
			       "manifest digest mismatch: Docker-Content-Digest says %s, body is sha256:%s",
			       resp.docker_digest, hex);
		goto out;
	}
	*len = resp.body.len;
	*body = strbuf_detach(&resp.body);
	*digest = xasprintf("sha256:%s", hex);
	*ctype = xstrdup(resp.content_type);
out:
	http_response_release(&resp);
	free(path);
	free(what);
	return rc;
}

static enum wp_err resolve_at(struct registry *reg, struct endpoint *ep, const char *platform,
			      bool need_module, const char *known, struct resolved *res,
			      struct error *err)
{
	char *ctype = NULL, *body = NULL, *cdigest = NULL, *cctype = NULL;
	size_t len = 0, pick = 0;
	enum wp_err rc;

	if ((rc = get_manifest(reg, ep, ref_object(reg->ref), &res->raw, &res->raw_len, &res->digest,
			       &ctype, err)) != WP_OK)
		goto out;
	if ((rc = manifest_parse(res->raw, res->raw_len, ctype, &res->top, err)) != WP_OK)
		goto out;
	res->media_type = xstrdup(res->top.media_type);
	if (known && !strcmp(known, res->digest)) {
		res->unchanged = true;
		goto out;
	}
	if (!res->top.is_index) {
		res->chosen = res->top;
		res->chosen_digest = xstrdup(res->digest);
	} else {
		if ((rc = manifest_select(&res->top, platform, &pick, err)) != WP_OK)
			goto out;
		const struct descriptor *d = &res->top.manifests[pick];
		res->from_index = true;
		res->chosen_platform.os = xstrdup(d->platform.os);
		res->chosen_platform.architecture = xstrdup(d->platform.architecture);
		res->chosen_platform.variant = xstrdup(d->platform.variant);
		if ((rc = get_manifest(reg, ep, d->digest, &body, &len, &cdigest, &cctype, err)) != WP_OK)
			goto out;
		if (len != d->size) {
			rc = error_set(err, WP_EVERIFY, "manifest %s is %zu bytes, the index says %llu",
				       d->digest, len, (unsigned long long)d->size);
			goto out;
		}
		if ((rc = manifest_parse(body, len, cctype ? cctype : d->media_type, &res->chosen, err)) != WP_OK)
			goto out;
		if (res->chosen.is_index) {
			rc = error_set(err, WP_EVERIFY, "nested image index %s is not supported", d->digest);
			goto out;
		}
		res->chosen_digest = cdigest;
		cdigest = NULL;
	}
	struct error merr;
	error_init(&merr);
	res->module_rc = manifest_find_module(&res->chosen, &res->format, &res->layer, &res->kind, &merr);
	memcpy(res->module_err, merr.msg, sizeof(res->module_err) - 1);
	res->module_err[sizeof(res->module_err) - 1] = '\0';
	if (res->module_rc != WP_OK && need_module)
		rc = error_set(err, res->module_rc, "%s", merr.msg);
out:
	free(ctype);
	free(body);
	free(cdigest);
	free(cctype);
	return rc;
}

enum wp_err registry_resolve(struct registry *reg, const char *platform, bool need_module,
			     const char *known, struct resolved *res, struct error *err)
{
	enum wp_err rc = WP_OK;

	for (size_t i = 0; i < reg->n_eps; i++) {
		struct endpoint *ep = &reg->eps[i];
		struct error tmp;

		error_init(&tmp);
		memset(res, 0, sizeof(*res));
		rc = resolve_at(reg, ep, platform, need_module, known, res, &tmp);
		if (rc == WP_OK) {
			reg->cur = i;
			if (ep->mirror)
				notef("%s: served by mirror %s", reg->ref->registry, ep->host);
			return WP_OK;
		}
		resolved_release(res);
		if (!ep->mirror || rc == WP_EUSAGE || (rc == WP_EVERIFY && !need_module)) {
			error_set(err, rc, "%s", tmp.msg);
			return rc;
		}
		notef("mirror %s: %s; trying the next", ep->host, tmp.msg);
	}
	return rc;
}

enum wp_err registry_get_manifest(struct registry *reg, char **body, size_t *len,
				  struct error *err)
{
	enum wp_err rc = WP_OK;

	for (size_t i = 0; i < reg->n_eps; i++) {
		struct endpoint *ep = &reg->eps[i];
		char *digest = NULL, *ctype = NULL;
		struct error tmp;

		error_init(&tmp);
		rc = get_manifest(reg, ep, ref_object(reg->ref), body, len, &digest, &ctype, &tmp);
		free(digest);
		free(ctype);
		if (rc == WP_OK || !ep->mirror) {
			if (rc != WP_OK)
				error_set(err, rc, "%s", tmp.msg);
			return rc;
		}
		notef("mirror %s: %s; trying the next", ep->host, tmp.msg);
	}
	return rc;
}

enum wp_err registry_fetch_blob(struct registry *reg, const struct descriptor *d, struct fetch *f,
				struct error *err)
{
	char *path = xasprintf("/v2/%s/blobs/%s", reg->ref->repository, d->digest);
	struct http_response resp = { 0 };
	enum wp_err rc = WP_OK;

	if (d->size > fetch_limit(f)) {
		free(path);
		return error_set(err, WP_EVERIFY, "layer %s is %llu bytes, over the size limit of %llu",
				 d->digest, (unsigned long long)d->size,
				 (unsigned long long)fetch_limit(f));
	}
	for (size_t i = reg->cur; i < reg->n_eps; i++) {
		struct endpoint *ep = &reg->eps[i];
		struct error tmp;

		error_init(&tmp);
		if (i > reg->cur) /* what a failed mirror sent is not the start of this */
			fetch_sink(f).reset(f);
		/* no Accept-Encoding: a compressing server would change the bytes */
		char *what = xasprintf("blob %s", d->digest);
		rc = ep_request(reg, ep, path, what, NULL, fetch_sink(f), d->size ? d->size : 1, &resp, &tmp);
		free(what);
		if (rc == WP_EVERIFY)
			error_set(&tmp, rc, "blob %s is larger than its descriptor's %llu bytes", d->digest,
				  (unsigned long long)d->size);
		if (rc == WP_OK && resp.status != 200 && resp.status != 206) {
			char *what = xasprintf("blob %s", d->digest);
			rc = status_error(reg, ep, &resp, what, &tmp);
			free(what);
		}
		http_response_release(&resp);
		if (rc == WP_OK || !ep->mirror) {
			if (rc != WP_OK)
				error_set(err, rc, "%s", tmp.msg);
			break;
		}
		notef("mirror %s: %s; trying the next", ep->host, tmp.msg);
	}
	free(path);
	return rc;
}

struct mem_sink {
	struct strbuf sb;
};

static bool mem_write(void *ud, const void *data, size_t len)
{
	strbuf_add(&((struct mem_sink *)ud)->sb, data, len);
	return true;
}

static void mem_reset(void *ud)
{
	((struct mem_sink *)ud)->sb.len = 0;
}

enum wp_err registry_get_blob(struct registry *reg, const struct descriptor *d, size_t max,
			      char **body, size_t *len, struct error *err)
{
	char *path = xasprintf("/v2/%s/blobs/%s", reg->ref->repository, d->digest);
	struct http_response resp = { 0 };
	struct mem_sink m;
	struct endpoint *ep = &reg->eps[reg->cur];
	char hex[65];
	enum wp_err rc;

	strbuf_init(&m.sb);
	if (d->size > max) {
		rc = error_set(err, WP_EVERIFY, "blob %s is too large to show (%llu bytes)", d->digest,
			       (unsigned long long)d->size);
		goto out;
	}
	rc = ep_request(reg, ep, path, "config blob", NULL, (struct http_sink){ mem_write, mem_reset, &m },
			d->size ? d->size : 1, &resp, err);
	if (rc != WP_OK)
		goto out;
	if (resp.status != 200) {
		char *what = xasprintf("blob %s", d->digest);
		rc = status_error(reg, ep, &resp, what, err);
		free(what);
		goto out;
	}
	sha256_hex(m.sb.buf ? m.sb.buf : "", m.sb.len, hex);
	if (m.sb.len != d->size || strcmp(hex, d->digest + 7) != 0) {
		rc = error_set(err, WP_EVERIFY, "blob %s does not match its descriptor", d->digest);
		goto out;
	}
	*len = m.sb.len;
	*body = strbuf_detach(&m.sb);
out:
	strbuf_release(&m.sb);
	http_response_release(&resp);
	free(path);
	return rc;
}
