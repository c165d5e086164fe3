/* wasmpull pull: fetch a module into the cache, verify it, print its path. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "cmd.h"
#include "digest.h"
#include "fetch.h"
#include "http.h"
#include "log.h"
#include "parse.h"
#include "ref.h"
#include "registry.h"
#include "source.h"

static const char pull_usage[] =
	"usage: wasmpull pull [OPTIONS] SOURCE\n"
	"\n"
	"Fetches SOURCE (oci://REF or REF, http(s)://URL, file://PATH or a path)\n"
	"into the cache, verifies its sha256, and prints the cached module's path.\n"
	"\n"
	"Options:\n"
	"      --sha256 HEX          expected digest (manifest or module for OCI)\n"
	"      --policy P            if-not-present | always | never (env WASMPULL_PULL_POLICY)\n"
	"  -o, --output PATH         also write the module to PATH atomically; - for stdout\n"
	"      --platform OS/ARCH[/VARIANT]  entry of an image index to take\n"
	"      --json                print a JSON object instead of the path\n"
	FETCH_USAGE;

enum {
	OPT_SHA256 = 0x100,
	OPT_POLICY,
	OPT_JSON,
};

static const struct option pull_options[] = {
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	FETCH_LONGOPTS,
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

enum policy { POLICY_DEFAULT, POLICY_IF_NOT_PRESENT, POLICY_ALWAYS, POLICY_NEVER };

struct pull {
	const char *source;
	char *shown;       /* source for display: a URL without its secrets */
	enum source_kind kind;
	const char *key;   /* the cache index key of the source */
	const char *output;
	char *target; /* where -o lands: through a symlink, what it points at */
	bool json;
	enum policy policy;
	char want[65]; /* --sha256, "" when none */
	struct fetch_opts fo;
	double deadline, started;
	struct cache *cache;

	char *warning; /* shown only if the pull succeeds: a failure is one line */

	/* the outcome */
	struct cache_entry entry;
	bool cached;
	int fd; /* the module blob, read-locked */
};

static bool parse_policy(const char *s, enum policy *p)
{
	if (!strcmp(s, "if-not-present") || !strcmp(s, "IfNotPresent"))
		*p = POLICY_IF_NOT_PRESENT;
	else if (!strcmp(s, "always") || !strcmp(s, "Always"))
		*p = POLICY_ALWAYS;
	else if (!strcmp(s, "never") || !strcmp(s, "Never"))
		*p = POLICY_NEVER;
	else
		return false;
	return true;
}

static const char *digest_hex(const char *digest)
{
	if (!digest)
		return "";
	return str_starts_with(digest, "sha256:") ? digest + 7 : digest;
}

/* --sha256 names the module, what was downloaded, or a manifest of e. */
static bool entry_proves_want(const struct pull *p, const struct cache_entry *e)
{
	const char *w = p->want;

	return !w[0] || !strcmp(digest_hex(e->digest), w) ||
	       (e->raw_digest && !strcmp(digest_hex(e->raw_digest), w)) ||
	       (e->manifest_digest && !strcmp(digest_hex(e->manifest_digest), w)) ||
	       (e->platform_digest && !strcmp(digest_hex(e->platform_digest), w));
}

/* Takes what e says of the module; of another source's record only what is
 * true of the bytes (the rest belongs to that source). */
static void adopt_entry(struct pull *p, struct cache_entry *e, const char *via)
{
	/* another reference's manifest and format are ours only if we matched its manifest */
	bool same_manifest = via && p->kind == SOURCE_OCI &&
			     ((e->manifest_digest && !strcmp(e->manifest_digest, via)) ||
			      (e->platform_digest && !strcmp(e->platform_digest, via)));

	cache_entry_release(&p->entry);
	if (!strcmp(e->source, p->key)) {
		p->entry = *e;
		memset(e, 0, sizeof(*e));
		return;
	}
	p->entry.digest = e->digest, e->digest = NULL;
	p->entry.size = e->size;
	p->entry.raw_digest = e->raw_digest, e->raw_digest = NULL;
	if (same_manifest) {
		p->entry.manifest_digest = e->manifest_digest, e->manifest_digest = NULL;
		p->entry.platform_digest = e->platform_digest, e->platform_digest = NULL;
		p->entry.format = e->format, e->format = NULL;
	}
	if (!p->entry.format)
		p->entry.format = xstrdup(p->kind == SOURCE_HTTP ? "http" : p->kind == SOURCE_FILE ? "file"
											   : "unknown");
}

/* Uses the cached module of e when it is intact: opens and read-locks it. */
static enum wp_err use_entry(struct pull *p, struct cache_entry *e, const char *via,
			     struct error *err)
{
	struct error tmp;
	enum wp_err rc;

	if (!entry_proves_want(p, e)) {
		if (p->policy == POLICY_NEVER)
			return error_set(err, WP_EVERIFY, "cached module %s does not match --sha256 %s",
					 e->digest, p->want);
		return WP_ENOTFOUND; /* fetch, and verify what comes */
	}
	error_init(&tmp);
	rc = cache_open_blob(p->cache, digest_hex(e->digest), e->size, &p->fd, &tmp);
	if (rc == WP_OK) {
		adopt_entry(p, e, via);
		p->cached = true;
		return WP_OK;
	}
	if (rc == WP_EVERIFY && p->policy == POLICY_NEVER)
		return error_set(err, rc, "%s", tmp.msg);
	if (rc == WP_EVERIFY) {
		free(p->warning);
		p->warning = xasprintf("%s; fetched it again", tmp.msg);
	}
	if (rc == WP_EFAIL)
		return error_set(err, rc, "%s", tmp.msg);
	return WP_ENOTFOUND; /* absent or corrupt (and removed): fetch again */
}

static bool same_platform(const struct cache_entry *e, const struct pull *p)
{
	if (!e->platform || !p->fo.platform)
		return !e->platform && !p->fo.platform;
	return strcmp(e->platform, p->fo.platform) == 0;
}

/* A record of this source that we may use without asking the network. */
static enum wp_err try_record(struct pull *p, bool fresh_only, struct error *err)
{
	struct cache_entry e = { 0 };
	struct error tmp;
	enum wp_err rc;

	error_init(&tmp);
	if (cache_lookup(p->cache, p->key, &e, &tmp) != WP_OK)
		return WP_ENOTFOUND;
	/* a record made for another --platform of the same index is not this pull's */
	if ((fresh_only && e.checked < (int64_t)p->started) || !same_platform(&e, p)) {
		cache_entry_release(&e);
		return WP_ENOTFOUND;
	}
	rc = use_entry(p, &e, NULL, err);
	cache_entry_release(&e);
	return rc;
}

/* Any cached module proven by digest (a digest reference or --sha256). */
static enum wp_err try_digest(struct pull *p, const char *digest, struct error *err)
{
	struct cache_entry e = { 0 };
	struct error tmp;
	enum wp_err rc;

	error_init(&tmp);
	if (cache_find_digest(p->cache, digest, &e, &tmp) != WP_OK)
		return WP_ENOTFOUND;
	if (e.manifest_digest && !strcmp(e.manifest_digest, digest) && !same_platform(&e, p)) {
		cache_entry_release(&e);
		return WP_ENOTFOUND;
	}
	rc = use_entry(p, &e, digest, err);
	cache_entry_release(&e);
	return rc;
}

/* A raw module layer already cached, whose size agrees with its descriptor. */
static enum wp_err try_layer(struct pull *p, const struct descriptor *layer, struct error *err)
{
	struct cache_entry e = { 0 };
	struct error tmp;
	enum wp_err rc = WP_ENOTFOUND;

	error_init(&tmp);
	if (cache_find_digest(p->cache, layer->digest, &e, &tmp) == WP_OK &&
	    !strcmp(e.digest, layer->digest) && e.size == layer->size)
		rc = use_entry(p, &e, layer->digest, err);
	cache_entry_release(&e);
	return rc;
}

/* Writes this source's record; checked: the network was asked just now. */
static void record_use(struct pull *p, bool checked)
{
	struct cache_entry now = { 0 };
	struct error tmp;
	int64_t t = now_wall();

	error_init(&tmp);
	/* a digest hit on bytes another kind of source brought tells nothing of
	 * this reference's manifest: no record for it from that */
	if (p->entry.format && !strcmp(p->entry.format, "unknown"))
		return;
	/* a hit only moves last_used: it must not undo a newer pull's record */
	if (!checked && cache_lookup(p->cache, p->key, &now, &tmp) == WP_OK &&
	    strcmp(now.digest, p->entry.digest) != 0) {
		cache_entry_release(&now);
		return;
	}
	cache_entry_release(&now);
	error_init(&tmp);
	free(p->entry.source);
	p->entry.source = xstrdup(p->key);
	if (!p->entry.created)
		p->entry.created = t;
	p->entry.last_used = t;
	if (checked)
		p->entry.checked = t;
	if (cache_put(p->cache, &p->entry, &tmp) != WP_OK)
		warnf("%s", tmp.msg);
}

static struct http_opts http_opts_for(const struct pull *p)
{
	struct http_opts o = {
		.ca_file = p->fo.ca_file,
		.deadline = p->deadline,
		.attempts = p->fo.retries,
		.progress = progress_update,
	};
	return o;
}

static enum wp_err pull_http(struct pull *p, struct error *err)
{
	const char *key = p->key;
	struct http *h = NULL;
	struct fetch *f = NULL;
	struct http_response resp = { 0 };
	struct cache_entry old = { 0 };
	const char *cond[3] = { NULL };
	char *inm = NULL, *ims = NULL;
	size_t nc = 0;
	bool have_old;
	enum wp_err rc;
	struct error tmp;

	error_init(&tmp);
	have_old = p->policy == POLICY_ALWAYS && cache_lookup(p->cache, key, &old, &tmp) == WP_OK;
	if (have_old) {
		/* validators only help when the module they describe is still here */
		if (use_entry(p, &old, NULL, &tmp) != WP_OK) {
			have_old = false;
		} else {
			old = p->entry;
			memset(&p->entry, 0, sizeof(p->entry));
			close(p->fd);
			p->fd = -1;
			p->cached = false;
			if (old.etag)
				cond[nc++] = inm = xasprintf("If-None-Match: %s", old.etag);
			if (old.last_modified)
				cond[nc++] = ims = xasprintf("If-Modified-Since: %s", old.last_modified);
		}
	}
	struct http_opts ho = http_opts_for(p);
	h = http_new(&ho);
	if ((rc = fetch_begin(p->cache, p->fo.max_size, &f, err)) != WP_OK)
		goto out;
	if ((rc = fetch_url(h, p->source, p->fo.headers, p->fo.n_headers, cond, p->fo.max_size, f,
			    &resp, err)) != WP_OK)
		goto out;
	if (resp.status == 304) {
		if (!have_old) {
			rc = error_set(err, WP_EFAIL, "HTTP 304 to an unconditional request");
			goto out;
		}
		notef("%s: not modified", p->shown);
		rc = use_entry(p, &old, NULL, err);
		if (rc == WP_OK)
			record_use(p, true);
		else
			rc = error_set(err, WP_EFAIL, "the cached module vanished during the pull");
		goto out;
	}
	struct fetch_expect exp = { .raw_size = -1, .unbox = true, .want_hex = p->want[0] ? p->want : NULL };
	struct fetch_result res;
	if ((rc = fetch_finish(f, &exp, &res, err)) != WP_OK)
		goto out;
	cache_entry_release(&p->entry);
	p->entry.digest = xasprintf("sha256:%s", res.hex);
	p->entry.size = res.size;
	p->entry.raw_digest = xasprintf("sha256:%s", res.raw_hex);
	p->entry.format = xstrdup("http");
	p->entry.etag = xstrdup(resp.etag);
	p->entry.last_modified = xstrdup(resp.last_modified);
	p->entry.created = old.created;
	if ((rc = cache_open_published(p->cache, res.hex, res.size, &p->fd, err)) != WP_OK)
		goto out;
	p->cached = false;
	record_use(p, true);
out:
	cache_entry_release(&old);
	http_response_release(&resp);
	fetch_free(f);
	http_free(h);
	free(inm);
	free(ims);
	return rc;
}

static enum wp_err pull_file(struct pull *p, struct error *err)
{
	struct fetch *f = NULL;
	struct fetch_result res;
	enum wp_err rc;

	if ((rc = fetch_path(p->cache, source_file_path(p->source), p->fo.max_size, &f, err)) != WP_OK)
		goto out;
	struct fetch_expect exp = { .raw_size = -1, .unbox = true, .want_hex = p->want[0] ? p->want : NULL };
	if ((rc = fetch_finish(f, &exp, &res, err)) != WP_OK)
		goto out;
	cache_lookup(p->cache, p->key, &p->entry, &(struct error){ 0 });
	free(p->entry.digest);
	free(p->entry.raw_digest);
	free(p->entry.format);
	p->entry.digest = xasprintf("sha256:%s", res.hex);
	p->entry.raw_digest = xasprintf("sha256:%s", res.raw_hex);
	p->entry.size = res.size;
	p->entry.format = xstrdup("file");
	if ((rc = cache_open_published(p->cache, res.hex, res.size, &p->fd, err)) != WP_OK)
		goto out;
	p->cached = false;
	record_use(p, true);
out:
	fetch_free(f);
	return rc;
}

static enum wp_err pull_oci(struct pull *p, const struct ref *r, const char *key, struct error *err)
{
	struct registry *reg = NULL;
	struct resolved res = { 0 };
	struct fetch *f = NULL;
	struct cache_entry old = { 0 };
	struct error tmp;
	enum wp_err rc;

	error_init(&tmp);
	if ((rc = registry_new(r, &p->fo, p->deadline, &reg, err)) != WP_OK)
		goto out;
	/* what this source resolved to last time: if the registry still says so,
	 * one manifest request is the whole check */
	bool known = cache_lookup(p->cache, key, &old, &tmp) == WP_OK && old.manifest_digest &&
		     same_platform(&old, p);
	if ((rc = registry_resolve(reg, p->fo.platform, true, known ? old.manifest_digest : NULL, &res,
				   err)) != WP_OK)
		goto out;
	if (res.unchanged) {
		struct cache_entry copy; /* use_entry takes what it uses; old.created is needed below */
		cache_entry_copy(&copy, &old);
		rc = use_entry(p, &copy, NULL, err);
		cache_entry_release(&copy);
		if (rc == WP_OK) {
			notef("%s: digest %s unchanged", p->shown, res.digest);
			record_use(p, true);
			goto out;
		}
		if (rc != WP_ENOTFOUND)
			goto out;
		/* the module is gone (or is not what --sha256 says): resolve it all */
		resolved_release(&res);
		if ((rc = registry_resolve(reg, p->fo.platform, true, NULL, &res, err)) != WP_OK)
			goto out;
	}
	/* --sha256 named a manifest, and the registry served it: proven */
	if (p->want[0] && (!strcmp(digest_hex(res.digest), p->want) ||
			   !strcmp(digest_hex(res.chosen_digest), p->want)))
		p->want[0] = '\0';
	/* another tag or a digest pull may have brought the same artifact */
	for (size_t i = 0; i < 2; i++) {
		rc = try_digest(p, i ? res.chosen_digest : res.digest, err);
		if (rc == WP_OK)
			goto fill;
		if (rc != WP_ENOTFOUND)
			goto out;
	}
	rc = WP_OK;

	const struct descriptor *layer = &res.chosen.layers[res.layer];
	/* the same raw layer may be cached under another reference or a URL;
	 * its descriptor must still tell the truth about its size */
	if (res.kind == LAYER_RAW && (rc = try_layer(p, layer, err)) == WP_OK)
		goto fill;
	if (rc != WP_OK && rc != WP_ENOTFOUND)
		goto out;
	rc = WP_OK;
	const char *want = p->want[0] ? p->want : NULL;
	if ((rc = fetch_begin(p->cache, p->fo.max_size, &f, err)) != WP_OK)
		goto out;
	if ((rc = registry_fetch_blob(reg, layer, f, err)) != WP_OK)
		goto out;
	struct fetch_expect exp = {
		.raw_hex = digest_hex(layer->digest),
		.raw_size = (int64_t)layer->size,
		.unbox = res.kind == LAYER_ARCHIVE,
		.want_hex = want,
	};
	struct fetch_result fr;
	if ((rc = fetch_finish(f, &exp, &fr, err)) != WP_OK)
		goto out;
	cache_entry_release(&p->entry);
	p->entry.digest = xasprintf("sha256:%s", fr.hex);
	p->entry.size = fr.size;
	p->entry.raw_digest = xstrdup(layer->digest);
	if ((rc = cache_open_published(p->cache, fr.hex, fr.size, &p->fd, err)) != WP_OK)
		goto out;
	p->cached = false;
fill:
	free(p->entry.manifest_digest);
	free(p->entry.reference);
	free(p->entry.format);
	free(p->entry.etag);
	free(p->entry.last_modified);
	p->entry.etag = p->entry.last_modified = NULL;
	p->entry.manifest_digest = xstrdup(res.digest);
	free(p->entry.platform_digest);
	p->entry.platform_digest = res.from_index ? xstrdup(res.chosen_digest) : NULL;
	p->entry.reference = ref_string(r);
	p->entry.format = xstrdup(wasm_format_name(res.format));
	free(p->entry.platform);
	p->entry.platform = xstrdup(p->fo.platform);
	p->entry.created = old.created;
	record_use(p, true);
out:
	cache_entry_release(&old);
	fetch_free(f);
	resolved_release(&res);
	registry_free(reg);
	return rc;
}

/* -o must not land inside the cache (a module file there would turn writable),
 * nor in a folder that is not there: both are known before anything is fetched. */
static enum wp_err check_output(struct pull *p, struct error *err)
{
	struct stat st;
	/* -o through a symlink replaces what it points at and keeps the link
	 * (a dangling one is replaced itself: there is nothing to follow) */
	char *real = lstat(p->output, &st) == 0 && S_ISLNK(st.st_mode) ? realpath(p->output, NULL) : NULL;
	char *dup, *dir;
	const char *root = cache_root(p->cache);
	size_t n = strlen(root);
	enum wp_err rc = WP_OK;

	p->target = real ? real : xstrdup(p->output);
	dup = xstrdup(p->target);
	dir = realpath(dirname(dup), NULL);
	if (!dir)
		rc = error_set(err, WP_EFAIL, "cannot write -o %s: %s", p->output, strerror(errno));
	else if (!strncmp(dir, root, n) && (dir[n] == '/' || dir[n] == '\0'))
		rc = error_set(err, WP_EUSAGE, "-o %s is inside the cache %s", p->output, root);
	else if (stat(p->target, &st) == 0 && S_ISDIR(st.st_mode))
		rc = error_set(err, WP_EUSAGE, "-o %s is a folder; name the file to write", p->output);
	free(dir);
	free(dup);
	return rc;
}

static void print_json(const struct pull *p, const char *path)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "source", p->shown);
	if (p->entry.reference)
		cJSON_AddStringToObject(o, "reference", p->entry.reference);
	if (p->entry.manifest_digest)
		cJSON_AddStringToObject(o, "manifest_digest", p->entry.manifest_digest);
	cJSON_AddStringToObject(o, "digest", p->entry.digest);
	cJSON_AddNumberToObject(o, "size", (double)p->entry.size);
	cJSON_AddStringToObject(o, "format", p->entry.format ? p->entry.format : "http");
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddBoolToObject(o, "cached", p->cached);
	if (p->output)
		cJSON_AddStringToObject(o, "output", p->output);
	s = cJSON_PrintUnformatted(o);
	puts(s);
	cJSON_free(s);
	cJSON_Delete(o);
}

static enum wp_err run(struct pull *p, struct global *g, struct error *err)
{
	enum source_kind kind = p->kind;
	struct ref r = { 0 };
	char *key = NULL, *cache_dir = NULL, *path = NULL;
	int lock = -1;
	bool waited = false, hit = false;
	enum wp_err rc = WP_OK;

	if (kind == SOURCE_OCI) {
		if ((rc = ref_parse(p->source, &r, err)) != WP_OK)
			return rc;
		char *s = ref_string(&r);
		key = xasprintf("oci://%s", s);
		free(s);
		p->key = key;
		if (p->policy == POLICY_DEFAULT)
			p->policy = !r.digest && (r.tag_defaulted || !strcmp(r.tag, "latest"))
					    ? POLICY_ALWAYS : POLICY_IF_NOT_PRESENT;
	} else {
		if (kind == SOURCE_HTTP && !http_url_valid(p->source))
			return error_set(err, WP_EUSAGE, "invalid URL \"%s\"", p->shown);
		char *abs = kind == SOURCE_FILE ? realpath(source_file_path(p->source), NULL) : NULL;
		/* a file is known by its absolute path, however it was named */
		key = kind == SOURCE_FILE ? xasprintf("file://%s", abs ? abs : source_file_path(p->source))
					  : xstrdup(p->source);
		free(abs);
		p->key = key;
		if (p->policy == POLICY_DEFAULT)
			p->policy = POLICY_IF_NOT_PRESENT;
	}
	if ((rc = fetch_opts_finish(&p->fo, err)) != WP_OK)
		goto out;
	p->started = (double)now_wall();
	p->deadline = now_mono() + p->fo.timeout;
	cache_dir = global_cache_dir(g);
	if ((rc = cache_open(cache_dir, &p->cache, err)) != WP_OK)
		goto out;
	/* a bad -o is known before anything is fetched */
	if (p->output && strcmp(p->output, "-") && (rc = check_output(p, err)) != WP_OK)
		goto out;

	if (kind == SOURCE_FILE) {
		rc = pull_file(p, err);
		goto done;
	}
	/* content proven by its digest is a hit whatever the policy */
	if (r.digest && (rc = try_digest(p, r.digest, err)) != WP_ENOTFOUND)
		goto hit;
	if (p->want[0]) {
		char *d = xasprintf("sha256:%s", p->want);
		rc = try_digest(p, d, err);
		free(d);
		if (rc != WP_ENOTFOUND)
			goto hit;
	}
	if (p->policy != POLICY_ALWAYS && (rc = try_record(p, false, err)) != WP_ENOTFOUND)
		goto hit;
	if (p->policy == POLICY_NEVER) {
		rc = error_set(err, WP_ENOTFOUND, "not in the cache (policy never)");
		goto done;
	}
	if ((rc = cache_lock_source(p->cache, key, p->deadline, &lock, &waited, err)) != WP_OK)
		goto done;
	/* whoever held the lock may just have fetched it for us */
	if (waited && (rc = try_record(p, true, err)) != WP_ENOTFOUND)
		goto hit;
	progress_start(p->shown);
	rc = kind == SOURCE_HTTP ? pull_http(p, err) : pull_oci(p, &r, key, err);
	progress_done();
	goto done;
hit:
	if (rc == WP_OK) {
		hit = true;
		if (kind == SOURCE_OCI && !p->entry.reference)
			p->entry.reference = ref_string(&r);
		record_use(p, false);
	}
done:
	if (rc != WP_OK)
		goto out;
	if (p->warning)
		warnf("%s", p->warning);
	notef("%s: %s sha256:%.12s (%llu bytes)", p->shown, hit || p->cached ? "cached" : "pulled",
	      digest_hex(p->entry.digest), (unsigned long long)p->entry.size);
	path = cache_blob_path(p->cache, digest_hex(p->entry.digest));
	if (p->output && strcmp(p->output, "-") == 0) {
		rc = copy_to_stdout(p->fd, err);
		goto out;
	}
	if (p->target && (rc = copy_to_path(p->fd, p->target, err)) != WP_OK)
		goto out;
	if (p->json)
		print_json(p, path);
	else
		puts(path);
	if (fflush(stdout) != 0)
		rc = error_set(err, WP_EFAIL, "cannot write stdout: %s", strerror(errno));
out:
	if (rc != WP_OK && err->msg[0])
		error_prefix(err, "%s", p->shown);
	cache_unlock(lock);
	free(path);
	free(cache_dir);
	free(key);
	ref_release(&r);
	return rc;
}

static bool pull_option(int c, const char *arg, void *ud, struct error *err)
{
	struct pull *p = ud;

	switch (c) {
	case OPT_SHA256:
		if (!parse_sha256(arg, p->want))
			error_set(err, WP_EUSAGE, "invalid --sha256 '%s': expected 64 hex digits", arg);
		return true;
	case OPT_POLICY:
		if (!parse_policy(arg, &p->policy))
			error_set(err, WP_EUSAGE, "invalid --policy '%s': expected if-not-present, always or never",
				  arg);
		return true;
	case 'o':
		p->output = arg;
		return true;
	case OPT_JSON:
		p->json = true;
		return true;
	}
	return false;
}

static enum wp_err cmd_pull_run(int argc, char **argv, struct global *g, struct error *err)
{
	struct pull p = { .fd = -1 };
	const char *env;
	enum wp_err rc = WP_OK;
	bool done;

	fetch_opts_init(&p.fo);
	if ((rc = cmd_getopt(argc, argv, "o:" FETCH_SHORTOPTS GLOBAL_SHORTOPTS, pull_options, &cmd_pull,
			     "pull", g, &p.fo, pull_option, &p, &done, err)) != WP_OK || done)
		goto out;
	if (optind != argc - 1) {
		rc = error_set(err, WP_EUSAGE, optind >= argc ? "pull needs a SOURCE; see 'wasmpull help pull'"
							       : "pull takes one SOURCE; see 'wasmpull help pull'");
		goto out;
	}
	if (p.output && !strcmp(p.output, "-") && p.json) {
		rc = error_set(err, WP_EUSAGE, "-o - writes the module to stdout; it cannot go with --json");
		goto out;
	}
	if (p.policy == POLICY_DEFAULT && (env = getenv("WASMPULL_PULL_POLICY")) && *env &&
	    !parse_policy(env, &p.policy)) {
		rc = error_set(err, WP_EUSAGE, "invalid WASMPULL_PULL_POLICY '%s'", env);
		goto out;
	}
	p.source = argv[optind];
	p.shown = source_redact(p.source);
	p.kind = source_classify(p.source);
	rc = run(&p, g, err);
out:
	if (p.fd >= 0)
		close(p.fd);
	cache_entry_release(&p.entry);
	cache_free(p.cache);
	free(p.shown);
	free(p.warning);
	free(p.target);
	fetch_opts_release(&p.fo);
	return err->code ? err->code : rc;
}

const struct cmd cmd_pull = {
	.name = "pull",
	.run = cmd_pull_run,
	.summary = "fetch a module into the cache and print its path",
	.usage = pull_usage,
};
