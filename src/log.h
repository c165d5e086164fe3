/* Messages on stderr: errors, warnings, notes and -vv traces. */
#pragma once
#include "util.h"

/* 0 = quiet (errors only), 1 = normal, 2 = -v, 3 = -vv */
extern int log_level;

void errorf(const char *fmt, ...) PRINTF(1, 2);
void warnf(const char *fmt, ...) PRINTF(1, 2);
/* Shown at -v and above. */
void notef(const char *fmt, ...) PRINTF(1, 2);
/* Shown at -vv: one HTTP exchange per line. */
void tracef(const char *fmt, ...) PRINTF(1, 2);
