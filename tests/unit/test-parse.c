/* Table-driven tests of the command-line value parsers and the digest module. */
#include "parse.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "digest.h"
#include "util.h"

/* CHECK_STR on a char array: through a pointer, so -Waddress stays quiet. */
#define CHECK_BUF(buf, want)                  \
	do {                                  \
		const char *got_ = (buf);     \
		const char *want_ = (want);   \
		CHECK_STR(got_, want_);       \
	} while (0)

static const struct {
	const char *in;
	bool ok;
	double seconds;
} durations[] = {
	{ "30s", true, 30 },
	{ "2m", true, 120 },
	{ "1h", true, 3600 },
	{ "1h30m", true, 5400 },
	{ "1h30m15s", true, 5415 },
	{ "500ms", true, 0.5 },
	{ "1m500ms", true, 60.5 },
	{ "1d", true, 86400 },
	{ "45", true, 45 },
	{ "1.5h", true, 5400 },
	{ "0.25", true, 0.25 },
	{ "", false, 0 },
	{ "0", false, 0 },
	{ "0s", false, 0 },
	{ "0ms", false, 0 },
	{ "-5s", false, 0 },
	{ "+5s", false, 0 },
	{ "s", false, 0 },
	{ "5x", false, 0 },
	{ "5 s", false, 0 },
	{ " 5s", false, 0 },
	{ "5s ", false, 0 },
	{ "1h30", false, 0 },
	{ "1.", false, 0 },
	{ ".5s", false, 0 },
	{ "1..5s", false, 0 },
	{ "5S", false, 0 },
	{ "abc", false, 0 },
	{ "99999999999999999999999s", false, 0 },
	{ "9999999999d", false, 0 },
	{ "300000y", false, 0 },
};

static const struct {
	const char *in;
	bool ok;
	uint64_t bytes;
} sizes[] = {
	{ "123", true, 123 },
	{ "0", true, 0 },
	{ "123B", true, 123 },
	{ "512k", true, 512 * 1024 },
	{ "512K", true, 512 * 1024 },
	{ "1KiB", true, 1024 },
	{ "1KB", true, 1024 },
	{ "10M", true, 10ull << 20 },
	{ "256MiB", true, 256ull << 20 },
	{ "3MB", true, 3ull << 20 },
	{ "1G", true, 1ull << 30 },
	{ "1GiB", true, 1ull << 30 },
	{ "1GB", true, 1ull << 30 },
	{ "2T", true, 2ull << 40 },
	{ "16777215T", true, 16777215ull << 40 },
	{ "18446744073709551615", true, UINT64_MAX },
	{ "", false, 0 },
	{ "M", false, 0 },
	{ "-1", false, 0 },
	{ "1.5M", false, 0 },
	{ "10X", false, 0 },
	{ "10Ki", false, 0 },
	{ "10MiBs", false, 0 },
	{ "10 M", false, 0 },
	{ " 10", false, 0 },
	{ "16777216T", false, 0 },
	{ "18446744073709551616", false, 0 },
	{ "99999999999999999999999", false, 0 },
	{ "0x10", false, 0 },
};

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEXU "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

static const struct {
	const char *in;
	const char *hex; /* NULL: rejected */
} digests[] = {
	{ HEX, HEX },
	{ "sha256:" HEX, HEX },
	{ HEXU, HEX },
	{ "sha256:" HEXU, HEX },
	{ "SHA256:" HEX, HEX },
	{ "", NULL },
	{ "sha256:", NULL },
	{ HEX "0", NULL },
	{ "sha256:" HEX "a", NULL },
	{ "0123456789abcdef", NULL },
	{ "sha512:" HEX, NULL },
	{ "sha256:" HEX " ", NULL },
	{ " " HEX, NULL },
	{ "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ "sha256:sha256:" HEX, NULL },
};

static const struct {
	uint64_t bytes;
	const char *want;
} formats[] = {
	{ 0, "0 B" },
	{ 1023, "1023 B" },
	{ 1024, "1 KiB" },
	{ 1536, "1.5 KiB" },
	{ 256ull << 20, "256 MiB" },
	{ (3ull << 29), "1.5 GiB" },
	{ 1ull << 40, "1 TiB" },
	{ UINT64_MAX, "16.0 EiB" },
};

/* SHA-256 test vectors (FIPS 180-2). */
static const struct {
	const char *in;
	const char *hex;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void test_durations(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(durations); i++) {
		double got = -1;
		bool ok = parse_duration(durations[i].in, &got);

		CHECK(ok == durations[i].ok, "parse_duration(\"%s\") = %d", durations[i].in, ok);
		if (ok && durations[i].ok)
			CHECK(fabs(got - durations[i].seconds) < 1e-9,
			      "parse_duration(\"%s\") = %g, want %g", durations[i].in, got,
			      durations[i].seconds);
	}
}

static void test_sizes(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t got = 7;
		bool ok = parse_size(sizes[i].in, &got);

		CHECK(ok == sizes[i].ok, "parse_size(\"%s\") = %d", sizes[i].in, ok);
		if (ok && sizes[i].ok)
			CHECK(got == sizes[i].bytes, "parse_size(\"%s\") = %llu", sizes[i].in,
			      (unsigned long long)got);
		if (!sizes[i].ok)
			CHECK(got == 7, "parse_size(\"%s\") wrote on failure", sizes[i].in);
	}
}

static void test_digests(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(digests); i++) {
		char hex[65] = "untouched";
		bool ok = parse_sha256(digests[i].in, hex);

		CHECK(ok == (digests[i].hex != NULL), "parse_sha256(\"%s\") = %d", digests[i].in, ok);
		if (digests[i].hex)
			CHECK_BUF(hex, digests[i].hex);
		else
			CHECK_BUF(hex, "untouched");
	}
}

static void test_format_size(void)
{
	char buf[32], tiny[4];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(formats); i++) {
		format_size(formats[i].bytes, buf, sizeof(buf));
		CHECK_BUF(buf, formats[i].want);
	}
	format_size(1ull << 30, tiny, sizeof(tiny));
	CHECK_BUF(tiny, "1 G");
}

static void test_sha256(void)
{
	char hex[65], tmpl[] = "/tmp/test-parse-XXXXXX";
	struct sha256 *h = sha256_new();
	unsigned char *big = NULL;
	uint64_t size = 0;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		sha256_hex(vectors[i].in, strlen(vectors[i].in), hex);
		CHECK_BUF(hex, vectors[i].hex);
	}
	/* streaming in pieces, and reuse after final */
	sha256_update(h, "a", 1);
	sha256_update(h, "bc", 2);
	sha256_final_hex(h, hex);
	CHECK_BUF(hex, vectors[1].hex);
	sha256_update(h, "junk", 4);
	sha256_reset(h);
	sha256_final_hex(h, hex);
	CHECK_BUF(hex, vectors[0].hex);

	/* a file larger than the read buffer, with the position left at the end */
	fd = mkstemp(tmpl);
	CHECK(fd >= 0, "mkstemp");
	unlink(tmpl);
	big = malloc(200000);
	for (i = 0; i < 200000; i++)
		big[i] = (unsigned char)(i * 7);
	CHECK(write(fd, big, 200000) == 200000, "write");
	sha256_hex(big, 200000, hex);
	{
		char got[65] = "";
		CHECK(sha256_fd(fd, got, &size) == 0, "sha256_fd");
		CHECK_BUF(got, hex);
		CHECK(size == 200000, "size %llu", (unsigned long long)size);
	}
	close(fd);
	CHECK(sha256_fd(fd, hex, &size) == -1, "sha256_fd on a closed fd");
	CHECK(strlen(digest_backend_version()) > 0, "backend version");
	free(big);
	sha256_free(h);
	sha256_free(NULL);
}

int main(void)
{
	test_durations();
	test_sizes();
	test_digests();
	test_format_size();
	test_sha256();
	CHECK_DONE();
}
