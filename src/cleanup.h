/* Temp files removed when the process is stopped by SIGINT, SIGTERM or SIGHUP
 * (a pod deleted mid-pull): neither the cache nor the -o folder keeps debris. */
#pragma once
#include <sys/types.h>

/* Installs the signal handlers; once, from main. */
void cleanup_install(void);
/* Adds a path to remove on such a signal (copied). */
void cleanup_add(const char *path);
/* Forgets a path: published, or removed already. */
void cleanup_remove(const char *path);
/* A folder of our own to remove whole on such a signal (inspect's scratch cache). */
void cleanup_add_tree(const char *path);
void cleanup_remove_tree(const char *path);
/* A child process group of ours (a credential helper) to kill on such a
 * signal, since it no longer gets the terminal's; 0 when there is none. */
void cleanup_set_group(pid_t pgid);
