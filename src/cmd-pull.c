/* wasmpull pull: fetch a module into the cache, verify it, print its path. */
#include "cmd.h"

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
	"      --timeout DURATION    deadline for the whole pull (default 5m; env WASMPULL_TIMEOUT)\n"
	"      --retries N           attempts for transient failures, in total (default 5)\n"
	"      --max-size SIZE       largest module accepted (default 256MiB)\n"
	"      --authfile FILE       credentials in docker config.json form (env REGISTRY_AUTH_FILE)\n"
	"  -u, --username USER       user name for this pull\n"
	"      --password-stdin      read the password from stdin (else WASMPULL_PASSWORD)\n"
	"      --ca-file FILE        extra trusted CA certificates (PEM)\n"
	"      --insecure-registry HOST[:PORT]  skip TLS verification, allow plain HTTP; * for all\n"
	"      --plain-http          talk plain HTTP to registries\n"
	"      --mirror REGISTRY=MIRROR  try MIRROR first (repeatable)\n"
	"  -H, --header 'Name: value'  extra request header for HTTP(S) sources (repeatable)\n";

enum {
	OPT_SHA256 = 0x100,
	OPT_POLICY,
	OPT_PLATFORM,
	OPT_JSON,
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

static const struct option pull_options[] = {
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "output", required_argument, NULL, 'o' },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "authfile", required_argument, NULL, OPT_AUTHFILE },
	{ "username", required_argument, NULL, 'u' },
	{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY },
	{ "plain-http", no_argument, NULL, OPT_PLAIN_HTTP },
	{ "mirror", required_argument, NULL, OPT_MIRROR },
	{ "header", required_argument, NULL, 'H' },
	GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};
