/* Messages on stderr: errors, warnings, notes and -vv traces. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static struct {
	bool on;
	char label[64];
	double last;
} bar;

void progress_start(const char *label)
{
	bar.on = log_level >= 1 && isatty(STDERR_FILENO);
	snprintf(bar.label, sizeof(bar.label), "%s", label);
	bar.last = 0;
}

static void human(uint64_t n, char *buf, size_t len)
{
	if (n >= (1u << 20))
		snprintf(buf, len, "%.1f MiB", (double)n / (1 << 20));
	else
		snprintf(buf, len, "%.1f KiB", (double)n / 1024);
}

void progress_update(uint64_t now, uint64_t total)
{
	char a[32], b[32];
	double t = now_mono();

	if (!bar.on || (t - bar.last < 0.1 && now != total))
		return;
	bar.last = t;
	human(now, a, sizeof(a));
	if (total) {
		human(total, b, sizeof(b));
		fprintf(stderr, "\r%s  %s / %s  %3.0f%%\033[K", bar.label, a, b,
			100.0 * (double)now / (double)total);
	} else {
		fprintf(stderr, "\r%s  %s\033[K", bar.label, a);
	}
}

void progress_done(void)
{
	if (bar.on && bar.last > 0)
		fputs("\r\033[K", stderr);
	bar.on = false;
}
