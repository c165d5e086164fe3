/* Pure parsers for command-line values: durations, sizes, sha256 digests. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* "30s", "2m", "1h", "1h30m", "500ms", "1d", bare seconds "45"; > 0. */
bool parse_duration(const char *s, double *seconds);
/* "256MiB", "10M", "512k", "1G", "1GB", "123" (bytes); suffixes are binary. */
bool parse_size(const char *s, uint64_t *bytes);
/* 64 hex digits with an optional "sha256:" prefix; writes lowercase hex + NUL. */
bool parse_sha256(const char *s, char hex[65]);
/* Exactly 64 lowercase hex digits (the form digests take on the wire and on disk). */
bool is_sha256_hex(const char *s);
/* Formats bytes as "1.5 MiB" into buf. */
void format_size(uint64_t bytes, char *buf, int len);
