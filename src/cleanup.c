/* Temp files removed when the process is stopped by a signal. The handler only
 * calls unlink() on paths prepared beforehand; the list changes with the
 * signals blocked, so the handler never sees it half-updated. */
#include "cleanup.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define MAX_PATHS 8

static char *paths[MAX_PATHS];
static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_PATHS; i++)
		if (paths[i])
			unlink(paths[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cleanup_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void cleanup_add(const char *path)
{
	sigset_t old;

	block(&old);
	for (int i = 0; i < MAX_PATHS; i++)
		if (!paths[i]) {
			paths[i] = xstrdup(path);
			break;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void cleanup_remove(const char *path)
{
	sigset_t old;

	block(&old);
	for (int i = 0; i < MAX_PATHS; i++)
		if (paths[i] && !strcmp(paths[i], path)) {
			free(paths[i]);
			paths[i] = NULL;
			break;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
}
