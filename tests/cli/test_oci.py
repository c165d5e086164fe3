"""wasmpull pull from OCI registries: the CNCF distribution registry
(docker-registry 2.8) on loopback in plain, TLS, htpasswd, token and
pull-through variants, with modules pushed byte-exact in every format.
One test per item of issue 3's "Tests must show".
Run: WASMPULL=build/wasmpull python3 tests/cli/test_oci.py -v
"""
import base64
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oci_rig as R  # noqa: E402
from harness import WasmpullCase, wasm_module  # noqa: E402

CERTS = None
REG = {}   # plain, tls, basic, token (anonymous pull allowed), tokauth, proxy
TOK = {}   # anon, auth
FX = {}    # name -> Fixture pushed to the plain registry as wasm/NAME:v1
BAD = {}   # name -> Fixture pushed to the plain registry as bad/NAME:v1

WRONG_PASSWORD = "wr0ng-Pa55-7f3e1c"   # must never show up in any output

# Formats whose pull must give back the fixture's module exactly.
FORMATS = ("cncf", "wasme", "wasm-to-oci", "compat", "compat-dot", "compat-lone",
           "docker-compat", "component")


def M(tag):
    """A distinct module per fixture, so a wrong pick is visible."""
    return wasm_module(b"wasmpull oci test: " + tag.encode())


def _fixtures():
    amd64, arm64 = R.platform("linux", "amd64"), R.platform("linux", "arm64")
    fx = {
        "cncf": R.cncf(M("cncf")),
        "wasme": R.wasme(M("wasme")),
        "wasm-to-oci": R.wasm_to_oci(M("wasm-to-oci")),
        "compat": R.compat(M("compat")),
        "compat-dot": R.compat(M("compat-dot"), "dot"),
        "compat-lone": R.compat(M("compat-lone"), "lone"),
        "docker-compat": R.docker_compat(M("docker-compat")),
        "component": R.component(R.component_bytes(b"wasmpull oci test")),
        # wasm/wasip1 is preferred although it comes last
        "index": R.index([(amd64, R.compat(M("index-amd64"))),
                          (arm64, R.compat(M("index-arm64"), arch="arm64")),
                          (R.platform("wasip1", "wasm"), R.cncf(M("index-wasip1")))]),
        # wasip1 before wasip2 whatever the order
        "index-wasi": R.index([(R.platform("wasip2", "wasm"),
                                R.cncf(M("index-wasip2"), os_="wasip2")),
                               (R.platform("wasip1", "wasm"), R.cncf(M("index-wasi-p1")))]),
        # no wasm entry: linux/amd64, as Istio picks
        "index-linux": R.index([(arm64, R.compat(M("linux-arm64"), arch="arm64")),
                                (amd64, R.compat(M("linux-amd64")))]),
        "index-sole": R.index([(arm64, R.compat(M("sole-arm64"), arch="arm64"))]),
        "index-ambiguous": R.index([(arm64, R.compat(M("amb-arm64"), arch="arm64")),
                                    (R.platform("linux", "s390x"),
                                     R.compat(M("amb-s390x"), arch="s390x"))]),
        "docker-list": R.index([(amd64, R.docker_compat(M("docker-list")))],
                               media_type=R.DOCKER_LIST),
        "untagged": R.cncf(M("untagged-latest")),
        "mirrored": R.cncf(M("mirrored")),
    }
    bad = {
        "two-layers": R.bad_two_layers(M("two-a"), M("two-b")),
        "unknown-mt": R.bad_unknown_media_type(M("unknown-mt")),
        "size-small": R.bad_size(M("size-small"), -1),
        "size-big": R.bad_size(M("size-big"), +7),
        "missing-blob": R.cncf(M("missing-blob")),
    }
    return fx, bad


def setUpModule():
    global CERTS
    CERTS = harness.shared_certs()
    try:
        TOK["anon"] = R.TokenServer(CERTS, anon_pull=True)
        TOK["auth"] = R.TokenServer(CERTS, anon_pull=False)
        REG["plain"] = R.Registry("plain", CERTS)
        REG["tls"] = R.Registry("tls", CERTS)
        REG["basic"] = R.Registry("htpasswd", CERTS)
        REG["token"] = R.Registry("token", CERTS, realm=TOK["anon"].realm)
        REG["tokauth"] = R.Registry("token", CERTS, realm=TOK["auth"].realm)
        REG["proxy"] = R.Registry("proxy", CERTS, proxy_remote=REG["plain"].url)
        fx, bad = _fixtures()
        FX.update(fx)
        BAD.update(bad)
        plain = REG["plain"]
        for name, f in FX.items():
            R.push_fixture(plain, "wasm/" + name, "latest" if name == "untagged" else "v1", f)
        for name, f in BAD.items():
            R.push_fixture(plain, "bad/" + name, "v1", f)
        R.delete_blob(plain, "bad/missing-blob", BAD["missing-blob"].module_digest)
        for key in ("tls", "basic", "token", "tokauth"):
            R.push_fixture(REG[key], "wasm/cncf", "v1", FX["cncf"])
        R.push_fixture(REG["tls"], "wasm/index", "v1", FX["index"])
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for r in list(REG.values()) + list(TOK.values()):
        try:
            r.cleanup()
        except Exception as e:
            sys.stderr.write(f"test_oci: stopping {r!r}: {e}\n")
    REG.clear()
    TOK.clear()


def read(path):
    with open(path, "rb") as f:
        return f.read()


class OciCase(WasmpullCase):

    def ref(self, reg, repo, tag="v1", scheme="oci://"):
        return f"{scheme}{reg.host}/{repo}:{tag}" if tag else f"{scheme}{reg.host}/{repo}"

    def fresh_cache(self):
        """A new empty cache for what follows (subtests must not share hits)."""
        self.cache = tempfile.mkdtemp(prefix="cache-", dir=self.tmp)

    def pull(self, *args, **kw):
        """wasmpull pull --plain-http ARGS (the plain-HTTP registries)."""
        return self.wp("pull", "--plain-http", *args, **kw)

    def pull_json(self, *args, **kw):
        return self.json_of(self.pull("--json", *args, **kw))

    def assertModule(self, path, module):
        self.assertTrue(os.path.isabs(path), path)
        self.assertEqual(read(path), module, f"{path} does not hold the expected module")

    def assertPrintedPath(self, proc, module):
        self.assertExit(proc, 0)
        lines = proc.stdout.splitlines()
        self.assertEqual(len(lines), 1, self._describe(proc))
        self.assertModule(lines[0], module)
        real_cache = os.path.realpath(self.cache)
        self.assertTrue(os.path.realpath(lines[0]).startswith(real_cache + os.sep),
                        f"{lines[0]} is not in the cache {self.cache}")

    def assertNoSecret(self, proc, *secrets):
        for s in secrets:
            self.assertNotIn(s, proc.stdout, "secret on stdout")
            self.assertNotIn(s, proc.stderr, "secret on stderr")

    def write_json(self, path, obj):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path


# --------------------------------------------------------------------------

class RigSelfTest(OciCase):
    """The rig itself: what was pushed is served byte-exact (no wasmpull)."""

    def test_registry_serves_pushed_bytes(self):
        for name in ("cncf", "index", "docker-compat", "docker-list"):
            with self.subTest(name):
                c = R.Client(REG["plain"], "wasm/" + name)
                st, h, body = c.get_manifest("v1")
                self.assertEqual(st, 200)
                self.assertEqual(body, FX[name].manifest)
                self.assertEqual(h["Docker-Content-Digest"], FX[name].digest)
        c = R.Client(REG["tokauth"], "wasm/cncf")
        st, _, body = c.get_blob(FX["cncf"].module_digest)
        self.assertEqual((st, body), (200, FX["cncf"].module))
        st, _, _ = R.Client(REG["plain"], "bad/missing-blob").get_blob(
            BAD["missing-blob"].module_digest)
        self.assertEqual(st, 404)

    def test_proxy_serves_upstream(self):
        st, _, body = R.Client(REG["proxy"], "wasm/cncf").get_manifest("v1")
        self.assertEqual((st, body), (200, FX["cncf"].manifest))


class Formats(OciCase):

    def test_each_format_pulls_the_exact_module(self):
        plain = REG["plain"]
        for name in FORMATS:
            fx = FX[name]
            with self.subTest(format=name):
                out = os.path.join(self.tmp, name + ".wasm")
                ref = self.ref(plain, "wasm/" + name)
                j = self.pull_json("-o", out, ref)
                self.assertEqual(j["source"], ref)
                self.assertEqual(j["reference"], f"{plain.host}/wasm/{name}:v1")
                self.assertEqual(j["manifest_digest"], fx.digest)
                self.assertEqual(j["format"], fx.fmt)
                self.assertEqual(j["digest"], fx.module_digest)
                self.assertEqual(j["size"], len(fx.module))
                self.assertIs(j["cached"], False)
                self.assertEqual(j["output"], out)
                self.assertModule(j["path"], fx.module)
                self.assertModule(out, fx.module)

    def test_path_on_stdout_and_bare_reference(self):
        plain = REG["plain"]
        p = self.pull(self.ref(plain, "wasm/cncf"))
        self.assertPrintedPath(p, FX["cncf"].module)
        p = self.pull(self.ref(plain, "wasm/wasme", scheme=""))   # bare REF
        self.assertPrintedPath(p, FX["wasme"].module)

    def test_output_to_stdout(self):
        p = self.wp("pull", "--plain-http", "-o", "-", self.ref(REG["plain"], "wasm/compat"),
                    text=False)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, FX["compat"].module)


class Indexes(OciCase):

    def test_default_prefers_wasip1(self):
        fx = FX["index"]
        j = self.pull_json(self.ref(REG["plain"], "wasm/index"))
        wasip1 = fx.children[2][1]
        self.assertEqual(j["digest"], wasip1.module_digest)
        self.assertEqual(j["format"], "cncf")
        self.assertModule(j["path"], wasip1.module)
        # the contract leaves open which of the two pull reports
        self.assertIn(j["manifest_digest"], (fx.digest, wasip1.digest))

    def test_default_wasip1_before_wasip2(self):
        j = self.pull_json(self.ref(REG["plain"], "wasm/index-wasi"))
        self.assertEqual(j["digest"], FX["index-wasi"].children[1][1].module_digest)

    def test_default_linux_amd64_then_sole_entry(self):
        j = self.pull_json(self.ref(REG["plain"], "wasm/index-linux"))
        self.assertEqual(j["digest"], FX["index-linux"].children[1][1].module_digest)
        self.assertEqual(j["format"], "compat")
        j = self.pull_json(self.ref(REG["plain"], "wasm/index-sole"))
        self.assertEqual(j["digest"], FX["index-sole"].children[0][1].module_digest)

    def test_docker_manifest_list(self):
        fx = FX["docker-list"]
        j = self.pull_json(self.ref(REG["plain"], "wasm/docker-list"))
        self.assertEqual(j["format"], "docker-compat")
        self.assertModule(j["path"], fx.module)

    def test_platform_flag(self):
        fx = FX["index"]
        for plat, i in (("linux/amd64", 0), ("linux/arm64", 1), ("wasip1/wasm", 2)):
            with self.subTest(platform=plat):
                child = fx.children[i][1]
                self.fresh_cache()
                j = self.pull_json("--platform", plat, self.ref(REG["plain"], "wasm/index"))
                self.assertEqual(j["digest"], child.module_digest)
                self.assertEqual(j["format"], child.fmt)
                self.assertModule(j["path"], child.module)

    def test_platform_is_part_of_a_cache_hit(self):
        ref = self.ref(REG["plain"], "wasm/index")
        self.pull_json(ref)
        j = self.pull_json("--platform", "linux/amd64", ref)
        self.assertEqual(j["digest"], FX["index"].children[0][1].module_digest)

    def test_platform_without_match_is_3(self):
        p = self.pull("--platform", "windows/amd64", self.ref(REG["plain"], "wasm/index"))
        self.assertFails(p, 3)
        self.assertIn("linux/arm64", p.stderr)   # lists the platforms there are
        self.assertNothingStored()

    def test_ambiguous_index_is_5(self):
        p = self.pull(self.ref(REG["plain"], "wasm/index-ambiguous"))
        self.assertFails(p, 5)
        self.assertIn("linux/s390x", p.stderr)
        self.assertNothingStored()

    def test_sha256_of_index_and_of_entry(self):
        fx = FX["index"]
        ref = self.ref(REG["plain"], "wasm/index")
        for d in (fx.digest, fx.children[2][1].digest):
            with self.subTest(digest=d):
                self.fresh_cache()
                j = self.pull_json("--sha256", d, ref)
                self.assertEqual(j["digest"], fx.module_digest)


class Digests(OciCase):

    def test_pull_by_digest(self):
        fx = FX["cncf"]
        plain = REG["plain"]
        j = self.pull_json(f"oci://{plain.host}/wasm/cncf@{fx.digest}")
        self.assertEqual(j["manifest_digest"], fx.digest)
        self.assertModule(j["path"], fx.module)
        self.assertEqual(j["reference"], f"{plain.host}/wasm/cncf@{fx.digest}")

    def test_tag_and_digest(self):
        fx = FX["wasme"]
        # the digest wins: the tag names another manifest
        j = self.pull_json(f"oci://{REG['plain'].host}/wasm/wasme:nonexistent@{fx.digest}")
        self.assertModule(j["path"], fx.module)

    def test_digest_not_in_registry_is_3(self):
        missing = R.sha256(b"no such manifest")
        p = self.pull(f"oci://{REG['plain'].host}/wasm/cncf@{missing}")
        self.assertFails(p, 3)
        self.assertNothingStored()

    def test_sha256_matches_manifest_or_module(self):
        fx = FX["compat"]
        ref = self.ref(REG["plain"], "wasm/compat")
        for what, d in (("manifest", fx.digest), ("module", fx.module_digest),
                         ("bare hex", fx.module_digest.split(":")[1])):
            with self.subTest(what):
                self.fresh_cache()
                j = self.pull_json("--sha256", d, ref)
                self.assertModule(j["path"], fx.module)

    def test_sha256_matching_nothing_is_5(self):
        p = self.pull("--sha256", R.sha256(b"something else"), "-o",
                      os.path.join(self.tmp, "out.wasm"), self.ref(REG["plain"], "wasm/cncf"))
        self.assertFails(p, 5)
        self.assertNothingStored()
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out.wasm")))

    def test_missing_tag_is_3(self):
        p = self.pull(self.ref(REG["plain"], "wasm/cncf", tag="no-such-tag"))
        self.assertFails(p, 3)

    def test_missing_repository_is_3(self):
        p = self.pull(self.ref(REG["plain"], "wasm/no-such-repo"))
        self.assertFails(p, 3)

    def test_missing_blob_is_3(self):
        p = self.pull(self.ref(REG["plain"], "bad/missing-blob"))
        self.assertFails(p, 3)
        self.assertNothingStored()


class BadArtifacts(OciCase):

    def test_two_module_layers_is_5(self):
        p = self.pull(self.ref(REG["plain"], "bad/two-layers"))
        self.assertFails(p, 5)
        self.assertNothingStored()

    def test_unknown_media_type_is_5(self):
        p = self.pull(self.ref(REG["plain"], "bad/unknown-mt"))
        self.assertFails(p, 5)
        self.assertIn("application/vnd.example.unknown.layer.v1", p.stderr)
        self.assertNothingStored()

    def test_wrong_descriptor_size_is_5_and_stores_nothing(self):
        for name in ("size-small", "size-big"):
            with self.subTest(name):
                out = os.path.join(self.tmp, name + ".wasm")
                p = self.pull("-o", out, self.ref(REG["plain"], "bad/" + name))
                self.assertFails(p, 5)
                self.assertNothingStored()
                self.assertFalse(os.path.exists(out), "-o target written after a failure")


class Tls(OciCase):

    def tls_ref(self):
        return self.ref(REG["tls"], "wasm/cncf")

    def test_without_ca_is_6(self):
        p = self.wp("pull", self.tls_ref())
        self.assertFails(p, 6)
        self.assertNothingStored()

    def test_ca_file(self):
        p = self.wp("pull", "--ca-file", CERTS["ca"], self.tls_ref())
        self.assertPrintedPath(p, FX["cncf"].module)
        p = self.wp("pull", "--json", "--ca-file", CERTS["ca"], self.ref(REG["tls"], "wasm/index"))
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["digest"], FX["index"].module_digest)

    def test_missing_ca_file_is_2(self):
        p = self.wp("pull", "--ca-file", os.path.join(self.tmp, "nope.pem"), self.tls_ref())
        self.assertFails(p, 2)

    def test_insecure_registry(self):
        for value in (REG["tls"].host, "*"):
            with self.subTest(value):
                self.fresh_cache()
                p = self.wp("pull", "--insecure-registry", value, self.tls_ref())
                self.assertPrintedPath(p, FX["cncf"].module)

    def test_insecure_env_with_tls(self):
        p = self.wp("pull", self.tls_ref(),
                    env={"WASMPULL_INSECURE_REGISTRIES": "example.com," + REG["tls"].host})
        self.assertPrintedPath(p, FX["cncf"].module)


class PlainHttp(OciCase):

    def plain_ref(self):
        return self.ref(REG["plain"], "wasm/cncf")

    def test_plain_registry_needs_an_opt_in(self):
        p = self.wp("pull", self.plain_ref())      # https to a plain-HTTP port
        self.assertFails(p, 6)

    def test_plain_http_flag(self):
        self.assertPrintedPath(self.wp("pull", "--plain-http", self.plain_ref()),
                               FX["cncf"].module)

    def test_insecure_registry_falls_back_to_plain_http(self):
        p = self.wp("pull", "--insecure-registry", REG["plain"].host, self.plain_ref())
        self.assertPrintedPath(p, FX["cncf"].module)

    def test_insecure_env_falls_back_to_plain_http(self):
        p = self.wp("pull", self.plain_ref(),
                    env={"WASMPULL_INSECURE_REGISTRIES": f"example.com,{REG['plain'].host}"})
        self.assertPrintedPath(p, FX["cncf"].module)


class BasicAuth(OciCase):

    def setUp(self):
        super().setUp()
        self.reg = REG["basic"]
        self.src = self.ref(self.reg, "wasm/cncf")
        self.module = FX["cncf"].module

    def authfile(self, entry, path=None):
        path = path or os.path.join(self.tmp, "auth.json")
        return self.write_json(path, {"auths": {self.reg.host: entry}})

    def test_no_credentials_is_4(self):
        p = self.pull(self.src)
        self.assertFails(p, 4)
        self.assertNothingStored()

    def test_authfile(self):
        for name, entry in (("auth", R.auth_entry()),
                            ("username/password", {"username": "rig", "password": "rigpass"})):
            with self.subTest(name):
                self.fresh_cache()
                f = self.authfile(entry)
                self.assertPrintedPath(self.pull("--authfile", f, self.src), self.module)

    def test_registry_auth_file_env(self):
        f = self.authfile(R.auth_entry())
        self.assertPrintedPath(self.pull(self.src, env={"REGISTRY_AUTH_FILE": f}), self.module)

    def test_missing_authfile_is_2(self):
        p = self.pull("--authfile", os.path.join(self.tmp, "none.json"), self.src)
        self.assertFails(p, 2)

    def test_password_stdin(self):
        p = self.pull("-u", "rig", "--password-stdin", self.src, input="rigpass\n")
        self.assertPrintedPath(p, self.module)

    def test_password_env(self):
        p = self.pull("-u", "rig", self.src, env={"WASMPULL_PASSWORD": "rigpass"})
        self.assertPrintedPath(p, self.module)

    def test_username_beats_authfile(self):
        f = self.authfile(R.auth_entry(password=WRONG_PASSWORD))
        p = self.pull("--authfile", f, "-u", "rig", "--password-stdin", self.src,
                      input="rigpass\n")
        self.assertPrintedPath(p, self.module)

    def test_home_docker_config(self):
        self.authfile(R.auth_entry(), os.path.join(self.env["HOME"], ".docker", "config.json"))
        self.assertPrintedPath(self.pull(self.src), self.module)

    def test_docker_config_env(self):
        d = os.path.join(self.tmp, "dockercfg")
        self.authfile(R.auth_entry(), os.path.join(d, "config.json"))
        self.assertPrintedPath(self.pull(self.src, env={"DOCKER_CONFIG": d}), self.module)

    def test_xdg_runtime_dir_auth_json(self):
        d = os.path.join(self.tmp, "xdg-run")
        self.authfile(R.auth_entry(), os.path.join(d, "containers", "auth.json"))
        self.assertPrintedPath(self.pull(self.src, env={"XDG_RUNTIME_DIR": d}), self.module)

    def _helper_env(self):
        bindir = os.path.join(self.tmp, "bin")
        R.write_cred_helper(bindir, log=os.path.join(self.tmp, "helper.log"))
        return {"PATH": bindir + os.pathsep + self.env["PATH"]}

    def helper_calls(self):
        try:
            with open(os.path.join(self.tmp, "helper.log")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def test_cred_helpers(self):
        cfg = os.path.join(self.env["HOME"], ".docker", "config.json")
        self.write_json(cfg, {"auths": {}, "credHelpers": {self.reg.host: "rigtest"}})
        p = self.pull(self.src, env=self._helper_env())
        self.assertPrintedPath(p, self.module)
        calls = self.helper_calls()
        self.assertTrue(calls and calls[0]["action"] == "get", calls)
        self.assertIn(self.reg.host, calls[0]["input"])

    def test_creds_store(self):
        cfg = os.path.join(self.env["HOME"], ".docker", "config.json")
        self.write_json(cfg, {"credsStore": "rigtest"})
        p = self.pull(self.src, env=self._helper_env())
        self.assertPrintedPath(p, self.module)
        self.assertTrue(any(c["action"] == "get" for c in self.helper_calls()))

    def test_wrong_password_is_4_and_not_echoed(self):
        secrets = (WRONG_PASSWORD,
                   base64.b64encode(f"rig:{WRONG_PASSWORD}".encode()).decode())
        p = self.pull("-u", "rig", "--password-stdin", self.src, input=WRONG_PASSWORD + "\n")
        self.assertFails(p, 4)
        self.assertNoSecret(p, *secrets)
        f = self.authfile(R.auth_entry(password=WRONG_PASSWORD))
        p = self.pull("-vv", "--authfile", f, self.src)
        self.assertExit(p, 4)
        self.assertNoSecret(p, *secrets)
        self.assertNothingStored()


class BearerAuth(OciCase):

    def test_anonymous_bearer(self):
        ts, reg = TOK["anon"], REG["token"]
        mark = ts.mark()
        p = self.pull(self.ref(reg, "wasm/cncf"))
        self.assertPrintedPath(p, FX["cncf"].module)
        toks = ts.requests(mark)
        self.assertTrue(toks, "no token was fetched")
        self.assertTrue(all(t["auth"] == "none" and t["status"] == 200 for t in toks), toks)
        self.assertIn("repository:wasm/cncf:pull", " ".join(sum((t["scope"] for t in toks), [])))
        self.assertTrue(all(t["service"] == R.SERVICE for t in toks), toks)

    def test_credentials_required(self):
        p = self.pull(self.ref(REG["tokauth"], "wasm/cncf"))
        self.assertFails(p, 4)
        self.assertNothingStored()

    def test_credentialed_bearer(self):
        ts, reg = TOK["auth"], REG["tokauth"]
        f = self.write_json(os.path.join(self.tmp, "auth.json"),
                            {"auths": {reg.host: R.auth_entry()}})
        mark = ts.mark()
        p = self.pull("--authfile", f, self.ref(reg, "wasm/cncf"))
        self.assertPrintedPath(p, FX["cncf"].module)
        ok = [t for t in ts.requests(mark) if t["status"] == 200]
        self.assertTrue(ok and all(t["user"] == "rig" for t in ok), ts.requests(mark))

    def test_credentialed_bearer_password_stdin(self):
        reg = REG["tokauth"]
        p = self.pull("-u", "rig", "--password-stdin", self.ref(reg, "wasm/cncf"),
                      input="rigpass\n")
        self.assertPrintedPath(p, FX["cncf"].module)

    def test_identity_token(self):
        ts, reg = TOK["auth"], REG["tokauth"]
        f = self.write_json(os.path.join(self.tmp, "auth.json"),
                            {"auths": {reg.host: {
                                # what `docker login` stores with an identity token
                                "auth": base64.b64encode(
                                    b"00000000-0000-0000-0000-000000000000:").decode(),
                                "identitytoken": R.REFRESH_TOKEN}}})
        mark = ts.mark()
        p = self.pull("--authfile", f, self.ref(reg, "wasm/cncf"))
        self.assertPrintedPath(p, FX["cncf"].module)
        self.assertTrue(any(t["auth"] == "refresh_token" and t["method"] == "POST"
                            and t["status"] == 200 for t in ts.requests(mark)),
                        ts.requests(mark))
        self.assertNoSecret(p, R.REFRESH_TOKEN)

    def test_wrong_password_is_4_and_not_echoed(self):
        secrets = (WRONG_PASSWORD,
                   base64.b64encode(f"rig:{WRONG_PASSWORD}".encode()).decode())
        src = self.ref(REG["tokauth"], "wasm/cncf")
        p = self.pull("-u", "rig", "--password-stdin", src, input=WRONG_PASSWORD + "\n")
        self.assertFails(p, 4)
        self.assertNoSecret(p, *secrets)
        p = self.pull("-vv", "-u", "rig", "--password-stdin", src, input=WRONG_PASSWORD + "\n")
        self.assertExit(p, 4)
        self.assertNoSecret(p, *secrets)
        self.assertNothingStored()


class RequestCounts(OciCase):
    """Counted from the registries' access logs."""

    def test_cold_pull_by_tag_is_two_requests(self):
        plain = REG["plain"]
        mark = plain.mark()
        p = self.pull(self.ref(plain, "wasm/cncf"))
        self.assertPrintedPath(p, FX["cncf"].module)
        reqs = plain.access_log(mark)
        sys.stderr.write(f"\n[record] cold pull by tag, anonymous plain registry: "
                         f"{len(reqs)} requests: "
                         f"{[(r.method, r.path, r.status) for r in reqs]}\n")
        self.assertEqual([(r.method, r.status) for r in reqs], [("GET", 200), ("GET", 200)],
                         reqs)
        self.assertIn("/manifests/v1", reqs[0].path)
        self.assertIn("/blobs/" + FX["cncf"].module_digest, reqs[1].path)

    def test_cold_pull_from_token_registry_record(self):
        reg, ts = REG["token"], TOK["anon"]
        mark, tmark = reg.mark(), ts.mark()
        p = self.pull(self.ref(reg, "wasm/cncf"))
        self.assertPrintedPath(p, FX["cncf"].module)
        reqs, toks = reg.access_log(mark), ts.requests(tmark)
        sys.stderr.write(f"\n[record] cold pull by tag, token registry: {len(reqs)} registry "
                         f"requests {[(r.method, r.path, r.status) for r in reqs]} + "
                         f"{len(toks)} token requests\n")
        self.assertEqual(len(R.blob_requests(reqs)), 1, reqs)
        self.assertLessEqual(len(toks), 1, toks)


class Policies(OciCase):

    def test_tagged_default_second_pull_makes_no_request(self):
        plain = REG["plain"]
        ref = self.ref(plain, "wasm/wasm-to-oci")
        first = self.pull_json(ref)
        mark = plain.mark()
        j = self.pull_json(ref)
        self.assertEqual(plain.access_log(mark), [])
        self.assertIs(j["cached"], True)
        self.assertEqual(j["path"], first["path"])
        self.assertModule(j["path"], FX["wasm-to-oci"].module)

    def test_always_with_unchanged_digest_downloads_no_blob(self):
        plain = REG["plain"]
        ref = self.ref(plain, "wasm/wasme")
        self.pull_json(ref)
        for how in (["--policy", "always"], ["--policy", "Always"]):
            with self.subTest(how=how):
                mark = plain.mark()
                j = self.pull_json(*how, ref)
                reqs = plain.access_log(mark)
                self.assertEqual(len(R.manifest_requests(reqs)), 1, reqs)
                self.assertEqual(R.blob_requests(reqs, method=None), [], reqs)
                self.assertEqual(len(reqs), 1, reqs)
                self.assertIs(j["cached"], True)
                self.assertModule(j["path"], FX["wasme"].module)
        mark = plain.mark()
        self.pull_json(ref, env={"WASMPULL_PULL_POLICY": "always"})
        self.assertEqual(len(R.manifest_requests(plain.access_log(mark))), 1)

    def test_untagged_reference_is_rechecked_by_default(self):
        plain = REG["plain"]
        for ref in (self.ref(plain, "wasm/untagged", tag=None),
                    self.ref(plain, "wasm/untagged", tag="latest")):
            with self.subTest(ref=ref):
                j = self.pull_json(ref)
                self.assertModule(j["path"], FX["untagged"].module)
                mark = plain.mark()
                j = self.pull_json(ref)
                reqs = plain.access_log(mark)
                self.assertEqual(len(R.manifest_requests(reqs)), 1, reqs)
                self.assertEqual(R.blob_requests(reqs, method=None), [], reqs)
                self.assertIs(j["cached"], True)

    def test_never_on_a_miss_is_3_without_network(self):
        plain = REG["plain"]
        mark = plain.mark()
        p = self.pull("--policy", "never", self.ref(plain, "wasm/cncf"))
        self.assertFails(p, 3)
        self.assertEqual(plain.access_log(mark), [])

    def test_never_on_a_hit(self):
        plain = REG["plain"]
        ref = self.ref(plain, "wasm/cncf", tag="v1")
        self.pull_json(ref)
        mark = plain.mark()
        j = self.pull_json("--policy", "never", ref)
        self.assertModule(j["path"], FX["cncf"].module)
        self.assertEqual(plain.access_log(mark), [])

    def test_cached_digest_is_a_hit_whatever_the_policy(self):
        plain, fx = REG["plain"], FX["compat"]
        by_digest = f"oci://{plain.host}/wasm/compat@{fx.digest}"
        self.pull_json(by_digest)
        mark = plain.mark()
        j = self.pull_json("--policy", "always", by_digest)
        self.assertModule(j["path"], fx.module)
        j = self.pull_json("--policy", "always", "--sha256", fx.module_digest,
                           self.ref(plain, "wasm/compat"))
        self.assertModule(j["path"], fx.module)
        self.assertEqual(plain.access_log(mark), [])


class Mirrors(OciCase):

    def test_pull_through_mirror_serves_the_pull(self):
        plain, mirror = REG["plain"], REG["proxy"]
        mmark = mirror.mark()
        j = self.pull_json("--mirror", f"{plain.host}={mirror.host}",
                           self.ref(plain, "wasm/mirrored"))
        self.assertModule(j["path"], FX["mirrored"].module)
        reqs = mirror.access_log(mmark)
        self.assertTrue([r for r in R.manifest_requests(reqs, "GET")
                         if r.path == "/v2/wasm/mirrored/manifests/v1" and r.status == 200],
                        reqs)
        self.assertTrue([r for r in R.blob_requests(reqs)
                         if r.path.endswith(FX["mirrored"].module_digest)], reqs)

    def test_dead_mirror_falls_back(self):
        plain = REG["plain"]
        dead = f"127.0.0.1:{harness.free_port()}"
        mark = plain.mark()
        t0 = time.monotonic()
        j = self.pull_json("--mirror", f"{plain.host}={dead}", self.ref(plain, "wasm/cncf"))
        took = time.monotonic() - t0
        self.assertModule(j["path"], FX["cncf"].module)
        self.assertTrue(R.manifest_requests(plain.access_log(mark), "GET"))
        self.assertLess(took, 10, "a dead mirror must be skipped at once, without retries")


if __name__ == "__main__":
    unittest.main()
