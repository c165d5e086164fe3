"""wasmpull cache ls / gc / rm / verify against caches filled by real pulls.

Records are aged by rewriting `last_used` in $CACHE/index/*.json; a module in
use by another process is simulated by a shared flock on its blob, as readers
take one.
"""
import calendar
import fcntl
import glob
import hashlib
import json
import os
import re
import time
import unittest

from harness import WasmpullCase, sha256_hex, wasm_module

DAY = 86400


class CacheCase(WasmpullCase):
    def setUp(self):
        super().setUp()
        self.env["TZ"] = "UTC"

    def module_file(self, name, pad=b""):
        """A distinct module at $TMP/name; returns (path, sha256 hex, bytes)."""
        data = wasm_module(pad + name.encode())
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path, sha256_hex(data), data

    def pulled_twice(self):
        """a.wasm and copy.wasm, the same bytes, both pulled: two sources, one
        module. Returns (a's path, its sha256 hex, copy's path)."""
        a, ha, _ = self.module_file("a.wasm")
        copy = os.path.join(self.tmp, "copy.wasm")
        with open(a, "rb") as f, open(copy, "wb") as g:
            g.write(f.read())
        self.pull("./a.wasm")
        self.pull("./copy.wasm")
        return a, ha, copy

    def pull(self, source):
        r = self.wp("pull", source)
        self.assertExit(r, 0)
        return r.stdout.strip()

    def blob(self, hexd):
        return os.path.join(self.cache, "blobs", "sha256", hexd)

    def record_path(self, source):
        return os.path.join(self.cache, "index", hashlib.sha256(source.encode()).hexdigest() + ".json")

    def records(self):
        out = {}
        for p in glob.glob(os.path.join(self.cache, "index", "*.json")):
            with open(p) as f:
                rec = json.load(f)
            out[rec["source"]] = rec
        return out

    def edit_record(self, source, **fields):
        p = self.record_path(source)
        with open(p) as f:
            rec = json.load(f)
        rec.update(fields)
        with open(p, "w") as f:
            json.dump(rec, f)

    def age(self, source, seconds):
        now = int(time.time())
        self.edit_record(source, last_used=now - seconds, created=now - seconds - 60)

    def ls_json(self):
        r = self.wp("cache", "ls", "--json")
        self.assertExit(r, 0)
        return json.loads(r.stdout)

    def gc_json(self, *args):
        r = self.wp("cache", "gc", "--json", *args)
        self.assertExit(r, 0)
        return json.loads(r.stdout)

    @staticmethod
    def file_key(path):
        return "file://" + os.path.realpath(path)


class LsTest(CacheCase):
    def test_absent_cache_is_empty_and_stays_absent(self):
        r = self.wp("cache", "ls")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.ls_json(), [])
        self.assertEqual(self.gc_json(), {"removed": [], "freed": 0, "kept": 0})
        r = self.wp("cache", "verify", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), {"checked": 0, "corrupt": []})
        self.assertFalse(os.path.exists(self.cache))

    def test_text_and_json(self):
        a, ha, da = self.module_file("a.wasm")
        b, hb, db = self.module_file("b.wasm", pad=b"p" * 3000)
        self.pull("./a.wasm")
        self.pull("file://" + b)
        ka, kb = self.file_key(a), self.file_key(b)
        self.edit_record(ka, created=1795981080, last_used=1795981080)  # 2026-11-29T19:38:00Z
        self.edit_record(kb, created=1795975200, last_used=1795978800)

        rows = self.ls_json()
        self.assertEqual([m["digest"] for m in rows], ["sha256:" + ha, "sha256:" + hb])
        self.assertEqual(set(rows[0]), {"digest", "size", "sources", "created", "last_used", "path"})
        self.assertEqual(rows[0]["size"], len(da))
        self.assertEqual(rows[1]["size"], len(db))
        self.assertEqual(rows[0]["sources"], [ka])
        self.assertEqual(rows[1]["sources"], [kb])
        self.assertEqual(rows[0]["created"], "2026-11-29T19:38:00Z")
        self.assertEqual(rows[0]["last_used"], "2026-11-29T19:38:00Z")
        self.assertEqual(rows[1]["created"], "2026-11-29T18:00:00Z")
        self.assertEqual(rows[1]["last_used"], "2026-11-29T19:00:00Z")
        self.assertEqual(rows[0]["path"], self.blob(ha))
        for row in rows:
            for k in ("created", "last_used"):
                self.assertRegex(row[k], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        r = self.wp("cache", "ls")
        self.assertExit(r, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith("sha256:" + ha[:12] + " "), lines)
        self.assertNotIn(ha[:13], lines[0])
        self.assertIn(" %d B " % len(da), lines[0])
        self.assertIn("2026-11-29 19:38", lines[0])
        self.assertTrue(lines[0].endswith(ka))
        self.assertIn("KiB", lines[1])
        self.assertTrue(lines[1].endswith(kb))

    def test_local_time_in_text(self):
        a, ha, _ = self.module_file("a.wasm")
        self.pull(a)
        self.edit_record(self.file_key(a), last_used=1795981080)
        r = self.wp("cache", "ls", env={"TZ": "Asia/Kolkata"})   # +05:30, no DST
        self.assertExit(r, 0)
        self.assertIn("2026-11-30 01:08", r.stdout)

    def test_two_sources_one_module(self):
        a, ha, copy = self.pulled_twice()
        now = int(time.time())
        self.edit_record(self.file_key(a), created=now - 500, last_used=now - 400)
        self.edit_record(self.file_key(copy), created=now - 300, last_used=now - 200)
        rows = self.ls_json()
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["sources"], sorted([self.file_key(a), self.file_key(copy)]))
        # created is the earliest record, last used the latest
        self.assertEqual(rows[0]["created"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 500)))
        self.assertEqual(rows[0]["last_used"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 200)))
        r = self.wp("cache", "ls")
        self.assertEqual(len(r.stdout.splitlines()), 1)
        self.assertIn(self.file_key(a), r.stdout)
        self.assertIn(self.file_key(copy), r.stdout)

    def test_http_source_listed(self):
        ng = self.start_nginx()
        data = wasm_module(b"over http")
        ng.put("m/filter.wasm", data)
        url = ng.http_url + "/m/filter.wasm"
        self.pull(url)
        rows = self.ls_json()
        self.assertEqual(rows[0]["sources"], [url])
        self.assertEqual(rows[0]["digest"], "sha256:" + sha256_hex(data))

    def test_blob_without_record_listed_by_mtime(self):
        a, ha, _ = self.module_file("a.wasm")
        self.pull(a)
        os.remove(self.record_path(self.file_key(a)))
        os.utime(self.blob(ha), (1795981080, 1795981080))
        rows = self.ls_json()
        self.assertEqual(rows[0]["sources"], [])
        self.assertEqual(rows[0]["last_used"], "2026-11-29T19:38:00Z")


class RmTest(CacheCase):
    def test_source_kept_while_another_uses_it_then_deleted(self):
        a, ha, copy = self.pulled_twice()

        r = self.wp("cache", "rm", "./a.wasm")
        self.assertExit(r, 0)
        self.assertEqual(r.stderr, "")
        self.assertIn("forgot " + self.file_key(a), r.stdout)
        self.assertTrue(os.path.exists(self.blob(ha)))
        self.assertEqual(list(self.records()), [self.file_key(copy)])

        r = self.wp("cache", "rm", "--json", "file://" + copy)
        self.assertExit(r, 0)
        out = json.loads(r.stdout)
        self.assertEqual(out["forgotten"], [self.file_key(copy)])
        self.assertEqual(out["removed"], [{"digest": "sha256:" + ha, "size": os.path.getsize(a)}])
        self.assertFalse(os.path.exists(self.blob(ha)))
        self.assertEqual(self.records(), {})

    def test_source_of_a_deleted_file(self):
        a, ha, _ = self.module_file("a.wasm")
        self.pull("./a.wasm")
        os.remove(a)
        r = self.wp("cache", "rm", "./sub/../a.wasm")
        self.assertExit(r, 0)
        self.assertFalse(os.path.exists(self.blob(ha)))

    def test_digest_removes_module_and_every_record(self):
        for form in ("full", "prefixed", "short"):
            with self.subTest(form=form):
                a, ha, _ = self.module_file("a-%s.wasm" % form)
                copy = a + ".copy"
                with open(a, "rb") as f, open(copy, "wb") as g:
                    g.write(f.read())
                b, hb, _ = self.module_file("b-%s.wasm" % form)
                for p in (a, copy, b):
                    self.pull(p)
                arg = {"full": ha, "prefixed": "sha256:" + ha, "short": ha[:12]}[form]
                r = self.wp("cache", "rm", arg)
                self.assertExit(r, 0)
                self.assertIn("removed sha256:%s " % ha[:12], r.stdout)
                self.assertFalse(os.path.exists(self.blob(ha)))
                self.assertTrue(os.path.exists(self.blob(hb)))
                self.assertEqual(list(self.records()), [self.file_key(b)])
                self.wp("cache", "rm", hb)

    def test_oci_source_normalised(self):
        a, ha, data = self.module_file("a.wasm")
        self.pull(a)
        os.remove(self.record_path(self.file_key(a)))
        now = int(time.time())
        for src in ("oci://127.0.0.1:5000/wasm/spec:v1", "oci://docker.io/library/filter:latest"):
            rec = {"source": src, "digest": "sha256:" + ha, "size": len(data), "created": now,
                   "last_used": now, "checked": now}
            with open(self.record_path(src), "w") as f:
                json.dump(rec, f)
        r = self.wp("cache", "rm", "127.0.0.1:5000/wasm/spec:v1")
        self.assertExit(r, 0)
        self.assertEqual(list(self.records()), ["oci://docker.io/library/filter:latest"])
        self.assertTrue(os.path.exists(self.blob(ha)))
        r = self.wp("cache", "rm", "filter")
        self.assertExit(r, 0)
        self.assertEqual(self.records(), {})
        self.assertFalse(os.path.exists(self.blob(ha)))

    def test_unknown_is_3_after_the_others(self):
        a, ha, _ = self.module_file("a.wasm")
        self.pull(a)
        r = self.wp("cache", "rm", "sha256:" + "0" * 64, a, "nothing/here:v1")
        self.assertFails(r, 3)
        self.assertIn("nothing/here:v1", r.stderr)
        self.assertFalse(os.path.exists(self.blob(ha)))
        self.assertFails(self.wp("cache", "rm", "abcdef0123456"), 3)

    def test_usage_errors(self):
        self.assertFails(self.wp("cache", "rm"), 2)
        self.assertFails(self.wp("cache", "rm", "sha256:xyz"), 2)
        self.assertFails(self.wp("cache", "rm", "Bad//Ref"), 2)


class GcTest(CacheCase):
    def fill(self, n, pad=0):
        """n modules pulled from files; returns [(key, hex, size)]."""
        out = []
        for i in range(n):
            p, h, d = self.module_file("m%d.wasm" % i, pad=b"z" * pad)
            self.pull(p)
            out.append((self.file_key(p), h, len(d)))
        return out

    def test_older_than(self):
        (k0, h0, s0), (k1, h1, s1), (k2, h2, _) = self.fill(3)
        self.age(k0, 2 * DAY)
        self.age(k1, 3 * 3600)
        out = self.gc_json()   # default 24h
        self.assertEqual(out, {"removed": [{"digest": "sha256:" + h0, "size": s0}],
                               "freed": s0, "kept": 2})
        self.assertFalse(os.path.exists(self.blob(h0)))
        self.assertNotIn(k0, self.records())
        r = self.wp("cache", "gc", "--older-than", "2h")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout.splitlines(), ["removed sha256:%s %d B" % (h1[:12], s1)])
        self.assertTrue(os.path.exists(self.blob(h2)))
        self.assertEqual(list(self.records()), [k2])

    def test_shared_module_kept_while_one_source_is_recent(self):
        a, ha, _ = self.module_file("a.wasm")
        copy = a + ".copy"
        with open(a, "rb") as f, open(copy, "wb") as g:
            g.write(f.read())
        self.pull(a)
        self.pull(copy)
        self.age(self.file_key(a), 3 * DAY)
        self.assertEqual(self.gc_json()["removed"], [])
        self.age(self.file_key(copy), 3 * DAY)
        self.assertEqual(len(self.gc_json()["removed"]), 1)
        self.assertEqual(self.records(), {})

    def test_max_size_removes_least_recently_used(self):
        mods = self.fill(4, pad=2000)
        for i, (k, _, _) in enumerate(mods):
            self.age(k, 3600 * (4 - i))   # m0 oldest ... m3 newest
        size = mods[0][2]
        out = self.gc_json("--max-size", str(2 * size))
        self.assertEqual([m["digest"] for m in out["removed"]],
                         ["sha256:" + mods[0][1], "sha256:" + mods[1][1]])
        self.assertEqual(out["freed"], 2 * size)
        self.assertEqual(out["kept"], 2)
        self.assertEqual(sorted(self.records()), sorted([mods[2][0], mods[3][0]]))
        self.assertEqual(self.gc_json("--max-size", "1M")["removed"], [])

    def test_dry_run_changes_nothing(self):
        mods = self.fill(2)
        self.age(mods[0][0], 2 * DAY)
        part = os.path.join(self.cache, "tmp", "12345-deadbeef.part")
        with open(part, "wb") as f:
            f.write(b"\0asm" + b"x" * 96)
        before = {p: os.stat(p).st_mtime_ns for p in self.cache_files()}
        r = self.wp("cache", "gc", "--dry-run", "--max-size", "1")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout.splitlines(),
                         ["would remove sha256:%s %d B" % (h[:12], s) for _, h, s in mods])
        out = self.gc_json("--dry-run")
        self.assertEqual(out["removed"], [{"digest": "sha256:" + mods[0][1], "size": mods[0][2]}])
        self.assertEqual(out["freed"], mods[0][2] + 100)
        self.assertEqual(out["kept"], 1)
        self.assertEqual({p: os.stat(p).st_mtime_ns for p in self.cache_files()}, before)

    def test_debris_unreferenced_blobs_and_dangling_records(self):
        (k0, h0, s0), (k1, h1, s1), (k2, h2, _) = self.fill(3)
        part = os.path.join(self.cache, "tmp", "999999-0badf00d.part")
        with open(part, "wb") as f:
            f.write(b"y" * 1000)
        os.remove(self.record_path(k0))                 # h0: no record points at it
        os.chmod(self.blob(h1), 0o644)
        os.remove(self.blob(h1))                        # k1: points at nothing
        out = self.gc_json()
        self.assertEqual(out["removed"], [{"digest": "sha256:" + h0, "size": s0}])
        self.assertEqual(out["freed"], s0 + 1000)
        self.assertEqual(out["kept"], 1)
        self.assertFalse(os.path.exists(part))
        self.assertFalse(os.path.exists(self.blob(h0)))
        self.assertEqual(list(self.records()), [k2])
        self.assertEqual(self.gc_json(), {"removed": [], "freed": 0, "kept": 1})

    def test_summary_on_stderr_at_verbose(self):
        (k0, h0, s0), = self.fill(1)
        self.age(k0, 2 * DAY)
        r = self.wp("-v", "cache", "gc")
        self.assertExit(r, 0)
        self.assertIn("removed sha256:" + h0[:12], r.stdout)
        self.assertRegex(r.stderr, r"freed %d B: 1 module, 0 debris files; 0 modules kept" % s0)
        r = self.wp("cache", "gc")
        self.assertEqual(r.stderr, "")

    def test_module_held_by_another_process_is_kept(self):
        (k0, h0, s0), (k1, h1, s1) = self.fill(2)
        self.age(k0, 2 * DAY)
        self.age(k1, 2 * DAY)
        fd = os.open(self.blob(h0), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            out = self.gc_json("--dry-run")
            self.assertEqual(out["removed"], [{"digest": "sha256:" + h1, "size": s1}])
            out = self.gc_json()
            self.assertEqual(out, {"removed": [{"digest": "sha256:" + h1, "size": s1}],
                                   "freed": s1, "kept": 1})
            self.assertTrue(os.path.exists(self.blob(h0)))
            self.assertIn(k0, self.records())
            # held and unreferenced: still kept
            os.remove(self.record_path(k0))
            self.assertEqual(self.gc_json()["kept"], 1)
            self.assertTrue(os.path.exists(self.blob(h0)))
            # rm of a held module forgets it but leaves the file
            r = self.wp("cache", "rm", h0)
            self.assertExit(r, 0)
            self.assertTrue(os.path.exists(self.blob(h0)))
        finally:
            os.close(fd)
        self.assertEqual(self.gc_json()["removed"], [{"digest": "sha256:" + h0, "size": s0}])
        self.assertFalse(os.path.exists(self.blob(h0)))

    def test_bad_values(self):
        for args in (("--older-than", "soon"), ("--max-size", "big"), ("--bogus",), ("extra",)):
            with self.subTest(args=args):
                self.assertFails(self.wp("cache", "gc", *args), 2)


class VerifyTest(CacheCase):
    def test_clean(self):
        for name in ("a.wasm", "b.wasm"):
            self.pull(self.module_file(name)[0])
        r = self.wp("cache", "verify", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), {"checked": 2, "corrupt": []})
        r = self.wp("cache", "verify")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "")

    def corrupt(self, hexd):
        p = self.blob(hexd)
        os.chmod(p, 0o644)
        with open(p, "r+b") as f:
            f.seek(8)
            b = f.read(1)
            f.seek(8)
            f.write(bytes([b[0] ^ 0xFF]))

    def test_corrupt_reported_removed_and_pulled_again(self):
        a, ha, _ = self.module_file("a.wasm")
        b, hb, _ = self.module_file("b.wasm")
        c, hc, _ = self.module_file("c.wasm")
        for p in (a, b, c):
            self.pull(p)
        self.corrupt(ha)
        self.corrupt(hc)
        r = self.wp("cache", "verify")
        self.assertFails(r, 5)
        self.assertIn("2 corrupt modules removed", r.stderr)
        self.assertEqual(sorted(r.stdout.splitlines()),
                         sorted("corrupt sha256:%s %s" % (h[:12], self.blob(h)) for h in (ha, hc)))
        self.assertFalse(os.path.exists(self.blob(ha)))
        self.assertFalse(os.path.exists(self.blob(hc)))
        self.assertEqual(list(self.records()), [self.file_key(b)])
        r = self.wp("cache", "verify", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), {"checked": 1, "corrupt": []})
        # a pull fetches it again
        path = self.pull(a)
        self.assertEqual(path, self.blob(ha))
        with open(path, "rb") as f:
            self.assertEqual(sha256_hex(f.read()), ha)

    def test_json_and_wrong_size_record(self):
        a, ha, data = self.module_file("a.wasm")
        self.pull(a)
        self.edit_record(self.file_key(a), size=len(data) + 1)
        r = self.wp("cache", "verify", "--json")
        self.assertFails(r, 5)
        self.assertEqual(json.loads(r.stdout),
                         {"checked": 1, "corrupt": [{"digest": "sha256:" + ha, "path": self.blob(ha)}]})
        self.assertEqual(self.records(), {})

    def test_planted_symlink_is_corrupt_and_target_untouched(self):
        a, ha, data = self.module_file("a.wasm")
        self.pull(a)
        target = os.path.join(self.tmp, "precious.wasm")
        with open(target, "wb") as f:
            f.write(data)
        os.chmod(self.blob(ha), 0o644)
        os.remove(self.blob(ha))
        os.symlink(target, self.blob(ha))
        r = self.wp("cache", "verify")
        self.assertFails(r, 5)
        self.assertIn("corrupt sha256:" + ha[:12], r.stdout)
        self.assertFalse(os.path.lexists(self.blob(ha)))
        self.assertTrue(os.path.exists(target))
        self.assertEqual(self.records(), {})


class StrayTest(CacheCase):
    def test_gc_removes_stray_names_and_links_but_not_their_targets(self):
        target = os.path.join(self.tmp, "keep.txt")
        with open(target, "w") as f:
            f.write("keep")
        self.pull(self.module_file("a.wasm")[0])
        blobs = os.path.join(self.cache, "blobs", "sha256")
        with open(os.path.join(blobs, "junk"), "wb") as f:
            f.write(b"j" * 10)
        os.symlink(target, os.path.join(blobs, "f" * 64))
        self.assertEqual(len(self.ls_json()), 1)
        out = self.gc_json()
        self.assertEqual(out["removed"], [])
        self.assertEqual(out["freed"], 10)
        self.assertEqual(out["kept"], 1)
        self.assertEqual(len(os.listdir(blobs)), 1)
        self.assertTrue(os.path.exists(target))


class GroupTest(CacheCase):
    def test_usage(self):
        self.assertFails(self.wp("cache"), 2)
        self.assertFails(self.wp("cache", "frobnicate"), 2)
        self.assertFails(self.wp("cache", "--bogus", "ls"), 2)
        self.assertFails(self.wp("cache", "ls", "extra"), 2)
        for args in (("help", "cache"), ("cache", "--help"), ("--help", "cache"), ("cache", "-h")):
            with self.subTest(args=args):
                r = self.wp(*args)
                self.assertExit(r, 0)
                for sub in ("ls", "gc", "rm", "verify"):
                    self.assertRegex(r.stdout, r"(?m)^\s+%s\s" % sub)
        r = self.wp("cache", "gc", "--help")
        self.assertExit(r, 0)
        self.assertIn("--older-than", r.stdout)

    def test_global_options_around_the_subcommand(self):
        a, ha, _ = self.module_file("a.wasm")
        self.pull(a)
        other = os.path.join(self.tmp, "elsewhere")
        for argv in (("cache", "-C", self.cache, "ls"), ("cache", "ls", "--cache-dir", self.cache)):
            with self.subTest(argv=argv):
                r = self.wp(*argv, env={"WASMPULL_CACHE_DIR": other}, cache=False)
                self.assertExit(r, 0)
                self.assertIn(ha[:12], r.stdout)


if __name__ == "__main__":
    unittest.main()
