/* Streaming SHA-256 (the only module that includes OpenSSL). */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct sha256;

struct sha256 *sha256_new(void);
void sha256_free(struct sha256 *h);
/* Starts over from zero bytes. */
void sha256_reset(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes 64 lowercase hex digits + NUL; h can be reset and reused after. */
void sha256_final_hex(struct sha256 *h, char hex[65]);
/* Hashes a whole buffer. */
void sha256_hex(const void *data, size_t len, char hex[65]);
/* Hashes an open file from offset 0 to EOF; returns 0, or -1 with errno. */
int sha256_fd(int fd, char hex[65], uint64_t *size);
/* Borrowed: "OpenSSL 3.0.x ..." */
const char *digest_backend_version(void);
