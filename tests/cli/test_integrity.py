"""What a pull promises about the bytes and the secrets, whichever path it
takes: --sha256 on cache hits, size limits on OCI layers, mirrors that fail
mid-blob, credentials on redirects, URLs with tokens in every output, and
cache entries that are not what they should be.
Run: WASMPULL=build/wasmpull python3 tests/cli/test_integrity.py -v
"""
import base64
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import WasmpullCase, ok, redirect, reply, sha256_hex, wasm_module  # noqa: E402
from fault_server import stall, truncate, unsized  # noqa: E402
from test_transport import cncf_manifest  # noqa: E402

MOD = wasm_module(bytes(range(256)) * 256)  # ~64 KiB
OTHER = "1" * 64
MT = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}


IMT = {"Content-Type": "application/vnd.oci.image.index.v1+json"}


def serve_index(reg, tags, size_delta=0):
    """reg serves an index at tags with one wasip1/wasm entry: MOD's cncf
    manifest (its descriptor's size off by size_delta). Returns that manifest."""
    man = cncf_manifest(MOD)
    mdig = "sha256:" + sha256_hex(man)
    index = json.dumps({"schemaVersion": 2, "mediaType": IMT["Content-Type"],
                        "manifests": [{"mediaType": MT["Content-Type"], "digest": mdig,
                                       "size": len(man) + size_delta,
                                       "platform": {"os": "wasip1", "architecture": "wasm"}}]
                        }).encode()
    for tag in tags:
        reg.set(f"/v2/w/m/manifests/{tag}", [ok(index, headers=IMT)])
    reg.set(f"/v2/w/m/manifests/{mdig}", [ok(man, headers=MT)])
    return man


def registry(case, tags=("v1",), module=MOD):
    """A fault server playing a registry that serves module under tags."""
    reg = case.start_fault()
    for tag in tags:
        reg.set(f"/v2/w/m/manifests/{tag}", [ok(cncf_manifest(module), headers=MT)])
    reg.set("/v2/w/m/blobs/sha256:" + sha256_hex(module), [ok(module)])
    return reg, reg.url.split("//")[1]


class Sha256OnHits(WasmpullCase):

    def test_http_hit_with_another_sha256_is_not_used(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        self.assertExit(self.wp("pull", fs.url + "/m.wasm"), 0)
        p = self.wp("pull", "--sha256", OTHER, fs.url + "/m.wasm")
        self.assertFails(p, 5)
        self.assertEqual(fs.count("/m.wasm"), 2)  # fetched again, and that did not match
        n = self.wp("pull", "--policy", "never", "--sha256", OTHER, fs.url + "/m.wasm")
        self.assertFails(n, 5)
        self.assertIn("does not match", n.stderr)

    def test_oci_hit_with_another_sha256_is_not_used(self):
        reg, host = registry(self)
        self.assertExit(self.wp("pull", "--plain-http", f"{host}/w/m:v1"), 0)
        p = self.wp("pull", "--plain-http", "--sha256", OTHER, f"{host}/w/m:v1")
        self.assertFails(p, 5)
        q = self.wp("pull", "--plain-http", "--sha256", sha256_hex(MOD), f"{host}/w/m:v1")
        self.assertExit(q, 0)


class Resume(WasmpullCase):

    def pull_with(self, second):
        n = len(MOD)
        fs = self.start_fault({"/m.wasm": [
            truncate(MOD, 2000, {"Accept-Ranges": "bytes", "ETag": '"v1"'}), second(n), ok(MOD)]})
        p = self.wp("pull", "--json", fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["digest"], "sha256:" + sha256_hex(MOD))
        return [r.headers for r in fs.requests_for("/m.wasm")]

    def test_206_at_the_wrong_offset_starts_over(self):
        h = self.pull_with(lambda n: reply(206, MOD[1000:],
                                           {"Content-Range": f"bytes 1000-{n - 1}/{n}"}))
        self.assertEqual(h[1].get("Range"), "bytes=2000-")
        self.assertEqual(h[1].get("If-Range"), '"v1"')
        self.assertIsNone(h[2].get("Range"))

    def test_206_of_another_length_starts_over(self):
        other = MOD + b"\0" * 10
        h = self.pull_with(lambda n: reply(206, other[2000:],
                                           {"Content-Range": f"bytes 2000-{n + 9}/{n + 10}"}))
        self.assertEqual(len(h), 3)

    def test_206_without_content_range_starts_over(self):
        h = self.pull_with(lambda n: reply(206, MOD[2000:]))
        self.assertEqual(len(h), 3)


class SizeLimits(WasmpullCase):

    def test_a_declared_length_over_the_limit_fails_at_once(self):
        import time
        fs = self.start_fault({"/m.wasm": [stall(MOD + b"\0" * (1 << 20), sent=16, seconds=30)]})
        t0 = time.time()
        p = self.wp("pull", "--timeout", "10s", "--max-size", "64k", fs.url + "/m.wasm")
        self.assertFails(p, 5)
        self.assertLess(time.time() - t0, 5)

    def test_an_unsized_body_over_the_limit_is_5(self):
        fs = self.start_fault({"/m.wasm": [unsized(MOD)]})
        self.assertFails(self.wp("pull", "--max-size", "16k", fs.url + "/m.wasm"), 5)
        self.assertNothingStored()
        p = self.wp("pull", "--json", fs.url + "/m.wasm")  # and whole when it fits
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["size"], len(MOD))

    def test_a_file_over_the_limit_is_5(self):
        src = os.path.join(self.tmp, "m.wasm")
        with open(src, "wb") as f:
            f.write(MOD)
        self.assertFails(self.wp("pull", "--max-size", "16k", src), 5)
        self.assertNothingStored()


class Framing(WasmpullCase):

    def test_a_module_cut_short_is_5_and_not_stored(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD[:len(MOD) - 100])]})
        p = self.wp("pull", fs.url + "/m.wasm")
        self.assertFails(p, 5)
        self.assertIn("not a complete Wasm module", p.stderr)
        self.assertNothingStored()

    def test_a_module_with_bytes_after_its_last_section_is_5(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD + b"\x00")]})
        self.assertFails(self.wp("pull", fs.url + "/m.wasm"), 5)


class OciLayers(WasmpullCase):

    def test_max_size_applies_to_oci_layers(self):
        reg, host = registry(self)
        p = self.wp("pull", "--plain-http", "--max-size", "1k", f"{host}/w/m:v1")
        self.assertFails(p, 5)
        self.assertEqual(reg.count("/v2/w/m/blobs/sha256:" + sha256_hex(MOD)), 0)
        self.assertNothingStored()

    def test_mirror_failing_mid_blob_falls_back_cleanly(self):
        reg, host = registry(self)
        mirror = self.start_fault()
        mirror.set("/v2/w/m/manifests/v1", [ok(cncf_manifest(MOD), headers=MT)])
        mirror.set("/v2/w/m/blobs/sha256:" + sha256_hex(MOD), [truncate(MOD, 40000)])
        mhost = mirror.url.split("//")[1]
        p = self.wp("pull", "--plain-http", "--json", "--mirror", f"{host}={mhost}",
                    f"{host}/w/m:v1")
        self.assertExit(p, 0)
        self.assertEqual(json.loads(p.stdout)["digest"], "sha256:" + sha256_hex(MOD))
        self.assertEqual(mirror.count("/v2/w/m/blobs/sha256:" + sha256_hex(MOD)), 1)

    def test_another_tag_of_a_cached_index_downloads_no_blob(self, platform=None):
        reg, host = registry(self, tags=())
        serve_index(reg, ("a", "b"))
        self.reg, self.host = reg, host
        pf = ("--platform", platform) if platform else ()
        self.assertExit(self.wp("pull", "--plain-http", *pf, f"{host}/w/m:a"), 0)
        p = self.wp("pull", "--plain-http", *pf, "--policy", "always", "--json", f"{host}/w/m:b")
        self.assertExit(p, 0)
        self.assertTrue(json.loads(p.stdout)["cached"])
        self.assertEqual(reg.count("/v2/w/m/blobs/sha256:" + sha256_hex(MOD)), 1)

    def test_never_accepts_the_platform_manifest_digest(self):
        self.test_another_tag_of_a_cached_index_downloads_no_blob()
        child = sha256_hex(cncf_manifest(MOD))
        p = self.wp("pull", "--plain-http", "--policy", "never", "--sha256", child,
                    f"{self.host}/w/m:a")
        self.assertExit(p, 0)

    def test_always_on_an_unchanged_index_is_one_request(self):
        self.test_another_tag_of_a_cached_index_downloads_no_blob()
        reg = self.reg
        man = cncf_manifest(MOD)
        child = "/v2/w/m/manifests/sha256:" + sha256_hex(man)
        before = (reg.count("/v2/w/m/manifests/b"), reg.count(child))
        p = self.wp("pull", "--plain-http", "--policy", "always", "--json", f"{self.host}/w/m:b")
        self.assertExit(p, 0)
        self.assertTrue(json.loads(p.stdout)["cached"])
        self.assertEqual(reg.count("/v2/w/m/manifests/b"), before[0] + 1)
        self.assertEqual(reg.count(child), before[1])

    def test_a_manifest_by_digest_must_have_that_digest(self):
        reg, host = registry(self)
        good = cncf_manifest(MOD)
        bad = good.replace(b'"schemaVersion": 2', b'"schemaVersion": 2, "annotations": {"x": "y"}')
        self.assertNotEqual(good, bad)
        reg.set("/v2/w/m/manifests/sha256:" + sha256_hex(good), [ok(bad, headers=MT)])
        p = self.wp("pull", "--plain-http", f"{host}/w/m@sha256:" + sha256_hex(good))
        self.assertFails(p, 5)
        self.assertIn("digest mismatch", p.stderr)
        self.assertNothingStored()

    def test_an_index_entry_size_must_match_its_manifest(self):
        reg, host = registry(self, tags=())
        serve_index(reg, ("v1",), size_delta=7)
        p = self.wp("pull", "--plain-http", f"{host}/w/m:v1")
        self.assertFails(p, 5)
        self.assertIn("the index says", p.stderr)

    def test_inspect_verifies_the_config_blob(self):
        reg, host = registry(self)
        cfg = b'{"architecture":"wasm","os":"wasip1"}'
        reg.set("/v2/w/m/blobs/sha256:" + sha256_hex(cfg), [ok(cfg.replace(b"wasip1", b"evilp1"))])
        p = self.wp("inspect", "--json", "--metadata-only", "--plain-http", f"{host}/w/m:v1")
        self.assertFails(p, 5)
        self.assertNotIn("evilp1", p.stdout)

    def test_exhausted_retries_name_the_request_and_the_registry_code(self):
        reg, host = registry(self)
        reg.set("/v2/w/m/manifests/v1", [reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}',
                                               {"Retry-After": "0"})])
        p = self.wp("pull", "--plain-http", "--retries", "2", f"{host}/w/m:v1")
        self.assertFails(p, 6)
        self.assertIn("manifest w/m:v1", p.stderr)
        self.assertIn("TOOMANYREQUESTS", p.stderr)
        reg.set("/v2/w/m/manifests/v1", [
            reply(401, b"", {"WWW-Authenticate": f'Bearer realm="{reg.url}/token",service="s"'})])
        reg.set("/token", [reply(500)])
        q = self.wp("pull", "--plain-http", "--retries", "1", f"{host}/w/m:v1")
        self.assertFails(q, 6)
        self.assertIn("token realm", q.stderr)

    def test_insecure_fallback_still_authenticates(self):
        reg, host = registry(self)
        challenge = {"WWW-Authenticate": 'Basic realm="r"'}
        reg.set("/v2/w/m/manifests/v1", [reply(401, b"", challenge),
                                         ok(cncf_manifest(MOD), headers=MT)])
        p = self.wp("pull", "-u", "bob", "--insecure-registry", host, f"{host}/w/m:v1",
                    env={"WASMPULL_PASSWORD": "pw"})
        self.assertExit(p, 0)


class Secrets(WasmpullCase):

    def test_token_realm_redirect_gets_no_credentials(self):
        thief = self.start_fault(host="localhost")
        thief.set("/steal", [ok(b'{"token":"t"}')])
        reg, host = registry(self)
        reg.set("/v2/w/m/manifests/v1", [
            reply(401, b"", {"WWW-Authenticate": f'Bearer realm="{reg.url}/token",service="s"'}),
            ok(cncf_manifest(MOD), headers=MT)])
        reg.set("/token", [redirect(thief.url + "/steal")])
        p = self.wp("pull", "--plain-http", "-u", "bob", f"{host}/w/m:v1",
                    env={"WASMPULL_PASSWORD": "S3CRETPW"})
        self.assertExit(p, 0)
        self.assertTrue(reg.requests_for("/token")[0].headers.get("Authorization"))
        for r in thief.requests:
            self.assertIsNone(r.headers.get("Authorization"), r)

    def test_cache_rm_takes_the_url_as_ls_shows_it(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        self.assertExit(self.wp("pull", fs.url + "/m.wasm?token=S3CRETTOK"), 0)
        shown = json.loads(self.wp("cache", "ls", "--json").stdout)[0]["sources"][0]
        self.assertNotIn("S3CRETTOK", shown)
        r = self.wp("cache", "rm", shown)
        self.assertExit(r, 0)
        self.assertEqual(json.loads(self.wp("cache", "ls", "--json").stdout), [])

    def test_no_header_follows_a_redirect_to_another_host(self):
        other = self.start_fault({"/m.wasm": [ok(MOD)]}, host="localhost")
        first = self.start_fault({"/m.wasm": [redirect(other.url + "/m.wasm")]})
        p = self.wp("pull", "-H", "PRIVATE-TOKEN: SECRETB", "-H", "X-Api-Key: SECRETD",
                    first.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertEqual(first.requests[0].headers.get("PRIVATE-TOKEN"), "SECRETB")
        for r in other.requests:
            self.assertIsNone(r.headers.get("PRIVATE-TOKEN"))
            self.assertIsNone(r.headers.get("X-Api-Key"))

    def test_insecure_registry_does_not_make_its_token_realm_insecure(self):
        import ssl
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from harness import free_port, shared_certs
        seen = []

        class Realm(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.headers.get("Authorization"))
                body = b'{"token":"t"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        certs = shared_certs()
        srv = ThreadingHTTPServer(("127.0.0.1", free_port()), Realm)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certs["cert"], certs["key"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        reg, host = registry(self)
        realm = f"https://localhost:{srv.server_address[1]}/token"
        reg.set("/v2/w/m/manifests/v1", [
            reply(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}),
            ok(cncf_manifest(MOD), headers=MT)])
        # the registry is insecure (plain HTTP fallback); its realm's untrusted TLS is refused
        p = self.wp("pull", "-u", "bob", "--insecure-registry", host, f"{host}/w/m:v1",
                    env={"WASMPULL_PASSWORD": "S3CRET"})
        self.assertFails(p, 6)
        self.assertEqual(seen, [])
        # control: with the test CA trusted, the same realm works and gets the credentials
        reg.set("/v2/w/m/manifests/v1", [
            reply(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}),
            ok(cncf_manifest(MOD), headers=MT)])
        q = self.wp("pull", "-u", "bob", "--insecure-registry", host, "--ca-file", certs["ca"],
                    f"{host}/w/m:v1", env={"WASMPULL_PASSWORD": "S3CRET"})
        self.assertExit(q, 0)
        self.assertTrue(seen and seen[0].startswith("Basic "), seen)

    def test_url_secrets_never_printed(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        url = fs.url.replace("http://", "http://user:S3CRETPW@") + "/m.wasm?token=S3CRETTOK"
        outputs = [self.wp("-v", "pull", "--json", url),
                   self.wp("cache", "ls"), self.wp("cache", "ls", "--json"),
                   self.wp("inspect", "--json", url),
                   self.wp("-vv", "pull", "--policy", "always", url)]
        fs.set("/m.wasm", [reply(500)])
        outputs.append(self.wp("inspect", "--retries", "1", url))
        outputs.append(self.wp("cache", "rm", url))
        for p in outputs:
            for secret in ("S3CRETPW", "S3CRETTOK"):
                self.assertNotIn(secret, p.stdout + p.stderr, p.args)


class CredentialHelpers(WasmpullCase):

    def helper(self, body):
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        path = os.path.join(bindir, "docker-credential-odd")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)
        return {"PATH": bindir + os.pathsep + self.env["PATH"]}

    def basic_registry(self):
        reg, host = registry(self)
        reg.set("/v2/w/m/manifests/v1", [reply(401, b"", {"WWW-Authenticate": 'Basic realm="r"'})])
        auth = os.path.join(self.tmp, "auth.json")
        with open(auth, "w") as f:
            json.dump({"credHelpers": {host: "odd"}}, f)
        return host, auth

    def test_a_hanging_helper_is_bounded_by_the_timeout(self):
        import time
        host, auth = self.basic_registry()
        env = self.helper("sleep 60\n")
        t0 = time.time()
        p = self.wp("pull", "--plain-http", "--timeout", "2s", "--authfile", auth,
                    f"{host}/w/m:v1", env=env)
        self.assertLess(time.time() - t0, 15)
        self.assertFails(p, 6)

    def test_a_helper_dies_with_the_pull(self):
        import signal
        import subprocess
        import time
        host, auth = self.basic_registry()
        marker = "61.%d" % os.getpid()
        env = self.helper(f"sleep {marker}\n")
        p = self.wp_bg("pull", "--plain-http", "--authfile", auth, f"{host}/w/m:v1", env=env)

        def helper_alive():
            return subprocess.run(["pgrep", "-f", f"sleep {marker}"],
                                  capture_output=True).returncode == 0
        deadline = time.time() + 10
        while time.time() < deadline and not helper_alive():
            time.sleep(0.05)
        self.assertTrue(helper_alive())
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C does
        p.wait(timeout=10)
        time.sleep(0.2)
        self.assertFalse(helper_alive())

    def test_a_helper_complaining_on_stderr_is_not_echoed(self):
        host, auth = self.basic_registry()
        env = self.helper("echo 'token HELPERSECRET expired' >&2\necho line2 >&2\nexit 1\n")
        p = self.wp("pull", "--plain-http", "--authfile", auth, f"{host}/w/m:v1", env=env)
        self.assertFails(p, 4)
        self.assertNotIn("HELPERSECRET", p.stderr)


class OddCacheEntries(WasmpullCase):

    def plant(self, make):
        path = os.path.join(self.tmp, "m.wasm")
        with open(path, "wb") as f:
            f.write(MOD)
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        self.assertExit(self.wp("pull", fs.url + "/m.wasm"), 0)
        blob = os.path.join(self.cache, "blobs", "sha256", sha256_hex(MOD))
        os.unlink(blob)
        make(blob)
        return fs, blob

    def test_a_folder_where_a_module_was_is_fetched_again(self):
        fs, blob = self.plant(lambda b: (os.mkdir(b), open(os.path.join(b, "x"), "w").close()))
        p = self.wp("pull", "--json", fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertFalse(json.loads(p.stdout)["cached"])
        with open(blob, "rb") as f:
            self.assertEqual(f.read(), MOD)
        g = self.wp("cache", "gc", "--json")
        self.assertExit(g, 0)
        self.assertEqual(os.listdir(os.path.join(self.cache, "tmp")), [])

    def test_a_fifo_where_a_module_was_does_not_hang(self):
        fs, blob = self.plant(os.mkfifo)
        p = self.wp("pull", fs.url + "/m.wasm", timeout=20)
        self.assertExit(p, 0)

    def test_gc_removes_planted_folders(self):
        fs, blob = self.plant(os.mkdir)
        g = self.wp("cache", "gc", "--json")
        self.assertExit(g, 0)
        self.assertFalse(os.path.exists(blob))
        self.assertEqual(os.listdir(os.path.join(self.cache, "tmp")), [])

    def test_same_layer_under_another_reference_reports_that_reference(self):
        reg, host = registry(self)
        self.assertExit(self.wp("pull", "--plain-http", f"{host}/w/m:v1"), 0)
        cfg = b"{}"
        w2o = json.dumps({
            "schemaVersion": 2, "mediaType": MT["Content-Type"],
            "config": {"mediaType": "application/vnd.wasm.config.v1+json",
                       "digest": "sha256:" + sha256_hex(cfg), "size": len(cfg)},
            "layers": [{"mediaType": "application/vnd.wasm.content.layer.v1+wasm",
                        "digest": "sha256:" + sha256_hex(MOD), "size": len(MOD)}]}).encode()
        reg.set("/v2/w/m/manifests/w2o", [ok(w2o, headers=MT)])
        p = self.wp("pull", "--plain-http", "--json", f"{host}/w/m:w2o")
        self.assertExit(p, 0)
        j = json.loads(p.stdout)
        self.assertTrue(j["cached"])
        self.assertEqual(j["format"], "wasm-to-oci")
        self.assertEqual(j["manifest_digest"], "sha256:" + sha256_hex(w2o))
        self.assertEqual(reg.count("/v2/w/m/blobs/sha256:" + sha256_hex(MOD)), 1)

    def test_a_cached_layer_is_not_reused_when_the_size_lies(self):
        reg, host = registry(self)
        self.assertExit(self.wp("pull", "--plain-http", f"{host}/w/m:v1"), 0)
        liar = json.loads(cncf_manifest(MOD))
        liar["layers"][0]["size"] += 1
        reg.set("/v2/w/m/manifests/liar", [ok(json.dumps(liar).encode(), headers=MT)])
        p = self.wp("pull", "--plain-http", f"{host}/w/m:liar")
        self.assertFails(p, 5)

    def test_a_sha256_hit_from_a_file_writes_no_record_for_the_reference(self):
        reg, host = registry(self)
        src = os.path.join(self.tmp, "m.wasm")
        with open(src, "wb") as f:
            f.write(MOD)
        self.assertExit(self.wp("pull", src), 0)
        p = self.wp("pull", "--plain-http", "--json", "--sha256", sha256_hex(MOD),
                    f"{host}/w/m:v1")
        self.assertTrue(self.json_of(p)["cached"])
        self.assertEqual(reg.count("/v2/w/m/manifests/v1"), 0)
        q = self.json_of(self.wp("pull", "--plain-http", "--json", f"{host}/w/m:v1"))
        self.assertEqual(q["format"], "cncf")
        self.assertEqual(reg.count("/v2/w/m/manifests/v1"), 1)

    def test_cache_commands_after_a_platform_pull(self):
        OciLayers.test_another_tag_of_a_cached_index_downloads_no_blob(self, "wasip1/wasm")
        for args in (("cache", "ls"), ("cache", "ls", "--json"), ("cache", "verify"),
                     ("cache", "gc", "--dry-run")):
            with self.subTest(args=args):
                self.assertExit(self.wp(*args), 0)

    def test_junk_in_locks_does_not_break_pulls(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        locks = os.path.join(self.cache, "locks")
        os.makedirs(locks)
        import hashlib
        key = hashlib.sha256((fs.url + "/m.wasm").encode()).hexdigest()
        os.mkdir(os.path.join(locks, key + ".lock"))
        p = self.wp("pull", fs.url + "/m.wasm")
        self.assertExit(p, 0)

    def test_cross_source_hit_reports_this_source(self):
        reg, host = registry(self)
        self.assertExit(self.wp("pull", "--plain-http", f"{host}/w/m:v1"), 0)
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        p = self.wp("pull", "--json", "--sha256", sha256_hex(MOD), fs.url + "/m.wasm")
        self.assertExit(p, 0)
        j = json.loads(p.stdout)
        self.assertTrue(j["cached"])
        self.assertEqual(j["format"], "http")
        self.assertNotIn("reference", j)
        self.assertNotIn("manifest_digest", j)
        self.assertEqual(fs.count("/m.wasm"), 0)


class Durability(WasmpullCase):
    """What no ordinary test can see: the order of fsync and rename, and that a
    published blob is never replaced (strace shows the system calls)."""

    def test_fsync_before_rename_and_no_replacing_a_blob(self):
        import shutil
        import subprocess
        if not shutil.which("strace"):
            self.skipTest("strace is not installed")
        src = os.path.join(self.tmp, "m.wasm")
        with open(src, "wb") as f:
            f.write(MOD)
        out = os.path.join(self.tmp, "o.wasm")
        trace = os.path.join(self.tmp, "trace")
        r = subprocess.run(["strace", "-f", "-y", "-o", trace, "-e",
                            "trace=fsync,rename,renameat,renameat2",
                            *self._argv(("pull", "-o", out, src), True)],
                           env=self._env(None), capture_output=True)
        if r.returncode != 0 and b"ptrace" in r.stderr:
            self.skipTest("ptrace is not permitted here")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(trace) as f:
            calls = [line for line in f if "fsync" in line or "rename" in line]
        part = next(i for i, c in enumerate(calls) if "fsync" in c and ".part" in c)
        publish = next(i for i, c in enumerate(calls) if "renameat2" in c)
        self.assertLess(part, publish, calls)
        self.assertIn("RENAME_NOREPLACE", calls[publish])
        tmp_out = next(i for i, c in enumerate(calls) if "fsync" in c and ".o.wasm.wasmpull-" in c)
        final = next(i for i, c in enumerate(calls) if "rename(" in c and "o.wasm" in c)
        self.assertLess(tmp_out, final, calls)

    def test_the_same_bytes_again_keep_the_published_blob(self):
        for name in ("a.wasm", "b.wasm"):
            with open(os.path.join(self.tmp, name), "wb") as f:
                f.write(MOD)
        a = self.wp("pull", os.path.join(self.tmp, "a.wasm"))
        self.assertExit(a, 0)
        ino = os.stat(a.stdout.strip()).st_ino
        b = self.wp("pull", os.path.join(self.tmp, "b.wasm"))
        self.assertExit(b, 0)
        self.assertEqual(a.stdout, b.stdout)
        self.assertEqual(os.stat(b.stdout.strip()).st_ino, ino)


class Output(WasmpullCase):

    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.tmp, "m.wasm")
        with open(self.src, "wb") as f:
            f.write(MOD)

    def test_a_fifo_is_written_into_not_replaced(self):
        import stat
        import threading
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        got = []

        def drain():
            with open(fifo, "rb") as f:
                got.append(f.read())
        t = threading.Thread(target=drain, daemon=True)  # a failed pull must not hang the run
        t.start()
        p = self.wp("pull", "-o", fifo, self.src)
        t.join(10)
        self.assertExit(p, 0)
        self.assertEqual(got, [MOD])
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_a_symlink_keeps_pointing_at_the_new_module(self):
        target = os.path.join(self.tmp, "real.wasm")
        with open(target, "wb") as f:
            f.write(b"old")
        link = os.path.join(self.tmp, "link.wasm")
        os.symlink(target, link)
        self.assertExit(self.wp("pull", "-o", link, self.src), 0)
        self.assertTrue(os.path.islink(link))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), MOD)

    def test_a_symlink_into_the_cache_is_2(self):
        p = self.wp("pull", self.src)
        self.assertExit(p, 0)
        blob = p.stdout.strip()
        link = os.path.join(self.tmp, "out.wasm")
        os.symlink(blob, link)
        other = os.path.join(self.tmp, "other.wasm")
        with open(other, "wb") as f:
            f.write(wasm_module(b"other"))
        self.assertFails(self.wp("pull", "-o", link, other), 2)
        self.assertExit(self.wp("cache", "verify"), 0)

    def test_a_missing_output_folder_fails_before_any_read(self):
        p = self.wp("pull", "-o", os.path.join(self.tmp, "nope", "m.wasm"), self.src)
        self.assertFails(p, 1)
        self.assertNothingStored()

    def test_inside_the_cache_or_a_folder_is_2(self):
        p = self.wp("pull", self.src)
        self.assertExit(p, 0)
        blob = p.stdout.strip()
        for target in (blob, os.path.join(self.cache, "x.wasm"), self.tmp):
            with self.subTest(target=target):
                self.assertFails(self.wp("pull", "-o", target, self.src), 2)
        self.assertEqual(os.stat(blob).st_mode & 0o222, 0)


class Options(WasmpullCase):

    def test_bad_ca_file_and_platform_are_usage_errors(self):
        junk = os.path.join(self.tmp, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        for args in (("--ca-file", self.tmp), ("--ca-file", junk),
                     ("--platform", "a/b/c/d"), ("--platform", "linux"),
                     ("--insecure-registry", ""), ("--mirror", "docker.io=http://"),
                     ("--mirror", "=m:5000"), ("--mirror", "docker.io")):
            with self.subTest(args=args):
                self.assertFails(self.wp("pull", *args, "127.0.0.1:1/w/m:v1"), 2)

    def test_malformed_urls_and_empty_cache_dir_are_2(self):
        for args in (("pull", "http://"), ("pull", "http://127.0.0.1:99999/x.wasm"),
                     ("inspect", "https://[::1/x"), ("--cache-dir=", "pull", "./x.wasm"),
                     ("pull", "--cache-dir=", "./x.wasm")):
            with self.subTest(args=args):
                self.assertFails(self.wp(*args, cache=False), 2)

    def test_gc_older_than_zero_collects_what_no_one_uses(self):
        src = os.path.join(self.tmp, "m.wasm")
        with open(src, "wb") as f:
            f.write(MOD)
        self.assertExit(self.wp("pull", src), 0)
        g = self.wp("cache", "gc", "--older-than", "0", "--json")
        self.assertExit(g, 0)
        self.assertEqual(len(json.loads(g.stdout)["removed"]), 1)

    def test_a_bad_output_is_refused_before_any_download(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        p = self.wp("pull", "-o", self.tmp, fs.url + "/m.wasm")
        self.assertFails(p, 2)
        self.assertEqual(fs.count("/m.wasm"), 0)
        self.assertNothingStored()

    def test_help_forms(self):
        for args, first in ((("help", "cache", "gc"), "usage: wasmpull cache gc"),
                            (("-h", "cache", "gc"), "usage: wasmpull cache gc"),
                            (("help", "help"), "usage: wasmpull [GLOBAL"),
                            (("help", "pull"), "usage: wasmpull pull"),
                            (("cache", "rm", "--help"), "usage: wasmpull cache rm")):
            with self.subTest(args=args):
                p = self.wp(*args, cache=False)
                self.assertExit(p, 0)
                self.assertTrue(p.stdout.startswith(first), p.stdout[:80])
        self.assertFails(self.wp("cache", "-C", cache=False), 2)

    def test_a_missing_registry_auth_file_is_2_even_with_authfile(self):
        good = os.path.join(self.tmp, "auth.json")
        with open(good, "w") as f:
            f.write("{}")
        p = self.wp("pull", "--authfile", good, "127.0.0.1:1/w/m:v1",
                    env={"REGISTRY_AUTH_FILE": os.path.join(self.tmp, "typo.json")})
        self.assertFails(p, 2)

    def test_rate_limit_headers_shown_with_v(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD, headers={"ratelimit-limit": "100;w=21600",
                                                             "ratelimit-remaining": "76;w=21600"})]})
        p = self.wp("-v", "pull", fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertIn("76;w=21600 remaining of 100;w=21600", p.stderr)

    def test_version_after_the_command_names_the_libraries(self):
        p = self.wp("pull", "--version")
        self.assertExit(p, 0)
        self.assertIn("libcurl", p.stdout)
        self.assertIn("libarchive", p.stdout)


if __name__ == "__main__":
    unittest.main()
