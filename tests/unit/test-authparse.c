/* Table-driven tests for the registry auth parsers. */
#include <stdlib.h>

#include "authparse.h"
#include "check.h"
#include "util.h"

static const struct {
	const char *header;
	bool ok;
	enum auth_scheme scheme;
	const char *realm, *service, *scope;
} challenges[] = {
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\"",
	  true, AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io",
	  "repository:library/nginx:pull" },
	{ "Basic realm=\"x\", Bearer realm=\"y\",service=\"z\"", true, AUTH_BEARER, "y", "z", NULL },
	{ "Bearer realm=\"y\",service=\"z\", Basic realm=\"x\"", true, AUTH_BEARER, "y", "z", NULL },
	{ "BASIC realm=x", true, AUTH_BASIC, "x", NULL, NULL },
	{ "basic", true, AUTH_BASIC, NULL, NULL, NULL },
	{ "bearer REALM=\"https://r/t\",SERVICE=svc,Scope=\"a b\"", true, AUTH_BEARER,
	  "https://r/t", "svc", "a b" },
	{ "Bearer realm=\"https://gar/token\"", true, AUTH_BEARER, "https://gar/token", NULL, NULL },
	{ "Bearer realm=\"a, b\",scope=\"repository:x:pull,push\"", true, AUTH_BEARER, "a, b",
	  NULL, "repository:x:pull,push" },
	{ "Bearer realm=\"q\\\"uo\\\\te\"", true, AUTH_BEARER, "q\"uo\\te", NULL, NULL },
	{ "Bearer  realm = \"sp\" , service = s2", true, AUTH_BEARER, "sp", "s2", NULL },
	{ "Negotiate abc==, Basic realm=\"r\"", true, AUTH_BASIC, "r", NULL, NULL },
	{ "Bearer service=s, Basic realm=b", true, AUTH_BASIC, "b", NULL, NULL },
	{ "Bearer service=s", true, AUTH_BEARER, NULL, "s", NULL },
	{ "Bearer realm=\"https://gitlab.com/jwt/auth\",service=\"container_registry\",scope=\"repository:g/p:pull\",error=\"insufficient_scope\"",
	  true, AUTH_BEARER, "https://gitlab.com/jwt/auth", "container_registry",
	  "repository:g/p:pull" },
	{ "Bearer realm=a,realm=b", true, AUTH_BEARER, "a", NULL, NULL },
	{ "Bearer realm=\"unterminated", true, AUTH_BEARER, "unterminated", NULL, NULL },
	{ "Digest realm=\"x\", nonce=\"y\"", false, AUTH_NONE, NULL, NULL, NULL },
	{ "", false, AUTH_NONE, NULL, NULL, NULL },
	{ "realm=x", false, AUTH_NONE, NULL, NULL, NULL },
	{ ",,, ;", false, AUTH_NONE, NULL, NULL, NULL },
};

static void test_challenges(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(challenges); i++) {
		struct auth_challenge c;
		bool ok = auth_parse_challenge(challenges[i].header, &c);
		CHECK(ok == challenges[i].ok, "%s", challenges[i].header);
		CHECK(c.scheme == challenges[i].scheme, "%s: scheme %d", challenges[i].header,
		      (int)c.scheme);
		CHECK_STR(c.realm, challenges[i].realm);
		CHECK_STR(c.service, challenges[i].service);
		CHECK_STR(c.scope, challenges[i].scope);
		auth_challenge_release(&c);
	}
}

static const struct {
	const char *json;
	bool ok;
	const char *token;
	int64_t expires_in;
	const char *refresh;
} tokens[] = {
	/* ACR */
	{ "{\"access_token\":\"acr\"}", true, "acr", 60, NULL },
	/* GHCR, Quay, Harbor */
	{ "{\"token\":\"ghcr\"}", true, "ghcr", 60, NULL },
	/* Docker Hub */
	{ "{\"token\":\"t\",\"access_token\":\"a\",\"expires_in\":300,\"issued_at\":\"2024-05-01T10:20:30.123456789Z\"}",
	  true, "t", 300, NULL },
	{ "{\"token\":\"\",\"access_token\":\"a\"}", true, "a", 60, NULL },
	{ "{\"token\":\"t\",\"expires_in\":10}", true, "t", 60, NULL },
	{ "{\"token\":\"t\",\"expires_in\":-5}", true, "t", 60, NULL },
	{ "{\"token\":\"t\",\"expires_in\":\"300\"}", true, "t", 60, NULL },
	{ "{\"token\":\"t\",\"expires_in\":1e300}", true, "t", INT64_C(315360000), NULL },
	{ "{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expires_in\":3600}", true, "a", 3600,
	  "r" },
	{ "{\"expires_in\":300}", false, NULL, 0, NULL },
	{ "{\"token\":5}", false, NULL, 0, NULL },
	{ "[\"token\"]", false, NULL, 0, NULL },
	{ "not json", false, NULL, 0, NULL },
	{ "", false, NULL, 0, NULL },
};

static void test_tokens(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++) {
		struct auth_token t;
		bool ok = auth_parse_token(tokens[i].json, strlen(tokens[i].json), &t);
		CHECK(ok == tokens[i].ok, "%s", tokens[i].json);
		CHECK_STR(t.token, tokens[i].token);
		CHECK(t.expires_in == tokens[i].expires_in, "%s: expires_in %lld", tokens[i].json,
		      (long long)t.expires_in);
		CHECK_STR(t.refresh_token, tokens[i].refresh);
		auth_token_release(&t);
	}
}

#define HUB "https://index.docker.io/v1/"

static const struct {
	const char *json;
	const char *registry, *auth_key;
	int rc;
	const char *user, *pass, *identity, *helper;
} configs[] = {
	/* auth is base64 "user:pa:ss" */
	{ "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjpwYTpzcw==\"}}}", "ghcr.io", "ghcr.io", 1,
	  "user", "pa:ss", NULL, NULL },
	/* padding optional */
	{ "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjpwYTpzcw\"}}}", "ghcr.io", "ghcr.io", 1, "user",
	  "pa:ss", NULL, NULL },
	{ "{\"auths\":{\"https://ghcr.io\":{\"username\":\"u\",\"password\":\"p\"}}}", "ghcr.io",
	  "ghcr.io", 1, "u", "p", NULL, NULL },
	{ "{\"auths\":{\"http://localhost:5000\":{\"username\":\"u\",\"password\":\"p\"}}}",
	  "localhost:5000", "localhost:5000", 1, "u", "p", NULL, NULL },
	{ "{\"auths\":{\"quay.io/v1/\":{\"username\":\"u\",\"password\":\"p\"}}}", "quay.io",
	  "quay.io", 1, "u", "p", NULL, NULL },
	{ "{\"auths\":{\"https://quay.io/v2/\":{\"username\":\"u\",\"password\":\"p\"}}}", "quay.io",
	  "quay.io", 1, "u", "p", NULL, NULL },
	{ "{\"auths\":{\"quay.io:8443\":{\"username\":\"u\",\"password\":\"p\"}}}", "quay.io",
	  "quay.io", 0, NULL, NULL, NULL, NULL },
	{ "{\"auths\":{\"myregistry.azurecr.io\":{\"identitytoken\":\"idt\"}}}",
	  "myregistry.azurecr.io", "myregistry.azurecr.io", 1, NULL, NULL, "idt", NULL },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dTpw\",\"identitytoken\":\"idt\"}}}", "r.io", "r.io", 1,
	  "u", "p", "idt", NULL },
	/* Docker Hub under each of its names */
	{ "{\"auths\":{\"" HUB "\":{\"auth\":\"dTpw\"}}}", "docker.io", HUB, 1, "u", "p", NULL, NULL },
	{ "{\"auths\":{\"docker.io\":{\"auth\":\"dTpw\"}}}", "docker.io", HUB, 1, "u", "p", NULL,
	  NULL },
	{ "{\"auths\":{\"index.docker.io\":{\"auth\":\"dTpw\"}}}", "docker.io", HUB, 1, "u", "p",
	  NULL, NULL },
	{ "{\"auths\":{\"https://registry-1.docker.io/v2/\":{\"auth\":\"dTpw\"}}}", "docker.io",
	  HUB, 1, "u", "p", NULL, NULL },
	/* the exact key wins over a normalised one */
	{ "{\"auths\":{\"docker.io\":{\"auth\":\"eDp5\"},\"" HUB "\":{\"auth\":\"dTpw\"}}}",
	  "docker.io", HUB, 1, "u", "p", NULL, NULL },
	{ "{\"auths\":{\"" HUB "\":{\"auth\":\"dTpw\"}}}", "ghcr.io", "ghcr.io", 0, NULL, NULL, NULL,
	  NULL },
	/* robot accounts: "org+bot:s3cr3t" and "robot$p+bot:pw" */
	{ "{\"auths\":{\"quay.io\":{\"auth\":\"b3JnK2JvdDpzM2NyM3Q=\"}}}", "quay.io", "quay.io", 1,
	  "org+bot", "s3cr3t", NULL, NULL },
	{ "{\"auths\":{\"harbor.example.com\":{\"auth\":\"cm9ib3QkcCtib3Q6cHc=\"}}}",
	  "harbor.example.com", "harbor.example.com", 1, "robot$p+bot", "pw", NULL, NULL },
	/* helpers */
	{ "{\"credHelpers\":{\"123.dkr.ecr.us-east-1.amazonaws.com\":\"ecr-login\"},\"credsStore\":\"desktop\"}",
	  "123.dkr.ecr.us-east-1.amazonaws.com", "123.dkr.ecr.us-east-1.amazonaws.com", 1, NULL,
	  NULL, NULL, "ecr-login" },
	{ "{\"credHelpers\":{\"gcr.io\":\"gcloud\"},\"credsStore\":\"desktop\"}", "ghcr.io",
	  "ghcr.io", 1, NULL, NULL, NULL, "desktop" },
	{ "{\"auths\":{\"" HUB "\":{}},\"credsStore\":\"desktop\"}", "docker.io", HUB, 1, NULL, NULL,
	  NULL, "desktop" },
	{ "{\"auths\":{\"ghcr.io\":{\"auth\":\"dTpw\"}},\"credsStore\":\"desktop\"}", "ghcr.io",
	  "ghcr.io", 1, "u", "p", NULL, NULL },
	{ "{\"credHelpers\":{\"" HUB "\":\"hub\"}}", "docker.io", HUB, 1, NULL, NULL, NULL, "hub" },
	{ "{\"credsStore\":\"\"}", "ghcr.io", "ghcr.io", 0, NULL, NULL, NULL, NULL },
	{ "{}", "ghcr.io", "ghcr.io", 0, NULL, NULL, NULL, NULL },
	{ "{\"auths\":{}}", "ghcr.io", "ghcr.io", 0, NULL, NULL, NULL, NULL },
	/* broken */
	{ "{\"auths\":", "ghcr.io", "ghcr.io", -1, NULL, NULL, NULL, NULL },
	{ "[]", "ghcr.io", "ghcr.io", -1, NULL, NULL, NULL, NULL },
	{ "", "ghcr.io", "ghcr.io", -1, NULL, NULL, NULL, NULL },
	{ "{\"auths\":{\"ghcr.io\":{\"auth\":\"!!!notb64\"}}}", "ghcr.io", "ghcr.io", -1, NULL, NULL,
	  NULL, NULL },
	/* "nocolon" has no ':' separator */
	{ "{\"auths\":{\"ghcr.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "ghcr.io", "ghcr.io", -1, NULL,
	  NULL, NULL, NULL },
	{ "{\"auths\":{\"ghcr.io\":{\"auth\":\"dTpw=====\"}}}", "ghcr.io", "ghcr.io", -1, NULL, NULL,
	  NULL, NULL },
};

static void test_configs(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(configs); i++) {
		struct auth_cred c;
		int rc = auth_config_lookup(configs[i].json, strlen(configs[i].json),
					    configs[i].registry, configs[i].auth_key, &c);
		CHECK(rc == configs[i].rc, "%zu %s: rc %d", i, configs[i].json, rc);
		CHECK_STR(c.username, configs[i].user);
		CHECK_STR(c.password, configs[i].pass);
		CHECK_STR(c.identity_token, configs[i].identity);
		CHECK_STR(c.helper, configs[i].helper);
		auth_cred_release(&c);
	}
}

static const struct {
	const char *json;
	bool ok;
	const char *user, *pass, *identity;
} helpers[] = {
	{ "{\"ServerURL\":\"ghcr.io\",\"Username\":\"u\",\"Secret\":\"s\"}", true, "u", "s", NULL },
	{ "{\"ServerURL\":\"x.azurecr.io\",\"Username\":\"<token>\",\"Secret\":\"idt\"}", true, NULL,
	  NULL, "idt" },
	{ "{\"Username\":\"AWS\",\"Secret\":\"ecr:pw\"}", true, "AWS", "ecr:pw", NULL },
	{ "{\"Username\":\"u\"}", false, "old", "oldpw", NULL },
	{ "credentials not found in native keychain", false, "old", "oldpw", NULL },
};

static void test_helpers(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++) {
		struct auth_cred c = { 0 };
		c.username = xstrdup("old");
		c.password = xstrdup("oldpw");
		c.helper = xstrdup("desktop");
		bool ok = auth_parse_helper_reply(helpers[i].json, strlen(helpers[i].json), &c);
		CHECK(ok == helpers[i].ok, "%s", helpers[i].json);
		CHECK_STR(c.username, helpers[i].user);
		CHECK_STR(c.password, helpers[i].pass);
		CHECK_STR(c.identity_token, helpers[i].identity);
		CHECK_STR(c.helper, "desktop");
		auth_cred_release(&c);
	}
}

static const struct {
	const char *user, *pass, *b64;
} basics[] = {
	{ "u", "p", "dTpw" },
	{ "user", "pa:ss", "dXNlcjpwYTpzcw==" },
	{ "org+bot", "s3cr3t", "b3JnK2JvdDpzM2NyM3Q=" },
	{ "robot$p+bot", "pw", "cm9ib3QkcCtib3Q6cHc=" },
	{ "AWS", "", "QVdTOg==" },
	{ "ab", "c", "YWI6Yw==" },
};

static void test_basic(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(basics); i++) {
		char *s = auth_basic_encode(basics[i].user, basics[i].pass);
		CHECK_STR(s, basics[i].b64);
		free(s);
	}
}

static const struct {
	const char *in, *out;
} escapes[] = {
	{ "repository:wasm/spec:pull", "repository%3Awasm%2Fspec%3Apull" },
	{ "robot$p+bot", "robot%24p%2Bbot" },
	{ "a-b.c_d~e", "a-b.c_d~e" },
	{ "a b&c=d", "a%20b%26c%3Dd" },
	{ "\xc3\xa9", "%C3%A9" },
	{ "", "" },
};

static void test_escape(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(escapes); i++) {
		char *s = url_query_escape(escapes[i].in);
		CHECK_STR(s, escapes[i].out);
		free(s);
	}
}

int main(void)
{
	test_challenges();
	test_tokens();
	test_configs();
	test_helpers();
	test_basic();
	test_escape();
	CHECK_DONE();
}
