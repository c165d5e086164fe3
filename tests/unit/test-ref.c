/* Table-driven tests for ref_parse, ref_string and ref_object. */
#include <stdlib.h>

#include "check.h"
#include "ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
	const char *in;
	const char *registry, *host, *repository, *tag, *digest, *auth_key;
	bool tag_defaulted;
	const char *string, *object;
} good[] = {
	{ "nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", NULL,
	  "https://index.docker.io/v1/", true, "docker.io/library/nginx:latest", "latest" },
	{ "user/repo", "docker.io", "registry-1.docker.io", "user/repo", "latest", NULL,
	  "https://index.docker.io/v1/", true, "docker.io/user/repo:latest", "latest" },
	{ "user/repo:1.0", "docker.io", "registry-1.docker.io", "user/repo", "1.0", NULL,
	  "https://index.docker.io/v1/", false, "docker.io/user/repo:1.0", "1.0" },
	{ "docker.io/nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", NULL,
	  "https://index.docker.io/v1/", true, "docker.io/library/nginx:latest", "latest" },
	{ "index.docker.io/library/nginx:1", "docker.io", "registry-1.docker.io",
	  "library/nginx", "1", NULL, "https://index.docker.io/v1/", false,
	  "docker.io/library/nginx:1", "1" },
	{ "registry-1.docker.io/a/b", "docker.io", "registry-1.docker.io", "a/b", "latest", NULL,
	  "https://index.docker.io/v1/", true, "docker.io/a/b:latest", "latest" },
	{ "localhost:5000/a/b:v1", "localhost:5000", "localhost:5000", "a/b", "v1", NULL,
	  "localhost:5000", false, "localhost:5000/a/b:v1", "v1" },
	{ "localhost/a", "localhost", "localhost", "a", "latest", NULL, "localhost", true,
	  "localhost/a:latest", "latest" },
	{ "[::1]:5000/x@sha256:" D64, "[::1]:5000", "[::1]:5000", "x", NULL, "sha256:" D64,
	  "[::1]:5000", false, "[::1]:5000/x@sha256:" D64, "sha256:" D64 },
	{ "127.0.0.1:5000/wasm/spec:v1@sha256:" D64, "127.0.0.1:5000", "127.0.0.1:5000",
	  "wasm/spec", "v1", "sha256:" D64, "127.0.0.1:5000", false,
	  "127.0.0.1:5000/wasm/spec:v1@sha256:" D64, "sha256:" D64 },
	{ "oci://ghcr.io/o/r:t", "ghcr.io", "ghcr.io", "o/r", "t", NULL, "ghcr.io", false,
	  "ghcr.io/o/r:t", "t" },
	{ "ghcr.io/a.b/c_d/e__f/g---h:_T.a-g", "ghcr.io", "ghcr.io", "a.b/c_d/e__f/g---h",
	  "_T.a-g", NULL, "ghcr.io", false, "ghcr.io/a.b/c_d/e__f/g---h:_T.a-g", "_T.a-g" },
	{ "Example.COM:443/x/y", "Example.COM:443", "Example.COM:443", "x/y", "latest", NULL,
	  "Example.COM:443", true, "Example.COM:443/x/y:latest", "latest" },
	{ "localhost:5000", "docker.io", "registry-1.docker.io", "library/localhost", "5000",
	  NULL, "https://index.docker.io/v1/", false, "docker.io/library/localhost:5000",
	  "5000" },
};

static const struct {
	const char *in;
	const char *msg;
} bad[] = {
	{ "UPPER/x", "invalid reference \"UPPER/x\": repository name must be lowercase" },
	{ "ghcr.io/Org/x", "invalid reference \"ghcr.io/Org/x\": repository name must be lowercase" },
	{ "a/b:", "invalid reference \"a/b:\": invalid tag \"\"" },
	{ "a//b", "invalid reference \"a//b\": invalid repository name \"a//b\"" },
	{ ":tag", "invalid reference \":tag\": missing repository name" },
	{ "", "invalid reference \"\": empty reference" },
	{ "oci://", "invalid reference \"oci://\": empty reference" },
	{ "a/b@sha256:short", "invalid reference \"a/b@sha256:short\": invalid digest \"sha256:short\"" },
	{ "a/b@sha512:" D64, "invalid reference \"a/b@sha512:" D64 "\": unsupported digest algorithm \"sha512\"" },
	{ "a/b@" D64, "invalid reference \"a/b@" D64 "\": invalid digest \"" D64 "\"" },
	{ "a/b@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ "host:99999/x", "invalid reference \"host:99999/x\": invalid registry port \"host:99999\"" },
	{ "host:0/x", "invalid reference \"host:0/x\": invalid registry port \"host:0\"" },
	{ "host:/x", "invalid reference \"host:/x\": invalid registry port \"host:\"" },
	{ "host:ab/x", "invalid reference \"host:ab/x\": invalid registry port \"host:ab\"" },
	{ "a/b:bad tag", "invalid reference \"a/b:bad tag\": invalid tag \"bad tag\"" },
	{ "a/b:-x", "invalid reference \"a/b:-x\": invalid tag \"-x\"" },
	{ "a/b:" "0123456789012345678901234567890123456789012345678901234567890123"
	  "01234567890123456789012345678901234567890123456789012345678901234", NULL },
	{ "a/-b", "invalid reference \"a/-b\": invalid repository name \"a/-b\"" },
	{ "a/b_", NULL },
	{ "a/b___c", NULL },
	{ "a/", NULL },
	{ "/a", NULL },
	{ "-x.io/a", "invalid reference \"-x.io/a\": invalid registry host \"-x.io\"" },
	{ "x..io/a", NULL },
	{ "[zz]:5000/a", "invalid reference \"[zz]:5000/a\": invalid ipv6 address \"[zz]:5000\"" },
	{ "[::1/a", NULL },
	{ "ghcr.io/a b", NULL },
	{ "a@b@sha256:" D64, NULL },
};

static void test_good(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct ref r;
		struct error err;

		error_init(&err);
		enum wp_err rc = ref_parse(good[i].in, &r, &err);
		CHECK(rc == WP_OK, "%s: %s", good[i].in, err.msg);
		if (rc != WP_OK)
			continue;
		CHECK_STR(r.registry, good[i].registry);
		CHECK_STR(r.host, good[i].host);
		CHECK_STR(r.repository, good[i].repository);
		CHECK_STR(r.tag, good[i].tag);
		CHECK_STR(r.digest, good[i].digest);
		CHECK_STR(r.auth_key, good[i].auth_key);
		CHECK(r.tag_defaulted == good[i].tag_defaulted, "%s: tag_defaulted", good[i].in);
		char *s = ref_string(&r);
		CHECK_STR(s, good[i].string);
		free(s);
		CHECK_STR(ref_object(&r), good[i].object);
		ref_release(&r);
		CHECK(r.registry == NULL, "%s: release", good[i].in);
	}
}

static void test_bad(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ref r;
		struct error err;

		error_init(&err);
		enum wp_err rc = ref_parse(bad[i].in, &r, &err);
		CHECK(rc == WP_EUSAGE, "%s: rc %d", bad[i].in, (int)rc);
		CHECK(err.code == WP_EUSAGE, "%s: err.code", bad[i].in);
		if (bad[i].msg)
			CHECK_STR(err.msg, bad[i].msg);
		else
			CHECK(str_starts_with(err.msg, "invalid reference \""), "%s: %s", bad[i].in,
			      err.msg);
		CHECK(r.registry == NULL && r.tag == NULL && r.digest == NULL, "%s: cleared",
		      bad[i].in);
		ref_release(&r);
	}
}

static void test_length(void)
{
	char name[300];
	struct ref r;
	struct error err;

	/* 255 characters is the limit for the name, registry included. */
	memset(name, 'a', sizeof(name));
	memcpy(name, "ghcr.io/", 8);
	name[255] = '\0';
	error_init(&err);
	CHECK(ref_parse(name, &r, &err) == WP_OK, "255: %s", err.msg);
	ref_release(&r);
	name[255] = 'a';
	name[256] = '\0';
	error_init(&err);
	CHECK(ref_parse(name, &r, &err) == WP_EUSAGE, "256 accepted");
	CHECK(strstr(err.msg, "longer than 255") != NULL, "%s", err.msg);
	ref_release(&r);
}

int main(void)
{
	test_good();
	test_bad();
	test_length();
	CHECK_DONE();
}
