/* SOURCE classification and URL redaction, from tables. */
#include <stdlib.h>

#include "check.h"
#include "source.h"

static const struct {
	const char *in;
	enum source_kind kind;
	const char *path; /* for files */
} sources[] = {
	{ "oci://ghcr.io/o/r:t", SOURCE_OCI, NULL },
	{ "ghcr.io/o/r:t", SOURCE_OCI, NULL },
	{ "nginx", SOURCE_OCI, NULL },
	{ "localhost:5000/a", SOURCE_OCI, NULL },
	{ "http://h/m.wasm", SOURCE_HTTP, NULL },
	{ "HTTPS://h/m.wasm", SOURCE_HTTP, NULL },
	{ "file:///tmp/m.wasm", SOURCE_FILE, "/tmp/m.wasm" },
	{ "file://localhost/tmp/m.wasm", SOURCE_FILE, "/tmp/m.wasm" },
	{ "FILE:///x", SOURCE_FILE, "/x" },
	{ "/abs/m.wasm", SOURCE_FILE, "/abs/m.wasm" },
	{ "./m.wasm", SOURCE_FILE, "./m.wasm" },
	{ "../m.wasm", SOURCE_FILE, "../m.wasm" },
	{ "m.wasm", SOURCE_OCI, NULL }, /* a bare name is a reference, as in docker */
	{ "ftp://h/m.wasm", SOURCE_OCI, NULL }, /* then rejected by the reference grammar */
};

static const struct {
	const char *in, *out;
} redactions[] = {
	{ "https://h/m.wasm", "https://h/m.wasm" },
	{ "https://user:pw@h/m.wasm", "https://<redacted>@h/m.wasm" },
	{ "https://h/m.wasm?X-Amz-Signature=abc&x=1", "https://h/m.wasm?<redacted>" },
	{ "https://u@h:8443/p?q", "https://<redacted>@h:8443/p?<redacted>" },
	{ "http://h/a@b", "http://h/a@b" }, /* an @ in the path is no userinfo */
	{ "http://h", "http://h" },
	{ "nginx@sha256:abc", "nginx@sha256:abc" }, /* a reference: untouched */
	{ "./a@b?c", "./a@b?c" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		CHECK(source_classify(sources[i].in) == sources[i].kind, "classify %s", sources[i].in);
		if (sources[i].path)
			CHECK_STR(source_file_path(sources[i].in), sources[i].path);
	}
	for (size_t i = 0; i < sizeof(redactions) / sizeof(redactions[0]); i++) {
		char *got = source_redact(redactions[i].in);
		CHECK_STR(got, redactions[i].out);
		free(got);
	}
	CHECK_DONE();
}
