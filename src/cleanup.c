/* Temp files removed when the process is stopped by a signal. The handler only
 * calls unlink() on paths prepared beforehand; the list changes with the
 * signals blocked, so the handler never sees it half-updated. */
#include "cleanup.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define MAX_PATHS 8

static char *paths[MAX_PATHS];
static char *trees[MAX_PATHS]; /* folders, removed whole */
static volatile pid_t group;  /* a credential helper's process group, killed with us */
static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	if (group > 0)
		kill(-group, SIGKILL);
	for (int i = 0; i < MAX_PATHS; i++)
		if (paths[i])
			unlink(paths[i]);
	/* fork, execve and waitpid are async-signal-safe; a tree walk is not */
	for (int i = 0; i < MAX_PATHS; i++) {
		if (!trees[i])
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			char *const argv[] = { "rm", "-rf", "--", trees[i], NULL };
			execve("/bin/rm", argv, (char *[]){ NULL });
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
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

static void set(char **list, const char *path, bool add)
{
	sigset_t old;

	block(&old);
	for (int i = 0; i < MAX_PATHS; i++) {
		if (add && !list[i]) {
			list[i] = xstrdup(path);
			break;
		}
		if (!add && list[i] && !strcmp(list[i], path)) {
			free(list[i]);
			list[i] = NULL;
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void cleanup_add(const char *path)
{
	set(paths, path, true);
}

void cleanup_remove(const char *path)
{
	set(paths, path, false);
}

void cleanup_add_tree(const char *path)
{
	set(trees, path, true);
}

void cleanup_remove_tree(const char *path)
{
	set(trees, path, false);
}

void cleanup_set_group(pid_t pgid)
{
	group = pgid;
}
