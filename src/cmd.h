/* The command table: each src/cmd-*.c exports one struct cmd. */
#pragma once
#include <getopt.h>
#include <stdbool.h>

#include "err.h"

/* Options that every command accepts too, before or after its name. */
struct global {
	const char *cache_dir; /* NULL: environment, then XDG default */
	int verbose;
	bool quiet;
	bool help;
	bool version;
};

/* Long options of struct global, for every command's getopt table. */
#define GLOBAL_SHORTOPTS "C:vqhV"
#define GLOBAL_LONGOPTS                                          \
	{ "cache-dir", required_argument, NULL, 'C' },           \
	{ "verbose", no_argument, NULL, 'v' },                   \
	{ "quiet", no_argument, NULL, 'q' },                     \
	{ "help", no_argument, NULL, 'h' },                      \
	{ "version", no_argument, NULL, 'V' }

/* Handles a global option seen by a command's getopt loop; false if c is not one. */
bool global_option(struct global *g, int c, const char *arg);

struct cmd {
	const char *name;
	/* argv[0] is the command name; returns the error kind, details in err. */
	enum wp_err (*run)(int argc, char **argv, struct global *g, struct error *err);
	const char *summary;
	const char *usage; /* full --help text */
};

extern const struct cmd cmd_pull;
extern const struct cmd cmd_inspect;
extern const struct cmd cmd_cache;

/* Prints a command's usage to stdout. */
void cmd_print_help(const struct cmd *c);
/* Sets up log_level from g; applies WASMPULL_* defaults. */
void global_apply(const struct global *g);
/* After a command's getopt loop: true when --help or --version was given (and printed). */
bool global_done(const struct global *g, const struct cmd *c);
/* Borrowed: "cJSON 1.7.15". */
const char *json_backend_version(void);
/* Returns the cache root for g, the caller frees. */
char *global_cache_dir(const struct global *g);
