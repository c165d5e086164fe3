/* Messages on stderr: errors, warnings, notes and -vv traces. */
#include "log.h"

#include <stdio.h>

int log_level = 1;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "wasmpull: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void warnf(const char *fmt, ...)
{
	va_list ap;
	if (log_level < 1)
		return;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void notef(const char *fmt, ...)
{
	va_list ap;
	if (log_level < 2)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void tracef(const char *fmt, ...)
{
	va_list ap;
	if (log_level < 3)
		return;
	va_start(ap, fmt);
	vmsg("> ", fmt, ap);
	va_end(ap);
}
