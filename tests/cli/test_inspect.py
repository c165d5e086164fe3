"""wasmpull inspect: files, HTTP via nginx, and OCI artifacts and indexes on a
plain CNCF distribution registry on loopback. Inspect must describe what it
finds and store nothing in the cache.
Run: WASMPULL=build/wasmpull python3 tests/cli/test_inspect.py -v
"""
import gzip
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oci_rig as R  # noqa: E402
from harness import WasmpullCase, leb128, sha256_hex, wasm_module  # noqa: E402

REG = None
FX = {}   # name -> Fixture pushed as wasm/NAME:v1


def _sec(sid, payload):
    return bytes([sid]) + leb128(len(payload)) + payload


def _name(s):
    b = s.encode()
    return leb128(len(b)) + b


def proxy_module():
    """A core module that imports wasi_snapshot_preview1.proc_exit, a global
    and a memory from env, and exports add, proxy_abi_version_0_2_1 and the
    memory; two custom sections."""
    types = _sec(1, leb128(3) + b"\x60\x01\x7f\x00"            # (i32) -> ()
                 + b"\x60\x02\x7f\x7f\x01\x7f"                  # (i32 i32) -> i32
                 + b"\x60\x00\x00")                             # () -> ()
    imports = _sec(2, leb128(3)
                   + _name("wasi_snapshot_preview1") + _name("proc_exit") + b"\x00\x00"
                   + _name("env") + _name("g") + b"\x03\x7f\x00"
                   + _name("env") + _name("mem") + b"\x02\x00\x01")
    funcs = _sec(3, leb128(2) + b"\x01\x02")
    exports = _sec(7, leb128(3)
                   + _name("add") + b"\x00\x01"
                   + _name("proxy_abi_version_0_2_1") + b"\x00\x02"
                   + _name("memory") + b"\x02\x00")
    add = b"\x00\x20\x00\x20\x01\x6a\x0b"
    nop = b"\x00\x0b"
    code = _sec(10, leb128(2) + leb128(len(add)) + add + leb128(len(nop)) + nop)
    note = _sec(0, _name("wasmpull-note") + b"hello")
    producers = _sec(0, _name("producers") + b"\x00")
    return b"\0asm\x01\x00\x00\x00" + types + imports + funcs + exports + code + note + producers


PROXY = proxy_module()
# a custom section's size is its whole payload, name included
NOTE_SIZE = len(_name("wasmpull-note")) + 5
PRODUCERS_SIZE = len(_name("producers")) + 1


def setUpModule():
    global REG
    try:
        REG = R.Registry("plain", harness.shared_certs())
        FX["cncf"] = R.cncf(PROXY)
        FX["index"] = R.index([(R.platform("linux", "amd64"), R.compat(wasm_module(b"amd64"))),
                               (R.platform("wasip1", "wasm"), R.cncf(wasm_module(b"wasip1")))])
        FX["unknown-mt"] = R.bad_unknown_media_type(wasm_module(b"unknown"))
        for name, f in FX.items():
            R.push_fixture(REG, "wasm/" + name, "v1", f)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if REG is not None:
        REG.cleanup()


class InspectCase(WasmpullCase):

    def setUp(self):
        super().setUp()
        # inspect's private temp folders go here, so a leftover is visible
        self.tmpdir = os.path.join(self.tmp, "tmpdir")
        os.makedirs(self.tmpdir)
        self.env["TMPDIR"] = self.tmpdir

    def ref(self, name, tag="v1"):
        return f"oci://{REG.host}/wasm/{name}:{tag}"

    def inspect(self, *args, **kw):
        return self.wp("inspect", "--plain-http", *args, **kw)

    def inspect_json(self, *args, **kw):
        p = self.inspect("--json", *args, **kw)
        self.assertExit(p, 0)
        self.assertEqual(p.stderr, "")
        return json.loads(p.stdout)

    def assertLeftNothing(self):
        self.assertEqual(self.cache_files(), [], "inspect stored something in the cache")
        self.assertEqual(os.listdir(self.tmpdir), [], "inspect left its temp folder behind")

    def put_file(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def assertProxyModule(self, m, data=PROXY):
        self.assertEqual(m["digest"], "sha256:" + sha256_hex(data))
        self.assertEqual(m["size"], len(data))
        self.assertEqual(m["kind"], "module")
        self.assertEqual(m["version"], 1)
        self.assertEqual(m["imports"], [
            {"module": "wasi_snapshot_preview1", "name": "proc_exit", "kind": "func"},
            {"module": "env", "name": "g", "kind": "global"},
            {"module": "env", "name": "mem", "kind": "memory"}])
        self.assertEqual(m["exports"], [
            {"name": "add", "kind": "func"},
            {"name": "proxy_abi_version_0_2_1", "kind": "func"},
            {"name": "memory", "kind": "memory"}])
        self.assertEqual(m["custom_sections"], [{"name": "wasmpull-note", "size": NOTE_SIZE},
                                                {"name": "producers", "size": PRODUCERS_SIZE}])
        self.assertEqual(sorted(m["targets"]), ["proxy-wasm/0.2.1", "wasi_snapshot_preview1"])


class FileAndHttp(InspectCase):

    def test_file_json(self):
        path = self.put_file("proxy.wasm", PROXY)
        for src in (path, "file://" + path):
            with self.subTest(src=src):
                j = self.inspect_json(src)
                self.assertEqual(j["source"], src)
                self.assertEqual(j["format"], "file")
                self.assertEqual(set(j), {"source", "format", "module"})
                self.assertProxyModule(j["module"])
        self.assertFalse(os.path.exists(self.cache), "inspect created the cache")
        self.assertLeftNothing()

    def test_file_text(self):
        path = self.put_file("proxy.wasm", PROXY)
        p = self.inspect(path)
        self.assertExit(p, 0)
        out = p.stdout
        self.assertIn("wasi_snapshot_preview1: proc_exit (func)\n", out)
        self.assertIn("env: g (global), mem (memory)\n", out)
        self.assertIn("    add (func)\n", out)
        self.assertIn("    proxy_abi_version_0_2_1 (func)\n", out)
        self.assertIn(f"    wasmpull-note {NOTE_SIZE} bytes\n", out)
        self.assertIn("proxy-wasm/0.2.1", out)
        self.assertIn("sha256:" + sha256_hex(PROXY), out)
        self.assertRegex(out, r"\n  Kind: +module\n")
        self.assertLeftNothing()

    def test_gzipped_file_shows_the_module(self):
        path = self.put_file("proxy.wasm.gz", gzip.compress(PROXY, mtime=0))
        j = self.inspect_json(path)
        self.assertProxyModule(j["module"])
        p = self.inspect(path)
        self.assertExit(p, 0)
        self.assertIn("Unpacked from: sha256:" + sha256_hex(read(path)), p.stdout)
        self.assertLeftNothing()

    def test_component(self):
        comp = R.component_bytes(b"x")
        j = self.inspect_json(self.put_file("c.wasm", comp))
        self.assertEqual(j["module"]["kind"], "component")
        self.assertEqual(j["module"]["version"], 0x0d)

    def test_http(self):
        ng = self.start_nginx()
        ng.put("m/proxy.wasm", PROXY)
        url = ng.http_url + "/m/proxy.wasm"
        j = self.inspect_json(url)
        self.assertEqual(j["source"], url)
        self.assertEqual(j["format"], "http")
        self.assertProxyModule(j["module"])
        self.assertLeftNothing()

    def test_http_404(self):
        ng = self.start_nginx()
        p = self.inspect(ng.http_url + "/m/missing.wasm")
        self.assertFails(p, 3)
        self.assertIn("404", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertLeftNothing()

    def test_not_wasm_file(self):
        p = self.inspect(self.put_file("notes.txt", b"hello world, not wasm\n"))
        self.assertFails(p, 5)
        self.assertIn("not a Wasm module", p.stderr)
        self.assertLeftNothing()

    def test_broken_module(self):
        # a good header, then a section that claims more bytes than there are
        p = self.inspect(self.put_file("broken.wasm", b"\0asm\x01\0\0\0\x01\x05\x00"))
        self.assertFails(p, 5)
        self.assertRegex(p.stderr, "not a (valid|complete) Wasm module")
        self.assertLeftNothing()

    def test_missing_file(self):
        p = self.inspect(os.path.join(self.tmp, "nope.wasm"))
        self.assertFails(p, 3)
        self.assertIn("nope.wasm", p.stderr)

    def test_usage(self):
        path = self.put_file("proxy.wasm", PROXY)
        self.assertFails(self.inspect("--raw", path), 2)
        self.assertFails(self.inspect("--raw", "--json", self.ref("cncf")), 2)
        self.assertFails(self.inspect("--bogus", path), 2)
        self.assertFails(self.inspect(), 2)
        self.assertFails(self.inspect("oci://Bad Ref"), 2)


class Oci(InspectCase):

    def test_cncf_json(self):
        fx = FX["cncf"]
        j = self.inspect_json(self.ref("cncf"))
        doc = json.loads(fx.manifest)
        self.assertEqual(j["source"], self.ref("cncf"))
        self.assertEqual(j["reference"], f"{REG.host}/wasm/cncf:v1")
        self.assertEqual(j["manifest_digest"], fx.digest)
        self.assertEqual(j["media_type"], R.OCI_MANIFEST)
        self.assertEqual(j["format"], "cncf")
        self.assertEqual(j["platforms"], [])
        self.assertNotIn("selected", j)
        cfg = doc["config"]
        self.assertEqual(j["config"], {"media_type": cfg["mediaType"], "digest": cfg["digest"],
                                       "size": cfg["size"],
                                       "content": json.loads(fx.blobs[cfg["digest"]])})
        self.assertEqual(j["layers"], [{"media_type": "application/wasm",
                                        "digest": "sha256:" + sha256_hex(PROXY),
                                        "size": len(PROXY),
                                        "annotations": {"org.opencontainers.image.title":
                                                        "module.wasm"}}])
        self.assertEqual(j["annotations"], {"org.opencontainers.image.created": R.CREATED})
        self.assertProxyModule(j["module"])
        self.assertLeftNothing()

    def test_index(self):
        fx = FX["index"]
        (amd64, compat), (wasip1, cncf) = fx.children
        j = self.inspect_json(self.ref("index"))
        self.assertEqual(j["manifest_digest"], fx.digest)
        self.assertEqual(j["media_type"], R.OCI_INDEX)
        self.assertEqual(j["platforms"], [{"os": "linux", "architecture": "amd64"},
                                          {"os": "wasip1", "architecture": "wasm"}])
        self.assertEqual(j["selected"], {"digest": cncf.digest, "media_type": R.OCI_MANIFEST,
                                         "platform": {"os": "wasip1", "architecture": "wasm"}})
        self.assertEqual(j["format"], "cncf")
        self.assertEqual(j["layers"][0]["digest"], cncf.module_digest)
        self.assertEqual(j["module"]["digest"], cncf.module_digest)

        j = self.inspect_json("--platform", "linux/amd64", self.ref("index"))
        self.assertEqual(j["manifest_digest"], fx.digest)
        self.assertEqual(j["selected"]["digest"], compat.digest)
        self.assertEqual(j["selected"]["platform"], {"os": "linux", "architecture": "amd64"})
        self.assertEqual(j["format"], "compat")
        self.assertEqual(j["config"]["content"]["architecture"], "amd64")
        # the module unpacked from the tar+gzip layer
        self.assertEqual(j["module"]["digest"], compat.module_digest)
        self.assertLeftNothing()

    def test_index_text(self):
        fx = FX["index"]
        cncf = fx.children[1][1]
        p = self.inspect(self.ref("index"))
        self.assertExit(p, 0)
        out = p.stdout
        self.assertRegex(out, rf"\nDigest: +{fx.digest}\n")
        self.assertIn("Platforms:\n", out)
        self.assertRegex(out, r"\n  \* wasip1/wasm  sha256:%s  .*\(selected\)\n"
                         % cncf.digest[7:19])
        self.assertRegex(out, r"\n    linux/amd64  sha256:")
        self.assertRegex(out, r"\nFormat: +cncf\n")
        self.assertIn("Module:\n", out)
        self.assertRegex(out, rf"\n  SHA-256: +{cncf.module_digest}\n")

    def test_raw_is_byte_exact(self):
        for name in ("cncf", "index"):
            with self.subTest(name=name):
                p = self.inspect("--raw", self.ref(name), text=False)
                self.assertExit(p, 0)
                self.assertEqual(p.stdout, FX[name].manifest)
        self.assertLeftNothing()

    def test_raw_prints_an_index_no_entry_of_which_matches(self):
        p = self.inspect("--raw", "--platform", "wasip2/wasm", self.ref("index"), text=False)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout, FX["index"].manifest)

    def test_metadata_only_downloads_no_module(self):
        mark = REG.mark()
        j = self.inspect_json("--metadata-only", self.ref("cncf"))
        reqs = REG.access_log(mark)
        # the config blob is metadata; the module layer is not fetched
        blobs = R.blob_requests(reqs, method=None)
        self.assertEqual([b.path.rsplit("/", 1)[1] for b in blobs], [j["config"]["digest"]], reqs)
        self.assertTrue(R.manifest_requests(reqs))
        self.assertIsNone(j["module"])
        self.assertEqual(j["config"]["content"]["architecture"], "wasm")
        self.assertEqual(j["format"], "cncf")
        self.assertEqual(j["manifest_digest"], FX["cncf"].digest)
        self.assertLeftNothing()

    def test_reads_a_cached_module_without_download(self):
        p = self.wp("pull", "--plain-http", self.ref("cncf"))
        self.assertExit(p, 0)
        before = {f: os.stat(f).st_mtime_ns for f in self.cache_files()}
        mark = REG.mark()
        j = self.inspect_json(self.ref("cncf"))
        reqs = REG.access_log(mark)
        layer = "sha256:" + sha256_hex(PROXY)
        self.assertEqual([r for r in R.blob_requests(reqs) if layer in r.path], [], reqs)
        self.assertProxyModule(j["module"])
        self.assertEqual({f: os.stat(f).st_mtime_ns for f in self.cache_files()}, before)
        self.assertEqual(os.listdir(self.tmpdir), [])

    def test_missing_tag(self):
        p = self.inspect(self.ref("cncf", tag="nope"))
        self.assertFails(p, 3)
        self.assertIn("nope", p.stderr)
        self.assertEqual(p.stdout, "")
        p = self.inspect(f"oci://{REG.host}/wasm/no-such-repo:v1")
        self.assertFails(p, 3)

    def test_no_module_layer(self):
        # the rest is shown, then the reason there is no module: exit 5
        p = self.inspect("--json", self.ref("unknown-mt"))
        self.assertFails(p, 5)
        self.assertIn("application/vnd.example.unknown.layer.v1", p.stderr)
        j = json.loads(p.stdout)
        self.assertIsNone(j["format"])
        self.assertIsNone(j["module"])
        self.assertEqual(j["manifest_digest"], FX["unknown-mt"].digest)
        # without the module it is not needed
        p = self.inspect("--metadata-only", self.ref("unknown-mt"))
        self.assertExit(p, 0)
        self.assertRegex(p.stdout, r"\nFormat: +unknown \(.*application/vnd.example")
        self.assertLeftNothing()

    def test_platform_not_in_index(self):
        p = self.inspect("--platform", "linux/s390x", self.ref("index"))
        self.assertFails(p, 3)
        self.assertIn("linux/amd64", p.stderr)


def read(path):
    with open(path, "rb") as f:
        return f.read()


if __name__ == "__main__":
    unittest.main()
