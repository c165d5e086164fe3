/* wasmpull: global options, the command table, and the one place that prints
 * a failure and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd.h"
#include "digest.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "unbox.h"
#include "util.h"

static const struct cmd *const commands[] = {
	&cmd_pull,
	&cmd_inspect,
	&cmd_cache,
};

static void usage(FILE *f)
{
	fputs("usage: wasmpull [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("  help       show help for a command\n\n"
	      "Global options (before or after COMMAND):\n"
	      "  -C, --cache-dir DIR  cache root (env WASMPULL_CACHE_DIR)\n"
	      "  -v, --verbose        more on stderr; -vv traces HTTP requests\n"
	      "  -q, --quiet          errors only\n"
	      "  -h, --help           this help; 'wasmpull help COMMAND' for a command\n"
	      "  -V, --version        versions of wasmpull and its libraries\n", f);
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static const struct option main_options[] = {
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct global g = { 0 };
	struct error err;
	const struct cmd *cmd;
	int c;

	error_init(&err);
	/* temp names and retry jitter must differ between processes, PID 1 included */
	unsigned int seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	srandom(seed);
	/* '+': stop at the command name; the command parses the rest. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:" GLOBAL_SHORTOPTS, main_options, NULL)) != -1) {
		if (!global_option(&g, c, optarg)) {
			errorf("%s '%s'; see 'wasmpull --help'",
			       c == ':' ? "missing value for option" : "unknown option", argv[optind - 1]);
			return 2;
		}
	}
	if (g.cache_dir && !g.cache_dir[0]) {
		errorf("--cache-dir needs a folder");
		return 2;
	}
	if (g.version) {
		print_version();
		return 0;
	}
	if (optind >= argc) {
		usage(g.help ? stdout : stderr);
		return g.help ? 0 : 2;
	}
	if (strcmp(argv[optind], "help") == 0) {
		/* "help CMD [SUB]" is "CMD [SUB] --help": the command prints its own */
		optind++;
		if (optind >= argc || strcmp(argv[optind], "help") == 0) {
			usage(stdout);
			return 0;
		}
		g.help = true;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		errorf("unknown command '%s'; see 'wasmpull --help'", argv[optind]);
		return 2;
	}
	http_global_init();
	cleanup_install();
	global_apply(&g);
	argc -= optind;
	argv += optind;
	optind = 0; /* full reinitialisation of getopt for the command */
	enum wp_err rc = cmd->run(argc, argv, &g, &err);
	if (rc != WP_OK)
		errorf("%s", err.msg[0] ? err.msg : wp_strerror(rc));
	http_global_cleanup();
	return wp_exit_code(rc);
}
