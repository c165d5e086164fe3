"""Processes sharing one cache (DESIGN "Cache"): gc running while pulls
publish, and a pull killed with SIGKILL mid-download.
Run: WASMPULL=build/wasmpull python3 tests/cli/test_concurrency.py -v
"""
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import WasmpullCase, sha256_hex, wasm_module  # noqa: E402
from fault_server import stall  # noqa: E402

BIG = wasm_module(bytes(range(256)) * 512)


class SharedCache(WasmpullCase):

    def test_gc_in_a_loop_never_breaks_a_pull(self):
        files = []
        for i in range(3):
            path = os.path.join(self.tmp, f"m{i}.wasm")
            with open(path, "wb") as f:
                f.write(wasm_module(b"module %d " % i * 64))
            files.append(path)
        stop = threading.Event()
        failures = []

        def gc_loop():
            while not stop.is_set():
                self.wp("cache", "gc", "--older-than", "1s", "--max-size", "1")

        def pull_loop(path):
            for _ in range(25):
                p = self.wp("pull", path)
                if p.returncode != 0:
                    failures.append(p.stderr)

        gc = threading.Thread(target=gc_loop)
        gc.start()
        pullers = [threading.Thread(target=pull_loop, args=(f,)) for f in files]
        for t in pullers:
            t.start()
        for t in pullers:
            t.join()
        stop.set()
        gc.join()
        self.assertEqual(failures, [])

    def test_kill_9_mid_download_leaves_a_usable_cache(self):
        fs = self.start_fault({"/m.wasm": [stall(BIG, sent=4096, seconds=30)]})
        p = self.wp_bg("pull", fs.url + "/m.wasm")
        deadline = time.time() + 10
        tmpdir = os.path.join(self.cache, "tmp")
        while time.time() < deadline and not (os.path.isdir(tmpdir) and os.listdir(tmpdir)):
            time.sleep(0.05)
        time.sleep(0.2)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertTrue(os.listdir(tmpdir), "the killed pull left no temp file to test with")
        # the next run neither fails nor serves a bad module
        fs.set("/m.wasm", [dict(kind="reply", status=200, body=BIG, headers={}, duration=0.0)])
        q = self.wp("pull", "--json", fs.url + "/m.wasm")
        self.assertExit(q, 0)
        self.assertIn("sha256:" + sha256_hex(BIG), q.stdout)
        g = self.wp("cache", "gc", "--json")
        self.assertExit(g, 0)
        self.assertEqual(os.listdir(tmpdir), [])

    def test_sigterm_mid_download_leaves_no_temp_file(self):
        fs = self.start_fault({"/m.wasm": [stall(BIG, sent=4096, seconds=30)]})
        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        p = self.wp_bg("pull", "-o", os.path.join(out, "m.wasm"), fs.url + "/m.wasm")
        tmpdir = os.path.join(self.cache, "tmp")
        deadline = time.time() + 10
        while time.time() < deadline and not (os.path.isdir(tmpdir) and os.listdir(tmpdir)):
            time.sleep(0.05)
        self.assertTrue(os.listdir(tmpdir))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        self.assertEqual(p.returncode, -signal.SIGTERM)
        self.assertEqual(os.listdir(tmpdir), [])
        self.assertEqual(os.listdir(out), [])

    def test_sigterm_mid_inspect_leaves_no_scratch_folder(self):
        fs = self.start_fault({"/m.wasm": [stall(BIG, sent=4096, seconds=30)]})
        scratch = os.path.join(self.tmp, "scratch")
        os.mkdir(scratch)
        p = self.wp_bg("inspect", fs.url + "/m.wasm", env={"TMPDIR": scratch})
        deadline = time.time() + 10
        while time.time() < deadline and fs.count("/m.wasm") == 0:
            time.sleep(0.05)
        time.sleep(0.3)
        self.assertTrue(os.listdir(scratch))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        self.assertEqual(os.listdir(scratch), [])

    def test_gc_keeps_a_module_an_output_copy_is_reading(self):
        path = os.path.join(self.tmp, "m.wasm")
        with open(path, "wb") as f:
            f.write(BIG)
        self.assertExit(self.wp("pull", path), 0)
        # a slow reader of stdout holds the module while gc runs
        # (the module is larger than a pipe buffer: the pull blocks writing it)
        p = subprocess.Popen(self._argv(("pull", "-o", "-", path), True), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=self._env(None))
        time.sleep(0.5)
        g = self.wp("cache", "gc", "--older-than", "1s", "--max-size", "1", "--json")
        self.assertExit(g, 0)
        out = p.stdout.read()
        p.stdout.close()
        p.wait()
        self.assertEqual(out, BIG)
        self.assertIn('"removed":[]', g.stdout)

    def test_planted_symlink_is_not_followed(self):
        path = os.path.join(self.tmp, "m.wasm")
        with open(path, "wb") as f:
            f.write(BIG)
        p = self.wp("pull", "--policy", "if-not-present", "--json", "file://" + path)
        self.assertExit(p, 0)
        blob = os.path.join(self.cache, "blobs", "sha256", sha256_hex(BIG))
        bait = os.path.join(self.tmp, "bait.wasm")
        with open(bait, "wb") as f:
            f.write(wasm_module(b"not the module"))
        os.chmod(os.path.dirname(blob), 0o700)
        os.unlink(blob)
        os.symlink(bait, blob)
        http = self.start_fault({"/m.wasm": [dict(kind="reply", status=200, body=BIG, headers={},
                                                  duration=0.0)]})
        for source in (http.url + "/m.wasm", http.url + "/m.wasm"):
            q = self.wp("pull", "--sha256", sha256_hex(BIG), source)
            self.assertExit(q, 0)
        self.assertFalse(os.path.islink(blob))
        with open(blob, "rb") as f:
            self.assertEqual(f.read(), BIG)
        with open(bait, "rb") as f:
            self.assertEqual(f.read(), wasm_module(b"not the module"))

    def corrupt(self, data):
        blob = os.path.join(self.cache, "blobs", "sha256", sha256_hex(data))
        os.chmod(blob, 0o600)
        with open(blob, "r+b") as f:
            f.seek(len(data) // 2)
            f.write(b"\xff")
        os.chmod(blob, 0o444)

    def test_corrupt_hit_is_fetched_again(self):
        fs = self.start_fault({"/m.wasm": [dict(kind="reply", status=200, body=BIG, headers={},
                                                duration=0.0)]})
        self.assertExit(self.wp("pull", fs.url + "/m.wasm"), 0)
        self.corrupt(BIG)
        p = self.wp("pull", "--json", fs.url + "/m.wasm")
        self.assertExit(p, 0)
        self.assertIn('"cached":false', p.stdout)
        self.assertEqual(fs.count("/m.wasm"), 2)
        with open(os.path.join(self.cache, "blobs", "sha256", sha256_hex(BIG)), "rb") as f:
            self.assertEqual(f.read(), BIG)

    def test_corrupt_hit_then_failed_fetch_is_one_line(self):
        fs = self.start_fault({"/m.wasm": [dict(kind="reply", status=200, body=BIG, headers={},
                                                duration=0.0),
                                           dict(kind="reply", status=404, body=b"", headers={},
                                                duration=0.0)]})
        self.assertExit(self.wp("pull", fs.url + "/m.wasm"), 0)
        self.corrupt(BIG)
        self.assertFails(self.wp("pull", fs.url + "/m.wasm"), 3)

    def test_corrupt_hit_under_never_is_5(self):
        fs = self.start_fault({"/m.wasm": [dict(kind="reply", status=200, body=BIG, headers={},
                                                duration=0.0)]})
        self.assertExit(self.wp("pull", fs.url + "/m.wasm"), 0)
        self.corrupt(BIG)
        p = self.wp("pull", "--policy", "never", fs.url + "/m.wasm")
        self.assertFails(p, 5)
        self.assertIn("corrupt", p.stderr)
        self.assertEqual(fs.count("/m.wasm"), 1)


class FullDisk(WasmpullCase):
    """A small tmpfs stands in for a full disk (root only; skipped elsewhere)."""

    def setUp(self):
        super().setUp()
        self.full = os.path.join(self.tmp, "full")
        os.mkdir(self.full)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", self.full],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.full])
        self.module = os.path.join(self.tmp, "big.wasm")
        with open(self.module, "wb") as f:
            f.write(wasm_module(b"x" * (1 << 20)))

    def test_full_cache_is_exit_1_and_leaves_no_debris(self):
        cache = os.path.join(self.full, "cache")
        p = self.wp("-C", cache, "pull", self.module, cache=False)
        self.assertFails(p, 1)
        self.assertIn("No space left", p.stderr)
        self.assertEqual(os.listdir(os.path.join(cache, "tmp")), [])
        self.assertEqual(os.listdir(os.path.join(cache, "blobs", "sha256")), [])

    def test_full_output_disk_leaves_the_target_as_it_was(self):
        target = os.path.join(self.full, "filter.wasm")
        with open(target, "wb") as f:
            f.write(b"previous module")
        p = self.wp("pull", "-o", target, self.module)
        self.assertFails(p, 1)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"previous module")
        self.assertEqual(os.listdir(self.full), ["filter.wasm"])


if __name__ == "__main__":
    unittest.main()
