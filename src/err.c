/* Error kinds, their exit codes, and the buffer that carries details up. */
#include "err.h"

#include <stdio.h>
#include <string.h>

const char *wp_strerror(enum wp_err code)
{
	switch (code) {
	case WP_OK:
		return "success";
	case WP_EFAIL:
		return "failure";
	case WP_EUSAGE:
		return "usage error";
	case WP_ENOTFOUND:
		return "not found";
	case WP_EAUTH:
		return "authentication failed";
	case WP_EVERIFY:
		return "verification failed";
	case WP_ENET:
		return "network error";
	}
	return "unknown error";
}

int wp_exit_code(enum wp_err code)
{
	switch (code) {
	case WP_OK:
		return 0;
	case WP_EFAIL:
		return 1;
	case WP_EUSAGE:
		return 2;
	case WP_ENOTFOUND:
		return 3;
	case WP_EAUTH:
		return 4;
	case WP_EVERIFY:
		return 5;
	case WP_ENET:
		return 6;
	}
	return 1;
}

void error_init(struct error *e)
{
	e->code = WP_OK;
	e->msg[0] = '\0';
}

enum wp_err error_set(struct error *e, enum wp_err code, const char *fmt, ...)
{
	va_list ap;

	if (e->code != WP_OK)
		return e->code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void error_prefix(struct error *e, const char *fmt, ...)
{
	char pre[512], old[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	size_t n = strlen(pre);
	if (n + 2 >= sizeof(e->msg))
		return;
	memcpy(e->msg, pre, n);
	memcpy(e->msg + n, ": ", 2);
	memcpy(e->msg + n + 2, old, sizeof(e->msg) - n - 2);
	e->msg[sizeof(e->msg) - 1] = '\0';
}
