/*
 * Streaming SHA-256 over OpenSSL's EVP interface. This is the only file that
 * includes OpenSSL, so swapping the crypto backend touches nothing else.
 */
#include "digest.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util.h"

struct sha256 {
	EVP_MD_CTX *ctx;
};

/* EVP only fails when it cannot allocate: treat it like xmalloc does. */
static void evp_check(int ok)
{
	if (ok != 1)
		abort();
}

struct sha256 *sha256_new(void)
{
	struct sha256 *h = xmalloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		abort();
	evp_check(EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL));
	return h;
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sha256_reset(struct sha256 *h)
{
	evp_check(EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL));
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (len)
		evp_check(EVP_DigestUpdate(h->ctx, data, len));
}

void sha256_final_hex(struct sha256 *h, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	evp_check(EVP_DigestFinal_ex(h->ctx, md, &n));
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
	sha256_reset(h);
}

void sha256_hex(const void *data, size_t len, char hex[65])
{
	struct sha256 *h = sha256_new();

	sha256_update(h, data, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
}

int sha256_fd(int fd, char hex[65], uint64_t *size)
{
	enum { BUFSIZE = 64 * 1024 };
	struct sha256 *h = NULL;
	unsigned char *buf = NULL;
	uint64_t off = 0;
	int ret = -1, saved = 0;
	ssize_t n;

	h = sha256_new();
	buf = xmalloc(BUFSIZE);
	/* pread: the caller's file position is neither needed nor moved */
	for (;;) {
		n = pread(fd, buf, BUFSIZE, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	sha256_final_hex(h, hex);
	if (size)
		*size = off;
	ret = 0;
out:
	free(buf);
	sha256_free(h);
	if (ret < 0)
		errno = saved;
	return ret;
}

const char *digest_backend_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
