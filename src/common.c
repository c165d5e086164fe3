/* What every command shares: global options, help, the cache root. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "digest.h"
#include "http.h"
#include "unbox.h"
#include "log.h"

bool global_option(struct global *g, int c, const char *arg)
{
	switch (c) {
	case 'C':
		g->cache_dir = arg;
		return true;
	case 'v':
		g->verbose++;
		return true;
	case 'q':
		g->quiet = true;
		return true;
	case 'h':
		g->help = true;
		return true;
	case 'V':
		g->version = true;
		return true;
	}
	return false;
}

void global_apply(const struct global *g)
{
	log_level = g->quiet ? 0 : 1 + (g->verbose > 2 ? 2 : g->verbose);
}

void cmd_print_help(const struct cmd *c)
{
	fputs(c->usage, stdout);
}

void print_version(void)
{
	printf("wasmpull %s\n", WASMPULL_VERSION);
	printf("%s\n", http_backend_version());
	printf("%s\n", digest_backend_version());
	printf("%s\n", json_backend_version());
	printf("%s\n", unbox_backend_version());
}

bool global_done(const struct global *g, const struct cmd *c)
{
	if (g->help) {
		cmd_print_help(c);
		return true;
	}
	if (g->version) {
		print_version();
		return true;
	}
	global_apply(g);
	return false;
}

enum wp_err cmd_getopt(int argc, char **argv, const char *shortopts, const struct option *table,
		       const struct cmd *cmd, const char *what, struct global *g,
		       struct fetch_opts *fo, cmd_opt_fn opt, void *ud, bool *done,
		       struct error *err)
{
	char *spec = xasprintf(":%s", shortopts); /* ':' tells a missing value from an unknown option */
	int c;

	opterr = 0;
	*done = false;
	while ((c = getopt_long(argc, argv, spec, table, NULL)) != -1) {
		if (c == '?' || c == ':') {
			error_set(err, WP_EUSAGE, "%s '%s'; see 'wasmpull %s --help'",
				  c == ':' ? "missing value for option" : "unknown option", argv[optind - 1],
				  what);
			break;
		}
		if (global_option(g, c, optarg) || (fo && fetch_option(fo, c, optarg, err)) ||
		    opt(c, optarg, ud, err)) {
			if (err->code)
				break;
			continue;
		}
		error_set(err, WP_EUSAGE, "unknown option '%s'", argv[optind - 1]);
		break;
	}
	free(spec);
	if (!err->code && g->cache_dir && !g->cache_dir[0])
		error_set(err, WP_EUSAGE, "--cache-dir needs a folder");
	if (err->code)
		return err->code;
	*done = global_done(g, cmd);
	return WP_OK;
}

const char *json_backend_version(void)
{
	static char buf[32];
	snprintf(buf, sizeof(buf), "cJSON %s", cJSON_Version());
	return buf;
}

char *global_cache_dir(const struct global *g)
{
	const char *e;

	if (g->cache_dir && *g->cache_dir)
		return xstrdup(g->cache_dir);
	if ((e = getenv("WASMPULL_CACHE_DIR")) && *e)
		return xstrdup(e);
	if ((e = getenv("XDG_CACHE_HOME")) && *e == '/')
		return xasprintf("%s/wasmpull", e);
	if ((e = getenv("HOME")) && *e == '/')
		return xasprintf("%s/.cache/wasmpull", e);
	return xstrdup("/var/cache/wasmpull");
}
