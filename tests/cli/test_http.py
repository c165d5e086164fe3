"""wasmpull pull for http://, https://, file:// and paths, against nginx and
the fault server on loopback. One test per behaviour issue 2 asks to show.
Run: WASMPULL=build/wasmpull python3 tests/cli/test_http.py -v
"""
import gzip
import io
import json
import os
import re
import stat
import sys
import tarfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SRCDIR, WasmpullCase, ok, redirect, reply,  # noqa: E402
                     retry_after, sha256_hex, stall, truncate, wasm_module)

MOD = wasm_module(b"wasmpull http test module " * 8, exports=("add", "sum"))
MOD_DIGEST = "sha256:" + sha256_hex(MOD)
BIG = wasm_module(bytes(range(256)) * 256)          # ~64 KiB
BIG_DIGEST = "sha256:" + sha256_hex(BIG)
OTHER_DIGEST = "sha256:" + "ab" * 32
SECRET = "s3cr3t-T0KEN-value-9f2c"


def gz(data):
    return gzip.compress(data, mtime=0)


def tar(members):
    """members: [(name, bytes)] regular files; a name ending in / is a folder."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name.rstrip("/"))
            ti.mtime = 0
            if name.endswith("/"):
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                t.addfile(ti, io.BytesIO(data))
    return raw.getvalue()


class HttpCase(WasmpullCase):

    def pull(self, *args, **kw):
        return self.wp("pull", *args, **kw)

    def pull_json(self, *args, **kw):
        return self.json_of(self.pull("--json", *args, **kw))

    def assertPulled(self, proc, data):
        """Exit 0, one absolute path on stdout, in the cache, holding data."""
        self.assertExit(proc, 0)
        lines = proc.stdout.splitlines()
        self.assertEqual(len(lines), 1, self._describe(proc))
        path = lines[0]
        self.assertTrue(os.path.isabs(path), path)
        self.assertTrue(os.path.realpath(path).startswith(os.path.realpath(self.cache) + os.sep),
                        f"{path} is not under the cache {self.cache}")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data, f"{path} does not hold the module")
        return path

    def nginx_with(self, files):
        ng = self.start_nginx()
        for name, data in files.items():
            ng.put(name, data)
        return ng


class TestDownload(HttpCase):

    def test_plain_http_download(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        self.assertPulled(self.pull(ng.http_url + "/hello.wasm"), MOD)

    def test_tls_download_with_ca_file(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("--ca-file", ng.certs["ca"], ng.https_url + "/hello.wasm")
        self.assertPulled(p, MOD)

    def test_tls_without_ca_file_is_network_error(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("--retries", "1", ng.https_url + "/hello.wasm")
        self.assertFails(p, 6)
        self.assertNothingStored()

    def test_redirect_is_followed(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        self.assertPulled(self.pull(ng.http_url + "/redir/hello.wasm"), MOD)
        self.assertEqual(ng.count("/redir/hello.wasm"), 1)
        self.assertEqual(ng.count("/hello.wasm"), 1)

    def test_authorization_header_not_sent_to_other_host(self):
        other = self.start_fault({"/m.wasm": [ok(MOD)]}, host="localhost")
        first = self.start_fault({"/m.wasm": [redirect(other.url + "/m.wasm")]})
        p = self.pull("-H", "Authorization: Bearer x", first.url + "/m.wasm")
        self.assertPulled(p, MOD)
        self.assertEqual([r.headers.get("Authorization") for r in first.requests],
                         ["Bearer x"])
        self.assertGreaterEqual(other.count("/m.wasm"), 1)
        for r in other.requests:
            self.assertIsNone(r.headers.get("Authorization"),
                              "Authorization was sent to the redirect's other host")

    def test_404_is_not_found(self):
        ng = self.nginx_with({})
        p = self.pull(ng.http_url + "/missing.wasm")
        self.assertFails(p, 3)
        self.assertIn("404", p.stderr)
        self.assertNothingStored()


class TestUnboxing(HttpCase):

    def pull_unboxed(self, name, data):
        ng = self.nginx_with({name: data})
        out = self.pull_json(ng.http_url + "/" + name)
        self.assertEqual(out["digest"], MOD_DIGEST)
        self.assertEqual(out["size"], len(MOD))
        with open(out["path"], "rb") as f:
            self.assertEqual(f.read(), MOD)

    def test_gzip(self):
        self.pull_unboxed("hello.wasm.gz", gz(MOD))

    def test_tar(self):
        self.pull_unboxed("hello.tar", tar([("README.md", b"# not the module\n"),
                                            ("plugin.wasm", MOD)]))

    def test_tar_gz(self):
        self.pull_unboxed("hello.tar.gz", gz(tar([("./", b""), ("./plugin.wasm", MOD),
                                                  ("./LICENSE", b"Apache-2.0\n")])))

    def test_tar_with_the_only_wasm_file(self):
        self.pull_unboxed("bundle.tar.gz", gz(tar([("dist/", b""), ("dist/filter.wasm", MOD),
                                                   ("dist/notes.txt", b"notes\n")])))


class TestVerification(HttpCase):

    def test_right_sha256_passes(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("--sha256", MOD_DIGEST[len("sha256:"):], ng.http_url + "/hello.wasm")
        self.assertPulled(p, MOD)
        self.assertPulled(self.pull("--sha256", MOD_DIGEST, ng.http_url + "/hello.wasm"), MOD)

    def test_right_sha256_of_extracted_module_passes(self):
        ng = self.nginx_with({"hello.tar.gz": gz(tar([("plugin.wasm", MOD)]))})
        self.assertPulled(self.pull("--sha256", MOD_DIGEST, ng.http_url + "/hello.tar.gz"), MOD)

    def test_wrong_sha256_fails_and_stores_nothing(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("--sha256", OTHER_DIGEST, ng.http_url + "/hello.wasm")
        self.assertFails(p, 5)
        self.assertNothingStored()
        # and the failed source is not remembered: never finds nothing
        self.assertFails(self.pull("--policy", "never", ng.http_url + "/hello.wasm"), 3)

    def test_non_wasm_body_fails(self):
        fs = self.start_fault({"/page.wasm": [ok(b"<html><body>login</body></html>\n")]})
        self.assertFails(self.pull(fs.url + "/page.wasm"), 5)
        self.assertNothingStored()

    def test_max_size_smaller_than_module_fails(self):
        ng = self.nginx_with({"big.wasm": BIG})
        p = self.pull("--max-size", "16k", ng.http_url + "/big.wasm")
        self.assertFails(p, 5)
        self.assertNothingStored()


class TestFaults(HttpCase):

    def test_500_forever_fails_after_configured_attempts(self):
        fs = self.start_fault({"/m.wasm": [reply(500, b"oops\n")]})
        p = self.pull("--retries", "3", "--timeout", "40s", fs.url + "/m.wasm", timeout=60)
        self.assertFails(p, 6)
        self.assertIn("500", p.stderr)
        self.assertEqual(fs.count("/m.wasm"), 3)
        self.assertNothingStored()

    def test_503_503_200_succeeds(self):
        fs = self.start_fault({"/m.wasm": [reply(503), reply(503), ok(MOD)]})
        p = self.pull("--retries", "5", "--timeout", "40s", fs.url + "/m.wasm", timeout=60)
        self.assertPulled(p, MOD)
        self.assertEqual(fs.count("/m.wasm"), 3)

    def test_429_retry_after_is_honoured(self):
        fs = self.start_fault({"/m.wasm": [retry_after(429, 1), ok(MOD)]})
        t0 = time.monotonic()
        p = self.pull("--retries", "3", "--timeout", "30s", fs.url + "/m.wasm")
        elapsed = time.monotonic() - t0
        self.assertPulled(p, MOD)
        reqs = fs.requests_for("/m.wasm")
        self.assertEqual(len(reqs), 2)
        self.assertGreaterEqual(reqs[1].time - reqs[0].time, 1.0,
                                "retried before Retry-After: 1 elapsed")
        self.assertGreaterEqual(elapsed, 1.0)

    def test_truncated_body_is_never_stored(self):
        fs = self.start_fault({"/m.wasm": [truncate(BIG, len(BIG) // 2)]})
        p = self.pull("--retries", "2", "--timeout", "20s", fs.url + "/m.wasm", timeout=40)
        self.assertFails(p, 6)
        self.assertNothingStored()
        self.assertGreaterEqual(fs.count("/m.wasm"), 1)

    def test_stall_ends_by_timeout(self):
        fs = self.start_fault({"/m.wasm": [stall(BIG, sent=64, seconds=60)]})
        t0 = time.monotonic()
        p = self.pull("--timeout", "3s", fs.url + "/m.wasm", timeout=30)
        elapsed = time.monotonic() - t0
        self.assertFails(p, 6)
        self.assertLess(elapsed, 10, "--timeout 3s did not bound the pull")
        self.assertNothingStored()


class TestFiles(HttpCase):

    def write_module(self, rel="mods/hello.wasm", data=MOD):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_file_url(self):
        path = self.write_module()
        self.assertPulled(self.pull("file://" + path), MOD)

    def test_absolute_and_relative_paths(self):
        path = self.write_module()
        self.assertPulled(self.pull(path), MOD)
        self.assertPulled(self.pull("./mods/hello.wasm", cwd=self.tmp), MOD)
        os.makedirs(os.path.join(self.tmp, "sub"))
        self.assertPulled(self.pull("../mods/hello.wasm", cwd=os.path.join(self.tmp, "sub")), MOD)

    def test_missing_file_is_not_found(self):
        p = self.pull("./no-such.wasm")
        self.assertFails(p, 3)


class TestOutput(HttpCase):

    def test_output_writes_exact_module(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        target = os.path.join(self.tmp, "out", "filter.wasm")
        os.makedirs(os.path.dirname(target))
        p = self.pull("-o", target, ng.http_url + "/hello.wasm")
        self.assertPulled(p, MOD)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), MOD)
        self.assertEqual(os.listdir(os.path.dirname(target)), ["filter.wasm"])

    def test_output_to_stdout(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("-o", "-", ng.http_url + "/hello.wasm", text=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, MOD)

    def test_failed_pull_leaves_output_untouched(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        fs = self.start_fault({"/cut.wasm": [truncate(BIG, 1000)]})
        outdir = os.path.join(self.tmp, "out")
        os.makedirs(outdir)
        target = os.path.join(outdir, "filter.wasm")
        old = wasm_module(b"the previous module")
        with open(target, "wb") as f:
            f.write(old)
        for args, code in (([ng.http_url + "/missing.wasm"], 3),
                           (["--sha256", OTHER_DIGEST, ng.http_url + "/hello.wasm"], 5),
                           (["--retries", "1", "--timeout", "10s", fs.url + "/cut.wasm"], 6)):
            with self.subTest(args=args):
                p = self.pull("-o", target, *args)
                self.assertFails(p, code)
                with open(target, "rb") as f:
                    self.assertEqual(f.read(), old, "the -o target was changed")
                self.assertEqual(os.listdir(outdir), ["filter.wasm"], "debris next to -o")


class TestPolicy(HttpCase):

    def test_second_pull_makes_no_request(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        url = ng.http_url + "/hello.wasm"
        first = self.pull_json(url)
        self.assertFalse(first["cached"])
        second = self.pull_json(url)
        self.assertTrue(second["cached"])
        self.assertEqual(second["path"], first["path"])
        self.assertEqual(ng.count("/hello.wasm", method=None), 1, ng.access_log())

    def test_second_pull_makes_no_request_fault_server(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        a = self.assertPulled(self.pull(fs.url + "/m.wasm"), MOD)
        b = self.assertPulled(self.pull(fs.url + "/m.wasm"), MOD)
        self.assertEqual(a, b)
        self.assertEqual(fs.count("/m.wasm"), 1)

    def test_policy_never_miss_is_not_found(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("--policy", "never", ng.http_url + "/hello.wasm")
        self.assertFails(p, 3)
        self.assertEqual(ng.access_log(), [])
        self.assertNothingStored()

    def test_policy_never_hit_uses_cache(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        url = ng.http_url + "/hello.wasm"
        a = self.assertPulled(self.pull(url), MOD)
        b = self.assertPulled(self.pull("--policy", "Never", url), MOD)
        self.assertEqual(a, b)
        self.assertEqual(ng.count("/hello.wasm", method=None), 1)

    def test_policy_always_revalidates_with_304(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        url = ng.http_url + "/hello.wasm"
        first = self.pull_json(url)
        again = self.pull_json("--policy", "always", url)
        self.assertTrue(again["cached"])
        self.assertEqual(again["path"], first["path"])
        self.assertEqual(again["digest"], MOD_DIGEST)
        self.assertEqual([(e.method, e.status) for e in ng.access_log() if e.path == "/hello.wasm"],
                         [("GET", 200), ("GET", 304)])


class TestJson(HttpCase):

    def test_json_fields_http(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        url = ng.http_url + "/hello.wasm"
        out = self.pull_json(url)
        self.assertEqual(set(out), {"source", "digest", "size", "format", "path", "cached"})
        self.assertEqual(out["source"], url)
        self.assertEqual(out["digest"], MOD_DIGEST)
        self.assertEqual(out["size"], len(MOD))
        self.assertEqual(out["format"], "http")
        self.assertIs(out["cached"], False)
        self.assertTrue(os.path.isabs(out["path"]))
        with open(out["path"], "rb") as f:
            self.assertEqual(f.read(), MOD)

    def test_json_fields_file_with_output(self):
        src = os.path.join(self.tmp, "hello.wasm")
        with open(src, "wb") as f:
            f.write(MOD)
        target = os.path.join(self.tmp, "plugin.wasm")
        out = self.pull_json("-o", target, "file://" + src)
        self.assertEqual(set(out), {"source", "digest", "size", "format", "path", "cached",
                                    "output"})
        self.assertEqual(out["source"], "file://" + src)
        self.assertEqual(out["format"], "file")
        self.assertEqual(out["digest"], MOD_DIGEST)
        self.assertEqual(out["size"], len(MOD))
        self.assertEqual(out["output"], target)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), MOD)

    def test_json_with_output_to_stdout_is_usage_error(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        p = self.pull("--json", "-o", "-", ng.http_url + "/hello.wasm")
        self.assertFails(p, 2)
        self.assertEqual(ng.access_log(), [])


class TestConcurrency(HttpCase):

    def test_two_concurrent_pulls_download_once(self):
        fs = self.start_fault({"/slow.wasm": [ok(BIG, duration=1.5)]})
        url = fs.url + "/slow.wasm"
        a = self.wp_bg("pull", "--timeout", "30s", url)
        time.sleep(0.2)
        b = self.wp_bg("pull", "--timeout", "30s", url)
        pa, pb = self.finish(a), self.finish(b)
        path_a = self.assertPulled(pa, BIG)
        path_b = self.assertPulled(pb, BIG)
        self.assertEqual(path_a, path_b)
        self.assertEqual(fs.count("/slow.wasm", method="GET"), 1)


class TestCacheFiles(HttpCase):

    def test_module_read_only_and_folders_0700(self):
        ng = self.nginx_with({"hello.wasm": MOD})
        path = self.assertPulled(self.pull(ng.http_url + "/hello.wasm"), MOD)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        self.assertEqual(mode & 0o222, 0, f"cached module is writable: {oct(mode)}")
        for root, dirs, files in os.walk(self.cache):
            mode = stat.S_IMODE(os.stat(root).st_mode)
            self.assertEqual(mode, 0o700, f"{root} has mode {oct(mode)}")


class TestCommandLine(HttpCase):

    def test_unknown_option_is_usage_error(self):
        self.assertFails(self.pull("--no-such-option", "http://127.0.0.1:9/m.wasm"), 2)
        self.assertFails(self.wp("--no-such-option", "pull", "http://127.0.0.1:9/m.wasm"), 2)

    def test_version_lists_libraries(self):
        with open(os.path.join(SRCDIR, "meson.build")) as f:
            version = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
        p = self.wp("-V", cache=False)
        self.assertExit(p, 0)
        self.assertIn(f"wasmpull {version}", p.stdout)
        low = p.stdout.lower()
        for lib in ("libcurl", "openssl", "cjson", "libarchive"):
            self.assertIn(lib, low, f"-V does not name {lib}" + self._describe(p))

    def test_trace_never_shows_authorization(self):
        fs = self.start_fault({"/m.wasm": [ok(MOD)]})
        p = self.wp("-vv", "pull", "-H", f"Authorization: Bearer {SECRET}", fs.url + "/m.wasm")
        self.assertPulled(p, MOD)
        self.assertEqual(fs.requests[0].headers.get("Authorization"), f"Bearer {SECRET}")
        self.assertIn("/m.wasm", p.stderr, "-vv traced no request" + self._describe(p))
        self.assertNotIn(SECRET, p.stderr)
        self.assertNotIn(SECRET, p.stdout)


if __name__ == "__main__":
    unittest.main()
