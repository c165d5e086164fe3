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


if __name__ == "__main__":
    unittest.main()
