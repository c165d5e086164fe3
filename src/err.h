/* Error kinds, their exit codes, and the buffer that carries details up. */
#pragma once
#include "util.h"

/* Each kind maps to one exit code of DESIGN "Exit codes". */
enum wp_err {
	WP_OK = 0,
	WP_EFAIL,     /* 1: local I/O, internal */
	WP_EUSAGE,    /* 2: bad argument, malformed reference */
	WP_ENOTFOUND, /* 3: 404, missing file, cache miss under never */
	WP_EAUTH,     /* 4: 401/403 after trying credentials */
	WP_EVERIFY,   /* 5: digest/size mismatch, not Wasm, bad artifact */
	WP_ENET,      /* 6: DNS, connect, TLS, timeout, retries exhausted */
};

/* The first error set wins; later ones are ignored so the root cause is kept. */
struct error {
	enum wp_err code;
	char msg[1024];
};

/* Borrowed: a short name for the kind. */
const char *wp_strerror(enum wp_err code);
int wp_exit_code(enum wp_err code);
void error_init(struct error *e);
/* Records code and message (unless one is already set); returns e->code. */
enum wp_err error_set(struct error *e, enum wp_err code, const char *fmt, ...) PRINTF(3, 4);
/* Puts "PREFIX: " in front of the message already recorded. */
void error_prefix(struct error *e, const char *fmt, ...) PRINTF(2, 3);
