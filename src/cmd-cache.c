/* wasmpull cache ls|gc|rm|verify: look after the module cache. Each
 * subcommand loads the index and the blob folder into one inventory, decides
 * from it, and deletes blobs only through cache_remove_blob, so a module that
 * another process holds is never removed. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cmd.h"
#include "digest.h"
#include "log.h"
#include "parse.h"
#include "ref.h"
#include "source.h"

#define LS_SUMMARY "list cached modules: digest, size, last use, sources"
#define GC_SUMMARY "remove unused modules, debris and unreferenced files"
#define RM_SUMMARY "forget sources; delete modules by source or digest"
#define VERIFY_SUMMARY "re-hash every module; remove the corrupt ones"
#define DEFAULT_GC_AGE (24 * 3600.0)

static const char cache_usage[] =
	"usage: wasmpull cache SUBCOMMAND [OPTIONS]\n"
	"\n"
	"Subcommands:\n"
	"  ls       " LS_SUMMARY "\n"
	"  gc       " GC_SUMMARY "\n"
	"  rm       " RM_SUMMARY "\n"
	"  verify   " VERIFY_SUMMARY "\n"
	"\n"
	"  wasmpull cache ls [--json]\n"
	"  wasmpull cache gc [--older-than DURATION] [--max-size SIZE] [--dry-run] [--json]\n"
	"  wasmpull cache rm [--json] SOURCE|DIGEST...\n"
	"  wasmpull cache verify [--json]\n"
	"\n"
	"'wasmpull cache SUBCOMMAND --help' describes each one.\n";

static const char ls_usage[] =
	"usage: wasmpull cache ls [--json]\n"
	"\n"
	"Lists the cached modules, most recently used first: short digest, size,\n"
	"last use (local time) and the sources that resolved to each.\n"
	"\n"
	"Options:\n"
	"      --json                an array of {digest, size, sources, created, last_used, path}\n";

static const char gc_usage[] =
	"usage: wasmpull cache gc [--older-than DURATION] [--max-size SIZE] [--dry-run] [--json]\n"
	"\n"
	"Removes modules not used for DURATION, then, with --max-size, the least\n"
	"recently used until the cache fits. Always removes leftovers of interrupted\n"
	"pulls and module files no source refers to. Modules that another process\n"
	"holds are kept.\n"
	"\n"
	"Options:\n"
	"      --older-than DURATION  age to remove at (default 24h)\n"
	"      --max-size SIZE        largest total size of the modules kept\n"
	"      --dry-run              list what would be removed, remove nothing\n"
	"      --json                 {removed: [{digest, size}], freed, kept}\n";

static const char rm_usage[] =
	"usage: wasmpull cache rm [--json] SOURCE|DIGEST...\n"
	"\n"
	"A SOURCE (as given to pull) is forgotten; its module is deleted when no\n"
	"other source still points at it. A DIGEST (sha256:HEX, 64 hex digits or a\n"
	"unique prefix of 12 or more; a manifest or layer digest works too) deletes\n"
	"the module and every source of it. Exit 3 when an argument matches nothing.\n"
	"\n"
	"Options:\n"
	"      --json                 {forgotten: [sources], removed: [{digest, size}], freed}\n";

static const char verify_usage[] =
	"usage: wasmpull cache verify [--json]\n"
	"\n"
	"Re-hashes every cached module; corrupt ones are listed and removed, with\n"
	"their sources, and the exit status is 5.\n"
	"\n"
	"Options:\n"
	"      --json                 {checked, corrupt: [{digest, path}]}\n";

enum {
	OPT_JSON = 0x100,
	OPT_OLDER_THAN,
	OPT_GC_MAX_SIZE,
	OPT_DRY_RUN,
};

static const struct option cache_options[] = {
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option ls_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option gc_options[] = {
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "max-size", required_argument, NULL, OPT_GC_MAX_SIZE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "json", no_argument, NULL, OPT_JSON },
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option rm_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option verify_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* One index record, and whether we have forgotten it. */
struct rec {
	struct cache_entry e;
	bool dropped;
};

/* One blob file named by a sha256, with what its records say of it. */
struct module {
	char hex[65];
	uint64_t size;
	int64_t created, last_used;
	size_t nrefs;
	bool gone; /* removed (or would be, under --dry-run) */
};

/* A blob-folder entry that is not a module: a planted link, a stray name. */
struct stray {
	char *name;
	bool hex_name;
};

struct inventory {
	struct cache *cache;
	struct rec *recs;
	size_t nrecs;
	struct module *mods; /* sorted by hex */
	size_t nmods;
	struct stray *strays;
	size_t nstrays;
};

static const char *hex_of(const char *digest)
{
	return digest && str_starts_with(digest, "sha256:") ? digest + 7 : digest;
}

static bool load_rec(const struct cache_entry *e, void *ud)
{
	struct inventory *inv = ud;

	inv->recs = xrealloc(inv->recs, (inv->nrecs + 1) * sizeof(*inv->recs));
	cache_entry_copy(&inv->recs[inv->nrecs].e, e);
	inv->recs[inv->nrecs++].dropped = false;
	return true;
}

static bool load_blob(const char *name, uint64_t size, int64_t mtime, void *ud)
{
	struct inventory *inv = ud;
	char *path = cache_blob_path(inv->cache, name);
	struct stat st;
	bool regular = lstat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	if (regular && is_sha256_hex(name)) {
		inv->mods = xrealloc(inv->mods, (inv->nmods + 1) * sizeof(*inv->mods));
		struct module *m = &inv->mods[inv->nmods++];
		memset(m, 0, sizeof(*m));
		memcpy(m->hex, name, 65);
		m->size = size;
		m->created = m->last_used = mtime;
	} else {
		inv->strays = xrealloc(inv->strays, (inv->nstrays + 1) * sizeof(*inv->strays));
		inv->strays[inv->nstrays].name = xstrdup(name);
		inv->strays[inv->nstrays++].hex_name = is_sha256_hex(name);
	}
	return true;
}

static int cmp_mod_hex(const void *a, const void *b)
{
	return strcmp(((const struct module *)a)->hex, ((const struct module *)b)->hex);
}

static struct module *find_module(const struct inventory *inv, const char *hex)
{
	struct module key;

	if (!inv->nmods || !hex || strlen(hex) != 64)
		return NULL;
	memcpy(key.hex, hex, 65);
	return bsearch(&key, inv->mods, inv->nmods, sizeof(*inv->mods), cmp_mod_hex);
}

static void inventory_release(struct inventory *inv)
{
	for (size_t i = 0; i < inv->nrecs; i++)
		cache_entry_release(&inv->recs[i].e);
	for (size_t i = 0; i < inv->nstrays; i++)
		free(inv->strays[i].name);
	free(inv->recs);
	free(inv->mods);
	free(inv->strays);
	cache_free(inv->cache);
	memset(inv, 0, sizeof(*inv));
}

/*
 * Opens the cache of g and reads records and blobs. An absent cache folder
 * is an empty inventory (inv->cache NULL): looking must not create it.
 */
static enum wp_err inventory_load(struct inventory *inv, struct global *g, struct error *err)
{
	char *root = global_cache_dir(g);
	struct stat st;
	enum wp_err rc;

	memset(inv, 0, sizeof(*inv));
	if (stat(root, &st) < 0 && errno == ENOENT) {
		free(root);
		return WP_OK;
	}
	rc = cache_open(root, &inv->cache, err);
	free(root);
	if (rc != WP_OK)
		return rc;
	if ((rc = cache_each(inv->cache, load_rec, inv, err)) != WP_OK ||
	    (rc = cache_each_blob(inv->cache, load_blob, inv, err)) != WP_OK)
		return rc;
	if (inv->nmods)
		qsort(inv->mods, inv->nmods, sizeof(*inv->mods), cmp_mod_hex);
	/* a blob's created is the earliest of its records, last used the latest */
	for (size_t i = 0; i < inv->nrecs; i++) {
		const struct cache_entry *e = &inv->recs[i].e;
		struct module *m = find_module(inv, hex_of(e->digest));

		if (!m)
			continue;
		if (!m->nrefs || (e->created && e->created < m->created))
			m->created = e->created ? e->created : m->created;
		if (!m->nrefs || e->last_used > m->last_used)
			m->last_used = e->last_used;
		m->nrefs++;
	}
	return WP_OK;
}

static bool rec_points_at(const struct rec *r, const char *hex)
{
	return !r->dropped && strcmp(hex_of(r->e.digest), hex) == 0;
}

/* Forgets r unless a pull has since pointed its source somewhere else. */
static void drop_rec(struct inventory *inv, struct rec *r)
{
	struct cache_entry now = { 0 };
	struct error tmp;

	error_init(&tmp);
	r->dropped = true;
	if (cache_lookup(inv->cache, r->e.source, &now, &tmp) == WP_OK &&
	    strcmp(now.digest, r->e.digest) == 0 && cache_forget(inv->cache, r->e.source, &tmp) != WP_OK)
		warnf("%s", tmp.msg);
	cache_entry_release(&now);
}

static void drop_recs_of(struct inventory *inv, const char *hex)
{
	for (size_t i = 0; i < inv->nrecs; i++)
		if (rec_points_at(&inv->recs[i], hex))
			drop_rec(inv, &inv->recs[i]);
}

/* Whether another process holds the blob (a pull or read using it). */
static bool blob_busy(const struct inventory *inv, const char *hex)
{
	char *path = cache_blob_path(inv->cache, hex);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool busy = false;

	if (fd >= 0) {
		busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
		close(fd);
	}
	free(path);
	return busy;
}

static bool blob_exists(const struct inventory *inv, const char *hex)
{
	char *path = cache_blob_path(inv->cache, hex);
	struct stat st;
	bool there = lstat(path, &st) == 0;

	free(path);
	return there;
}

/*
 * Removes module m and the records that point at it; false (and nothing
 * changed) when another process holds it. *freed grows by what was released.
 */
static bool remove_module(struct inventory *inv, struct module *m, bool dry_run, uint64_t *freed)
{
	if (dry_run) {
		if (blob_busy(inv, m->hex))
			return false;
		*freed += m->size;
	} else if (!cache_remove_blob(inv->cache, m->hex, freed) && blob_exists(inv, m->hex)) {
		return false;
	}
	m->gone = true;
	if (!dry_run)
		drop_recs_of(inv, m->hex);
	return true;
}

struct fresh_ctx {
	const struct inventory *inv;
	const char *hex;
	bool found;
};

/* A record pointing at hex that the inventory does not know, or knows older:
 * a pull wrote or used it after gc read the index. */
static bool fresh_cb(const struct cache_entry *e, void *ud)
{
	struct fresh_ctx *f = ud;
	const struct rec *known = NULL;

	if (strcmp(hex_of(e->digest), f->hex) != 0)
		return true;
	for (size_t i = 0; i < f->inv->nrecs && !known; i++)
		if (!strcmp(f->inv->recs[i].e.source, e->source))
			known = &f->inv->recs[i];
	if (!known || strcmp(known->e.digest, e->digest) || e->last_used > known->e.last_used)
		f->found = true;
	return !f->found;
}

/* Whether a pull used m after we read the index: then it is not old any more. */
static bool used_since(struct inventory *inv, const struct module *m)
{
	struct fresh_ctx f = { inv, m->hex, false };
	struct error tmp;

	error_init(&tmp);
	cache_each(inv->cache, fresh_cb, &f, &tmp);
	return f.found;
}

static void format_time(int64_t t, bool utc, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
	    strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "%s", "-");
}

static enum wp_err flush_stdout(struct error *err)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return error_set(err, WP_EFAIL, "cannot write stdout: %s", strerror(errno));
	return WP_OK;
}

static void print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	puts(s);
	cJSON_free(s);
}

static cJSON *json_module(const char *hex, uint64_t size)
{
	cJSON *o = cJSON_CreateObject();
	char *d = xasprintf("sha256:%s", hex);

	cJSON_AddStringToObject(o, "digest", d);
	cJSON_AddNumberToObject(o, "size", (double)size);
	free(d);
	return o;
}

static enum wp_err parse_sub(int argc, char **argv, const struct option *table, struct global *g,
			     const struct cmd *sub, cmd_opt_fn opt, void *ud, bool *done,
			     struct error *err)
{
	char what[32];

	snprintf(what, sizeof(what), "cache %s", sub->name);
	return cmd_getopt(argc, argv, GLOBAL_SHORTOPTS, table, sub, what, g, NULL, opt, ud, done, err);
}

/* ---------------------------------------------------------------- ls */

static int cmp_mod_recent(const void *a, const void *b)
{
	const struct module *x = *(const struct module *const *)a, *y = *(const struct module *const *)b;

	if (x->last_used != y->last_used)
		return x->last_used > y->last_used ? -1 : 1;
	return strcmp(x->hex, y->hex);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Borrowed strings: the sources of hex, sorted; the caller frees the array. */
static const char **sources_of(const struct inventory *inv, const char *hex, size_t *n)
{
	const char **out = xcalloc(inv->nrecs + 1, sizeof(*out));

	*n = 0;
	for (size_t i = 0; i < inv->nrecs; i++)
		if (rec_points_at(&inv->recs[i], hex))
			out[(*n)++] = inv->recs[i].e.source;
	qsort(out, *n, sizeof(*out), cmp_str);
	return out;
}

static bool json_opt(int c, const char *arg, void *ud, struct error *err)
{
	(void)arg;
	(void)err;
	if (c != OPT_JSON)
		return false;
	*(bool *)ud = true;
	return true;
}

static enum wp_err ls_run(int argc, char **argv, struct global *g, struct error *err);

static const struct cmd sub_ls = { "ls", ls_run, LS_SUMMARY, ls_usage };

static enum wp_err ls_run(int argc, char **argv, struct global *g, struct error *err)
{
	struct inventory inv;
	struct module **order = NULL;
	cJSON *arr = NULL;
	bool json = false, done;
	enum wp_err rc;

	memset(&inv, 0, sizeof(inv));
	if ((rc = parse_sub(argc, argv, ls_options, g, &sub_ls, json_opt, &json, &done, err)) != WP_OK ||
	    done)
		goto out;
	if (optind != argc) {
		rc = error_set(err, WP_EUSAGE, "cache ls takes no arguments; see 'wasmpull cache ls --help'");
		goto out;
	}
	if ((rc = inventory_load(&inv, g, err)) != WP_OK)
		goto out;
	order = xcalloc(inv.nmods + 1, sizeof(*order));
	for (size_t i = 0; i < inv.nmods; i++)
		order[i] = &inv.mods[i];
	qsort(order, inv.nmods, sizeof(*order), cmp_mod_recent);
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < inv.nmods; i++) {
		const struct module *m = order[i];
		char size[32], created[40], used[40];
		size_t n;
		const char **src = sources_of(&inv, m->hex, &n);

		if (json) {
			cJSON *o = json_module(m->hex, m->size);
			cJSON *s = cJSON_AddArrayToObject(o, "sources");
			char *path = cache_blob_path(inv.cache, m->hex);
			for (size_t k = 0; k < n; k++) {
				char *shown = source_redact(src[k]);
				cJSON_AddItemToArray(s, cJSON_CreateString(shown));
				free(shown);
			}
			format_time(m->created, true, created, sizeof(created));
			format_time(m->last_used, true, used, sizeof(used));
			cJSON_AddStringToObject(o, "created", created);
			cJSON_AddStringToObject(o, "last_used", used);
			cJSON_AddStringToObject(o, "path", path);
			cJSON_AddItemToArray(arr, o);
			free(path);
		} else {
			format_size(m->size, size, sizeof(size));
			format_time(m->last_used, false, used, sizeof(used));
			printf("sha256:%.12s  %-10s  %s  ", m->hex, size, used);
			for (size_t k = 0; k < n; k++) {
				char *shown = source_redact(src[k]);
				printf("%s%s", k ? ", " : "", shown);
				free(shown);
			}
			puts(n ? "" : "-");
		}
		free(src);
	}
	if (json)
		print_json(arr);
	rc = flush_stdout(err);
out:
	cJSON_Delete(arr);
	free(order);
	inventory_release(&inv);
	return err->code ? err->code : rc;
}

/* ---------------------------------------------------------------- gc */

struct gc_opts {
	double older_than;
	uint64_t max_size;
	bool has_max, dry_run, json;
};

/* "0", "0s", "0h"…: for gc, "everything not in use" is a sensible age. */
static bool zero_duration(const char *s)
{
	static const char *const units[] = { "", "ms", "s", "m", "h", "d" };
	size_t n = strspn(s, "0");

	for (size_t i = 0; n && i < ARRAY_SIZE(units); i++)
		if (!strcmp(s + n, units[i]))
			return true;
	return false;
}

static bool gc_opt(int c, const char *arg, void *ud, struct error *err)
{
	struct gc_opts *o = ud;

	switch (c) {
	case OPT_OLDER_THAN:
		if (zero_duration(arg))
			o->older_than = 0;
		else if (!parse_duration(arg, &o->older_than))
			error_set(err, WP_EUSAGE, "invalid --older-than '%s': expected a duration like 12h or 7d",
				  arg);
		return !err->code;
	case OPT_GC_MAX_SIZE:
		if (!parse_size(arg, &o->max_size))
			error_set(err, WP_EUSAGE, "invalid --max-size '%s': expected a size like 512M or 2G", arg);
		o->has_max = true;
		return !err->code;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return true;
	case OPT_JSON:
		o->json = true;
		return true;
	}
	return false;
}

static int cmp_mod_lru(const void *a, const void *b)
{
	return -cmp_mod_recent(a, b);
}

static enum wp_err gc_run(int argc, char **argv, struct global *g, struct error *err);

static const struct cmd sub_gc = { "gc", gc_run, GC_SUMMARY, gc_usage };

static enum wp_err gc_run(int argc, char **argv, struct global *g, struct error *err)
{
	struct gc_opts o = { .older_than = DEFAULT_GC_AGE };
	struct inventory inv;
	struct module **lru = NULL;
	cJSON *out = NULL, *removed;
	uint64_t freed = 0, debris = 0, total = 0;
	size_t kept = 0, nremoved = 0, busy = 0;
	bool done;
	enum wp_err rc;

	memset(&inv, 0, sizeof(inv));
	if ((rc = parse_sub(argc, argv, gc_options, g, &sub_gc, gc_opt, &o, &done, err)) != WP_OK || done)
		goto out;
	if (optind != argc) {
		rc = error_set(err, WP_EUSAGE, "cache gc takes no arguments; see 'wasmpull cache gc --help'");
		goto out;
	}
	if ((rc = inventory_load(&inv, g, err)) != WP_OK)
		goto out;
	out = cJSON_CreateObject();
	removed = cJSON_AddArrayToObject(out, "removed");
	if (!inv.cache)
		goto print;

	/* records whose module is gone only mislead: pulls fetch again anyway */
	for (size_t i = 0; i < inv.nrecs && !o.dry_run; i++)
		if (!find_module(&inv, hex_of(inv.recs[i].e.digest)))
			drop_rec(&inv, &inv.recs[i]);

	/* oldest first, so the age pass and the size pass list in one order */
	lru = xcalloc(inv.nmods + 1, sizeof(*lru));
	for (size_t i = 0; i < inv.nmods; i++)
		lru[i] = &inv.mods[i];
	qsort(lru, inv.nmods, sizeof(*lru), cmp_mod_lru);
	int64_t cutoff = now_wall() - (int64_t)o.older_than;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < inv.nmods; i++) {
			struct module *m = lru[i];
			char size[32];

			if (m->gone)
				continue;
			if (pass == 0 && m->nrefs && m->last_used > cutoff)
				continue;
			if (pass == 1 && (!o.has_max || total <= o.max_size))
				break;
			if (!o.dry_run && used_since(&inv, m))
				continue;
			if (!remove_module(&inv, m, o.dry_run, &freed)) {
				notef("sha256:%.12s is in use by another process; kept", m->hex);
				busy++;
				continue;
			}
			total -= pass == 1 ? m->size : 0;
			nremoved++;
			if (o.json) {
				cJSON_AddItemToArray(removed, json_module(m->hex, m->size));
			} else {
				format_size(m->size, size, sizeof(size));
				printf("%s sha256:%.12s %s\n", o.dry_run ? "would remove" : "removed", m->hex, size);
			}
		}
		for (size_t i = 0; pass == 0 && i < inv.nmods; i++)
			total += inv.mods[i].gone ? 0 : inv.mods[i].size;
	}

	/* planted links and names that are no digest */
	for (size_t i = 0; i < inv.nstrays; i++) {
		if (o.dry_run)
			debris++;
		else if (cache_remove_blob(inv.cache, inv.strays[i].name, &freed))
			debris++;
	}
	cache_sweep_debris(inv.cache, o.dry_run, &freed, &debris);
	for (size_t i = 0; i < inv.nmods; i++)
		kept += !inv.mods[i].gone;
print:
	if (o.json) {
		cJSON_AddNumberToObject(out, "freed", (double)freed);
		cJSON_AddNumberToObject(out, "kept", (double)kept);
		print_json(out);
	}
	{
		char sz[32];
		format_size(freed, sz, sizeof(sz));
		notef("%s %s: %zu module%s, %llu debris file%s; %zu module%s kept (%zu in use)",
		      o.dry_run ? "would free" : "freed", sz, nremoved, nremoved == 1 ? "" : "s",
		      (unsigned long long)debris, debris == 1 ? "" : "s", kept, kept == 1 ? "" : "s", busy);
	}
	rc = flush_stdout(err);
out:
	cJSON_Delete(out);
	free(lru);
	inventory_release(&inv);
	return err->code ? err->code : rc;
}

/* ---------------------------------------------------------------- rm */

struct rm_state {
	struct inventory inv;
	bool json;
	cJSON *forgotten, *removed;
	uint64_t freed;
};

static void rm_module(struct rm_state *st, struct module *m)
{
	char size[32];

	if (m->gone)
		return;
	if (!remove_module(&st->inv, m, false, &st->freed)) {
		/* its records are gone, so gc collects it once it is let go */
		drop_recs_of(&st->inv, m->hex);
		warnf("sha256:%.12s is in use by another process; its file stays until a later gc", m->hex);
		return;
	}
	if (st->json) {
		cJSON_AddItemToArray(st->removed, json_module(m->hex, m->size));
	} else {
		format_size(m->size, size, sizeof(size));
		printf("removed sha256:%.12s %s\n", m->hex, size);
	}
}

static void rm_forget(struct rm_state *st, struct rec *r)
{
	if (r->dropped)
		return;
	char *shown = source_redact(r->e.source);
	drop_rec(&st->inv, r);
	if (st->json)
		cJSON_AddItemToArray(st->forgotten, cJSON_CreateString(shown));
	else
		printf("forgot %s\n", shown);
	free(shown);
}

/*
 * "sha256:HEX", 64 hex digits, or a prefix of 12 or more: lowercase hex into
 * out. 1: a digest, 0: not digest-shaped, -1: "sha256:" with bad hex.
 */
static int digest_arg(const char *s, char out[65])
{
	bool prefixed = str_starts_with(s, "sha256:");
	size_t n;

	if (prefixed)
		s += 7;
	for (n = 0; s[n] && n < 65; n++) {
		if (!isxdigit((unsigned char)s[n]))
			return prefixed ? -1 : 0;
		out[n] = (char)tolower((unsigned char)s[n]);
	}
	out[n < 65 ? n : 64] = '\0';
	if (n < 12 || n > 64)
		return prefixed ? -1 : 0;
	return 1;
}

/* Every module hex that starts with prefix, or (full digests) whose manifest or layer it is. */
static size_t match_digest(struct rm_state *st, const char *prefix, char found[2][65])
{
	size_t n = 0, len = strlen(prefix);

	for (size_t i = 0; i < st->inv.nmods && n < 2; i++)
		if (!st->inv.mods[i].gone && strncmp(st->inv.mods[i].hex, prefix, len) == 0)
			memcpy(found[n++], st->inv.mods[i].hex, 65);
	for (size_t i = 0; i < st->inv.nrecs && n < 2; i++) {
		const struct rec *r = &st->inv.recs[i];
		const char *cand = NULL;

		if (r->dropped)
			continue;
		if (strncmp(hex_of(r->e.digest), prefix, len) == 0)
			cand = hex_of(r->e.digest);
		else if (len == 64 && ((r->e.manifest_digest && !strcmp(hex_of(r->e.manifest_digest), prefix)) ||
				       (r->e.raw_digest && !strcmp(hex_of(r->e.raw_digest), prefix))))
			cand = hex_of(r->e.digest);
		if (cand && (n == 0 || strcmp(found[0], cand) != 0))
			memcpy(found[n++], cand, 65);
	}
	return n;
}

/* Lexically absolute path for a file that no longer exists. */
static char *absolute_path(const char *path)
{
	char *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0);
	char *joined = cwd ? xasprintf("%s/%s", cwd, path) : xstrdup(path);
	char *out = xcalloc(1, strlen(joined) + 2);
	size_t len = 0;

	for (char *p = joined; *p;) {
		char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[--len] != '/')
				;
			out[len] = '\0';
		} else {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p = *e ? e + 1 : e;
	}
	if (!len)
		strcpy(out, "/");
	free(cwd);
	free(joined);
	return out;
}

/* The index key of a SOURCE argument, as pull writes it; the caller frees. */
static char *source_key(const char *arg, struct error *err)
{
	struct ref r = { 0 };
	char *key = NULL, *s, *abs;

	switch (source_classify(arg)) {
	case SOURCE_HTTP:
		return xstrdup(arg);
	case SOURCE_FILE:
		abs = realpath(source_file_path(arg), NULL);
		if (!abs)
			abs = absolute_path(source_file_path(arg));
		key = xasprintf("file://%s", abs);
		free(abs);
		return key;
	case SOURCE_OCI:
		if (ref_parse(arg, &r, err) != WP_OK)
			return NULL;
		s = ref_string(&r);
		key = xasprintf("oci://%s", s);
		free(s);
		ref_release(&r);
		return key;
	}
	return NULL;
}

static struct rec *find_rec(struct rm_state *st, const char *source)
{
	for (size_t i = 0; source && i < st->inv.nrecs; i++)
		if (!st->inv.recs[i].dropped && strcmp(st->inv.recs[i].e.source, source) == 0)
			return &st->inv.recs[i];
	return NULL;
}

/* The one record whose redacted form (what ls shows) is shown; NULL if none,
 * or several (then *several is set). */
static struct rec *find_rec_shown(struct rm_state *st, const char *shown, bool *several)
{
	struct rec *found = NULL;

	for (size_t i = 0; i < st->inv.nrecs; i++) {
		struct rec *r = &st->inv.recs[i];
		char *s = r->dropped ? NULL : source_redact(r->e.source);
		bool same = s && strcmp(s, shown) == 0;
		free(s);
		if (same && found) {
			*several = true;
			return NULL;
		}
		if (same)
			found = r;
	}
	return found;
}

/* One argument: WP_OK, WP_ENOTFOUND, or a usage error in err. */
static enum wp_err rm_one(struct rm_state *st, const char *arg, struct error *err)
{
	char hex[65], found[2][65];
	char *key = NULL;
	struct rec *r;
	struct error tmp;
	int kind = digest_arg(arg, hex);

	if (kind < 0)
		return error_set(err, WP_EUSAGE,
				 "invalid digest '%s': expected sha256:HEX, 64 hex digits or a prefix of 12 or more",
				 arg);
	if (kind > 0) {
		size_t n = match_digest(st, hex, found);
		if (n > 1)
			return error_set(err, WP_EUSAGE, "%s is ambiguous: give more digits", arg);
		if (n == 1) {
			struct module *m = find_module(&st->inv, found[0]);
			for (size_t i = 0; i < st->inv.nrecs; i++)
				if (rec_points_at(&st->inv.recs[i], found[0]))
					rm_forget(st, &st->inv.recs[i]);
			if (m)
				rm_module(st, m);
			return WP_OK;
		}
		if (str_starts_with(arg, "sha256:"))
			return WP_ENOTFOUND;
	}
	/* a source: as pull would key it, else literally as ls shows it */
	error_init(&tmp);
	key = source_key(arg, &tmp);
	r = find_rec(st, key);
	if (!r)
		r = find_rec(st, arg);
	bool several = false;
	if (!r)
		r = find_rec_shown(st, arg, &several);
	free(key);
	if (several)
		return error_set(err, WP_EUSAGE,
				 "%s names several sources; give the URL as it was pulled, or a digest", arg);
	if (!r) {
		if (tmp.code == WP_EUSAGE && kind == 0)
			return error_set(err, WP_EUSAGE, "%s", tmp.msg);
		return WP_ENOTFOUND;
	}
	rm_forget(st, r);
	const char *mhex = hex_of(r->e.digest);
	for (size_t i = 0; i < st->inv.nrecs; i++)
		if (rec_points_at(&st->inv.recs[i], mhex))
			return WP_OK; /* another source still uses the module */
	struct module *m = find_module(&st->inv, mhex);
	if (m)
		rm_module(st, m);
	return WP_OK;
}

static enum wp_err rm_run(int argc, char **argv, struct global *g, struct error *err);

static const struct cmd sub_rm = { "rm", rm_run, RM_SUMMARY, rm_usage };

static enum wp_err rm_run(int argc, char **argv, struct global *g, struct error *err)
{
	struct rm_state st;
	struct strbuf missing;
	cJSON *out = NULL;
	size_t nmissing = 0;
	bool done;
	enum wp_err rc;

	memset(&st, 0, sizeof(st));
	strbuf_init(&missing);
	if ((rc = parse_sub(argc, argv, rm_options, g, &sub_rm, json_opt, &st.json, &done, err)) != WP_OK ||
	    done)
		goto out;
	if (optind >= argc) {
		rc = error_set(err, WP_EUSAGE, "cache rm needs a SOURCE or DIGEST; see 'wasmpull cache rm --help'");
		goto out;
	}
	if ((rc = inventory_load(&st.inv, g, err)) != WP_OK)
		goto out;
	out = cJSON_CreateObject();
	st.forgotten = cJSON_AddArrayToObject(out, "forgotten");
	st.removed = cJSON_AddArrayToObject(out, "removed");
	for (int i = optind; i < argc; i++) {
		if (rm_one(&st, argv[i], err) != WP_ENOTFOUND)
			continue;
		char *shown = source_redact(argv[i]);
		strbuf_addf(&missing, "%s%s", nmissing++ ? ", " : "", shown);
		free(shown);
	}
	if (st.json) {
		cJSON_AddNumberToObject(out, "freed", (double)st.freed);
		print_json(out);
	}
	rc = flush_stdout(err);
	if (nmissing)
		rc = error_set(err, WP_ENOTFOUND, "not in the cache: %s", missing.buf);
out:
	cJSON_Delete(out);
	strbuf_release(&missing);
	inventory_release(&st.inv);
	return err->code ? err->code : rc;
}

/* ---------------------------------------------------------------- verify */

/* Whether the blob of m matches its name and the sizes its records give. */
static bool blob_intact(struct inventory *inv, const struct module *m, bool *vanished,
			struct stat *st)
{
	char *path = cache_blob_path(inv->cache, m->hex);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char got[65] = "";
	uint64_t n = 0;
	bool ok = false;

	*vanished = fd < 0 && errno == ENOENT;
	memset(st, 0, sizeof(*st));
	if (fd >= 0) {
		ok = fstat(fd, st) == 0 && sha256_fd(fd, got, &n) == 0 && strcmp(got, m->hex) == 0;
		close(fd);
	}
	for (size_t i = 0; ok && i < inv->nrecs; i++)
		if (rec_points_at(&inv->recs[i], m->hex) && inv->recs[i].e.size != n)
			ok = false;
	free(path);
	return ok;
}

static enum wp_err verify_run(int argc, char **argv, struct global *g, struct error *err);

static const struct cmd sub_verify = { "verify", verify_run, VERIFY_SUMMARY, verify_usage };

static enum wp_err verify_run(int argc, char **argv, struct global *g, struct error *err)
{
	struct inventory inv;
	cJSON *out = NULL, *corrupt = NULL;
	size_t checked = 0, bad = 0, stuck = 0;
	bool json = false, done;
	enum wp_err rc;

	memset(&inv, 0, sizeof(inv));
	if ((rc = parse_sub(argc, argv, verify_options, g, &sub_verify, json_opt, &json, &done, err)) !=
		    WP_OK ||
	    done)
		goto out;
	if (optind != argc) {
		rc = error_set(err, WP_EUSAGE, "cache verify takes no arguments; see 'wasmpull cache verify --help'");
		goto out;
	}
	if ((rc = inventory_load(&inv, g, err)) != WP_OK)
		goto out;
	corrupt = cJSON_CreateArray();
	for (size_t i = 0; i < inv.nmods + inv.nstrays; i++) {
		bool vanished = false, intact;
		const char *hex;
		struct stat st = { 0 }, now;

		if (i < inv.nmods) {
			hex = inv.mods[i].hex;
			intact = blob_intact(&inv, &inv.mods[i], &vanished, &st);
		} else if (inv.strays[i - inv.nmods].hex_name) {
			hex = inv.strays[i - inv.nmods].name; /* a link or folder where a module belongs */
			intact = false;
		} else {
			continue;
		}
		if (vanished)
			continue; /* a concurrent gc or rm took it */
		checked++;
		char *path = cache_blob_path(inv.cache, hex);
		/* a pull may have put a fresh copy in its place meanwhile */
		if (!intact && st.st_ino &&
		    (lstat(path, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev))
			intact = true;
		if (intact) {
			free(path);
			continue;
		}
		bad++;
		if (json) {
			cJSON *o = cJSON_CreateObject();
			char *d = xasprintf("sha256:%s", hex);
			cJSON_AddStringToObject(o, "digest", d);
			cJSON_AddStringToObject(o, "path", path);
			cJSON_AddItemToArray(corrupt, o);
			free(d);
		} else {
			printf("corrupt sha256:%.12s %s\n", hex, path);
		}
		/* a reader of corrupt bytes is better off without them: no lock asked */
		if (unlink(path) < 0 && errno != ENOENT && rmdir(path) < 0)
			stuck++;
		else
			drop_recs_of(&inv, hex);
		free(path);
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "checked", (double)checked);
	cJSON_AddItemToObject(out, "corrupt", corrupt);
	corrupt = NULL;
	if (json)
		print_json(out);
	notef("%zu module%s checked, %zu corrupt", checked, checked == 1 ? "" : "s", bad);
	rc = flush_stdout(err);
	if (stuck)
		rc = error_set(err, WP_EVERIFY, "%zu corrupt module%s found, %zu could not be removed", bad,
			       bad == 1 ? "" : "s", stuck);
	else if (bad)
		rc = error_set(err, WP_EVERIFY, "%zu corrupt module%s removed", bad, bad == 1 ? "" : "s");
out:
	cJSON_Delete(corrupt);
	cJSON_Delete(out);
	inventory_release(&inv);
	return err->code ? err->code : rc;
}

/* ---------------------------------------------------------------- the group */

static const struct cmd *const subcommands[] = { &sub_ls, &sub_gc, &sub_rm, &sub_verify };

static enum wp_err cache_run(int argc, char **argv, struct global *g, struct error *err)
{
	const struct cmd *sub = NULL;
	int c;

	opterr = 0;
	/* '+': global options may come before the subcommand, the rest is its own */
	while ((c = getopt_long(argc, argv, "+:" GLOBAL_SHORTOPTS, cache_options, NULL)) != -1) {
		if (c == '?' || c == ':' || !global_option(g, c, optarg))
			return error_set(err, WP_EUSAGE, "%s '%s'; see 'wasmpull help cache'",
					 c == ':' ? "missing value for option" : "unknown option",
					 argv[optind - 1]);
	}
	if (optind >= argc) {
		if (g->help || g->version) {
			global_done(g, &cmd_cache);
			return WP_OK;
		}
		return error_set(err, WP_EUSAGE, "cache needs a subcommand: ls, gc, rm or verify; see 'wasmpull help cache'");
	}
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (strcmp(subcommands[i]->name, argv[optind]) == 0)
			sub = subcommands[i];
	if (!sub)
		return error_set(err, WP_EUSAGE, "unknown cache subcommand '%s'; see 'wasmpull help cache'",
				 argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0; /* full reinitialisation of getopt for the subcommand */
	return sub->run(argc, argv, g, err);
}

const struct cmd cmd_cache = {
	.name = "cache",
	.run = cache_run,
	.summary = "list, collect, remove and verify cached modules",
	.usage = cache_usage,
};
