/* wasmpull inspect (in progress) */
#include "cmd.h"
static enum wp_err run(int argc, char **argv, struct global *g, struct error *err)
{
	(void)argc; (void)argv; (void)g;
	return error_set(err, WP_EFAIL, "inspect is not implemented yet");
}
const struct cmd cmd_inspect = { "inspect", run, "describe a reference, URL or file", "usage: wasmpull inspect [OPTIONS] SOURCE\n" };
