/* wasmpull cache (in progress) */
#include "cmd.h"
static enum wp_err run(int argc, char **argv, struct global *g, struct error *err)
{
	(void)argc; (void)argv; (void)g;
	return error_set(err, WP_EFAIL, "cache is not implemented yet");
}
const struct cmd cmd_cache = { "cache", run, "list, collect, remove and verify cached modules", "usage: wasmpull cache ls|gc|rm|verify\n" };
