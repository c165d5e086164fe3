/* Messages on stderr: errors, warnings, notes and -vv traces. */
#pragma once
#include <stdint.h>

#include "util.h"

/* 0 = quiet (errors only), 1 = normal, 2 = -v, 3 = -vv */
extern int log_level;

void errorf(const char *fmt, ...) PRINTF(1, 2);
void warnf(const char *fmt, ...) PRINTF(1, 2);
/* Shown at -v and above. */
void notef(const char *fmt, ...) PRINTF(1, 2);
/* Shown at -vv: one HTTP exchange per line. */
void tracef(const char *fmt, ...) PRINTF(1, 2);

/* A one-line progress display on stderr, only when it is a terminal and not -q. */
void progress_start(const char *label);
void progress_update(uint64_t now, uint64_t total);
/* Clears the line. */
void progress_done(void);
