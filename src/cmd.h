/* The command table: each src/cmd-*.c exports one struct cmd. */
#pragma once
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

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

/* Options of every command that fetches (pull, inspect), parsed by fetch_option. */
struct fetch_opts {
	const char *platform;
	double timeout;        /* seconds */
	int retries;           /* attempts in total */
	uint64_t max_size;
	const char *authfile;
	const char *username;
	bool password_stdin;
	char *password;        /* read by fetch_opts_finish */
	const char *ca_file;
	char **insecure;       /* NULL-terminated HOST[:PORT] list, "*" for all */
	size_t n_insecure;
	bool plain_http;
	char **mirrors;        /* "REGISTRY=MIRROR" */
	size_t n_mirrors;
	char **headers;        /* "Name: value" */
	size_t n_headers;
};

enum {
	OPT_PLATFORM = 0x200,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_MAX_SIZE,
	OPT_AUTHFILE,
	OPT_PASSWORD_STDIN,
	OPT_CA_FILE,
	OPT_INSECURE_REGISTRY,
	OPT_PLAIN_HTTP,
	OPT_MIRROR,
};

#define FETCH_SHORTOPTS "u:H:"
#define FETCH_LONGOPTS                                                          \
	{ "platform", required_argument, NULL, OPT_PLATFORM },                  \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },                    \
	{ "retries", required_argument, NULL, OPT_RETRIES },                    \
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },                  \
	{ "authfile", required_argument, NULL, OPT_AUTHFILE },                  \
	{ "username", required_argument, NULL, 'u' },                           \
	{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },            \
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },                    \
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY }, \
	{ "plain-http", no_argument, NULL, OPT_PLAIN_HTTP },                    \
	{ "mirror", required_argument, NULL, OPT_MIRROR },                      \
	{ "header", required_argument, NULL, 'H' }

/* The --help lines of FETCH_LONGOPTS but --platform, for pull and inspect alike. */
#define FETCH_USAGE                                                                                  \
	"      --timeout DURATION    deadline for the whole command (default 5m; env WASMPULL_TIMEOUT)\n" \
	"      --retries N           attempts for transient failures, in total (default 5)\n"            \
	"      --max-size SIZE       largest module accepted (default 256MiB)\n"                         \
	"      --authfile FILE       credentials in docker config.json form (env REGISTRY_AUTH_FILE)\n"  \
	"  -u, --username USER       user name for the registry\n"                                      \
	"      --password-stdin      read the password from stdin (else WASMPULL_PASSWORD)\n"            \
	"      --ca-file FILE        extra trusted CA certificates (PEM)\n"                              \
	"      --insecure-registry HOST[:PORT]  skip TLS verification, allow plain HTTP; * for all\n"    \
	"      --plain-http          talk plain HTTP to registries\n"                                    \
	"      --mirror REGISTRY=MIRROR  try MIRROR first (repeatable)\n"                                \
	"  -H, --header 'Name: value'  extra request header for HTTP(S) sources (repeatable)\n"

#define DEFAULT_TIMEOUT 300.0
#define DEFAULT_RETRIES 5
#define DEFAULT_MAX_SIZE (256ull << 20)

void fetch_opts_init(struct fetch_opts *o);
void fetch_opts_release(struct fetch_opts *o);
/* Handles a fetch option; false if c is not one. A bad value sets err (WP_EUSAGE). */
bool fetch_option(struct fetch_opts *o, int c, const char *arg, struct error *err);
/* Applies environment defaults, checks files, reads the password. */
enum wp_err fetch_opts_finish(struct fetch_opts *o, struct error *err);

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

/* Prints the versions of wasmpull and its libraries to stdout. */
void print_version(void);
/* Prints a command's usage to stdout. */
void cmd_print_help(const struct cmd *c);
/* Sets up log_level from g; applies WASMPULL_* defaults. */
void global_apply(const struct global *g);
/* After a command's getopt loop: true when --help or --version was given (and printed). */
bool global_done(const struct global *g, const struct cmd *c);
/* A command's own options: false when c is not one (or, with err set, a bad value). */
typedef bool (*cmd_opt_fn)(int c, const char *arg, void *ud, struct error *err);

/*
 * The getopt loop every command shares; options may follow arguments. The
 * command's own options go to opt, fetch options to fo (NULL: none), global
 * ones to g. *done says --help or --version was answered. what names the
 * command in messages ("pull", "cache gc"). Afterwards optind indexes the
 * first argument.
 */
enum wp_err cmd_getopt(int argc, char **argv, const char *shortopts, const struct option *table,
		       const struct cmd *c, const char *what, struct global *g,
		       struct fetch_opts *fo, cmd_opt_fn opt, void *ud, bool *done,
		       struct error *err);
/* Borrowed: "cJSON 1.7.15". */
const char *json_backend_version(void);
/* Returns the cache root for g, the caller frees. */
char *global_cache_dir(const struct global *g);
