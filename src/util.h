/* Allocation that aborts on failure, and a growable string buffer. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
/* Returns a copy the caller frees; NULL stays NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a formatted string the caller frees. */
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

/* A NUL-terminated byte buffer that grows. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
/* Hands the buffer to the caller, who frees it; sb is reset. */
char *strbuf_detach(struct strbuf *sb);

/* Returns a whole file (at most max bytes, else NULL with EFBIG) the caller
 * frees, NUL-terminated, its length in *len; NULL with errno on failure. */
char *read_file_max(const char *path, size_t max, size_t *len);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
/* Case-insensitive prefix match. */
bool str_istarts_with(const char *s, const char *prefix);

/* Monotonic clock in seconds. */
double now_mono(void);
/* Wall clock in seconds since the epoch. */
int64_t now_wall(void);
