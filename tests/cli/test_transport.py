"""Transport behaviours of DESIGN "Protocol facts" that only a scripted server
produces on demand: resumed downloads, a Range answered with the whole body,
redirect loops, https->http redirects, bombs, and rate-limit messages.
Run: WASMPULL=build/wasmpull python3 tests/cli/test_transport.py -v
"""
import gzip
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import WasmpullCase, ok, redirect, reply, sha256_hex, wasm_module  # noqa: E402
from fault_server import ranged, truncate  # noqa: E402

BIG = wasm_module(bytes(range(256)) * 512)  # ~128 KiB


class Transport(WasmpullCase):

    def test_interrupted_download_resumes_with_range(self):
        cut = len(BIG) // 3
        fs = self.start_fault({"/m.wasm": [truncate(BIG, cut, {"Accept-Ranges": "bytes"}),
                                           ranged(BIG)]})
        p = self.wp("pull", "--json", fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertIn("sha256:" + sha256_hex(BIG), p.stdout)
        reqs = fs.requests_for("/m.wasm")
        self.assertEqual(len(reqs), 2, reqs)
        self.assertEqual(reqs[1].headers.get("Range"), f"bytes={cut}-")

    def test_range_answered_with_whole_body_restarts_digest(self):
        fs = self.start_fault({"/m.wasm": [truncate(BIG, 1000, {"Accept-Ranges": "bytes"}),
                                           ok(BIG)]})
        p = self.wp("pull", "--json", "--sha256", sha256_hex(BIG), fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertEqual(fs.count("/m.wasm"), 2)
        path = p.stdout.split('"path":"')[1].split('"')[0]
        with open(path, "rb") as f:
            self.assertEqual(f.read(), BIG)

    def test_no_range_without_accept_ranges(self):
        fs = self.start_fault({"/m.wasm": [truncate(BIG, 1000), ok(BIG)]})
        p = self.wp("pull", fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertIsNone(fs.requests_for("/m.wasm")[1].headers.get("Range"))

    def test_redirect_loop_is_network_error(self):
        fs = self.start_fault({"/a": [redirect("/b")], "/b": [redirect("/a")]})
        p = self.wp("pull", fs.url + "/a")
        self.assertFails(p, 6)
        self.assertIn("redirect", p.stderr)
        self.assertNothingStored()

    def test_https_to_http_redirect_is_refused(self):
        ng = self.start_nginx()
        # nginx's /redir/ location answers 307 to plain http on another name
        ng.put("m.wasm", BIG)
        p = self.wp("pull", "--ca-file", ng.certs["ca"], ng.https_url + "/redir/m.wasm")
        self.assertFails(p, 6)
        self.assertIn("https to http", p.stderr)
        self.assertNothingStored()

    def test_gzip_bomb_is_bounded(self):
        bomb = gzip.compress(b"\0" * (64 << 20), mtime=0)
        fs = self.start_fault({"/m.wasm.gz": [ok(bomb)]})
        p = self.wp("pull", "--max-size", "1MiB", fs.url + "/m.wasm.gz")
        self.assertFails(p, 5)
        self.assertNothingStored()

    def test_429_exhausted_is_network_error_naming_status(self):
        fs = self.start_fault({"/m.wasm": [reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}',
                                                 {"Retry-After": "0"})]})
        p = self.wp("pull", "--retries", "2", fs.url + "/m.wasm")
        self.assertFails(p, 6)
        self.assertIn("429", p.stderr)
        self.assertEqual(fs.count("/m.wasm"), 2)

    def test_retry_after_beyond_deadline_fails_fast(self):
        fs = self.start_fault({"/m.wasm": [reply(503, b"", {"Retry-After": "120"}), ok(BIG)]})
        p = self.wp("pull", "--timeout", "5s", fs.url + "/m.wasm")
        self.assertFails(p, 6)
        self.assertIn("deadline", p.stderr)
        self.assertEqual(fs.count("/m.wasm"), 1)


class CommandLine(WasmpullCase):

    def test_options_after_the_source(self):
        path = os.path.join(self.tmp, "m.wasm")
        with open(path, "wb") as f:
            f.write(BIG)
        p = self.wp("pull", "./m.wasm", "--json", "--max-size", "1M", "-v")
        self.assertExit(p, 0)
        self.assertIn('"format":"file"', p.stdout)
        i = self.wp("inspect", "./m.wasm", "--json")
        self.assertExit(i, 0)
        r = self.wp("cache", "rm", "./m.wasm", "--json")
        self.assertExit(r, 0)
        self.assertIn('"forgotten"', r.stdout)

    def test_missing_option_value_is_2_and_says_so(self):
        for args in (("pull", "-o"), ("inspect", "--timeout"), ("cache", "gc", "--older-than"),
                     ("-C",)):
            with self.subTest(args=args):
                p = self.wp(*args, cache=False)
                self.assertFails(p, 2)
                self.assertIn("missing value", p.stderr)

    def test_progress_on_a_terminal_only_and_redacted(self):
        import pty
        import subprocess
        fs = self.start_fault({"/m.wasm": [ok(BIG)]})
        url = fs.url + "/m.wasm?token=s3cr3t-in-query"
        master, slave = pty.openpty()
        p = subprocess.run(self._argv(("pull", url), True), stdout=subprocess.PIPE, stderr=slave,
                           env=self._env(None), timeout=60)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"%", seen)
        self.assertIn(b"\r", seen)
        self.assertNotIn(b"s3cr3t", seen)
        q = self.wp("pull", "--policy", "always", url)  # stderr is a pipe here
        self.assertExit(q, 0)
        self.assertEqual(q.stderr, "")

    def test_double_dash_ends_options(self):
        p = self.wp("pull", "--", "--json")
        self.assertFails(p, 2)


def cncf_manifest(module):
    import json
    cfg = b'{"architecture":"wasm","os":"wasip1"}'
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": {"mediaType": "application/vnd.wasm.config.v0+json",
                    "digest": "sha256:" + sha256_hex(cfg), "size": len(cfg)},
         "layers": [{"mediaType": "application/wasm",
                     "digest": "sha256:" + sha256_hex(module), "size": len(module)}]}
    return json.dumps(m).encode()


class ScriptedRegistry(WasmpullCase):
    """A registry scripted by hand, for what the CNCF registry never does."""

    MT = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}

    def authfile(self, host):
        import base64
        import json
        path = os.path.join(self.tmp, "auth.json")
        with open(path, "w") as f:
            json.dump({"auths": {host: {"auth": base64.b64encode(b"robot$p+bot:pa:ss").decode()}}}, f)
        return path

    def test_blob_redirect_to_another_host_gets_no_authorization(self):
        store = self.start_fault(host="localhost")
        reg = self.start_fault()
        man = cncf_manifest(BIG)
        blob = "/v2/w/m/blobs/sha256:" + sha256_hex(BIG)
        challenge = {"WWW-Authenticate": 'BASIC realm="r"'}
        reg.set("/v2/w/m/manifests/v1", [reply(401, b"", challenge), ok(man, headers=self.MT)])
        reg.set(blob, [reply(401, b"", challenge), redirect(store.url + "/signed?sig=x", 307)])
        store.set("/signed?sig=x", [ok(BIG)])
        host = reg.url.split("//")[1]
        p = self.wp("pull", "--plain-http", "--authfile", self.authfile(host), f"{host}/w/m:v1")
        self.assertExit(p, 0)
        sent = [r.headers.get("Authorization") for r in reg.requests_for(blob)]
        self.assertTrue(sent[-1] and sent[-1].startswith("Basic "), sent)
        for r in store.requests:
            self.assertIsNone(r.headers.get("Authorization"), r)

    def test_docker_content_digest_mismatch_is_5(self):
        reg = self.start_fault()
        man = cncf_manifest(BIG)
        hdrs = dict(self.MT, **{"Docker-Content-Digest": "sha256:" + "0" * 64})
        reg.set("/v2/w/m/manifests/v1", [ok(man, headers=hdrs)])
        host = reg.url.split("//")[1]
        p = self.wp("pull", "--plain-http", f"{host}/w/m:v1")
        self.assertFails(p, 5)
        self.assertIn("Docker-Content-Digest", p.stderr)
        self.assertNothingStored()

    def test_blob_bytes_not_matching_digest_store_nothing(self):
        reg = self.start_fault()
        man = cncf_manifest(BIG)
        evil = bytearray(BIG)
        evil[-1] ^= 1
        reg.set("/v2/w/m/manifests/v1", [ok(man, headers=self.MT)])
        reg.set("/v2/w/m/blobs/sha256:" + sha256_hex(BIG), [ok(bytes(evil))])
        host = reg.url.split("//")[1]
        p = self.wp("pull", "--plain-http", f"{host}/w/m:v1")
        self.assertFails(p, 5)
        self.assertNothingStored()

    def test_manifest_over_4_mib_is_5(self):
        reg = self.start_fault()
        reg.set("/v2/w/m/manifests/v1", [ok(b" " * (4 << 20) + b"{}", headers=self.MT)])
        host = reg.url.split("//")[1]
        p = self.wp("pull", "--plain-http", f"{host}/w/m:v1")
        self.assertFails(p, 5)

    def test_interrupted_blob_resumes_with_range(self):
        reg = self.start_fault()
        man = cncf_manifest(BIG)
        blob = "/v2/w/m/blobs/sha256:" + sha256_hex(BIG)
        reg.set("/v2/w/m/manifests/v1", [ok(man, headers=self.MT)])
        reg.set(blob, [truncate(BIG, 5000, {"Accept-Ranges": "bytes"}), ranged(BIG)])
        host = reg.url.split("//")[1]
        p = self.wp("pull", "--plain-http", "--json", f"{host}/w/m:v1")
        self.assertExit(p, 0)
        self.assertEqual([r.headers.get("Range") for r in reg.requests_for(blob)],
                         [None, "bytes=5000-"])

    def test_token_realm_refusing_post_gets_a_get(self):
        import base64
        import json
        reg = self.start_fault()
        man = cncf_manifest(BIG)
        realm = reg.url + "/token"
        reg.set("/v2/w/m/manifests/v1", [
            reply(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}),
            ok(man, headers=self.MT)])
        reg.set("/v2/w/m/blobs/sha256:" + sha256_hex(BIG), [ok(BIG)])
        tok = "/token?service=s&scope=repository%3Aw%2Fm%3Apull"
        reg.set("/token", [reply(405)])
        reg.set(tok, [ok(b'{"access_token":"acr-style"}')])
        host = reg.url.split("//")[1]
        path = os.path.join(self.tmp, "auth.json")
        with open(path, "w") as f:
            json.dump({"auths": {host: {"auth": base64.b64encode(b"u:p").decode(),
                                        "identitytoken": "refresh-me"}}}, f)
        p = self.wp("pull", "--plain-http", "--authfile", path, f"{host}/w/m:v1")
        self.assertExit(p, 0)
        self.assertEqual([r.method for r in reg.requests_for("/token")], ["POST", "GET"])
        auth = reg.requests_for("/v2/w/m/manifests/v1")[-1].headers.get("Authorization")
        self.assertEqual(auth, "Bearer acr-style")
        self.assertNotIn("refresh-me", p.stderr)

    def test_insufficient_scope_is_4_naming_both(self):
        reg = self.start_fault()
        reg.set("/v2/w/m/manifests/v1", [reply(
            401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
            {"WWW-Authenticate": 'Bearer realm="%s/token",service="s",scope="repository:w/m:pull",'
                                 'error="insufficient_scope"' % reg.url})])
        reg.set("/token?service=s&scope=repository%3Aw%2Fm%3Apull", [ok(b'{"token":"t"}')])
        host = reg.url.split("//")[1]
        p = self.wp("pull", "--plain-http", f"{host}/w/m:v1")
        self.assertFails(p, 4)
        self.assertIn("not found or not authorized", p.stderr)


if __name__ == "__main__":
    unittest.main()
