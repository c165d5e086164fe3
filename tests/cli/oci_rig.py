"""OCI rig for the command-line tests: real CNCF distribution registries and a
token server on loopback, byte-exact pushes, and deterministic Wasm-in-OCI
fixtures in every format wasmpull reads.

Standard library only. The registry is the Debian package docker-registry
(CNCF distribution 2.8); passwords for the htpasswd variant come from
`htpasswd -B` (apache2-utils); tokens are signed by tests/tokenserver.py.

    certs = harness.shared_certs()
    ts = TokenServer(certs)                       # ts.realm, ts.requests()
    reg = Registry("token", certs, realm=ts.realm) # reg.url, reg.host
    fx = cncf(harness.wasm_module())
    push_fixture(reg, "wasm/cncf", "v1", fx)
    mark = reg.mark(); ...; reg.access_log(mark)  # requests since mark
    reg.stop(); ts.stop()
"""
import atexit
import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENSERVER = os.path.join(os.path.dirname(HERE), "tokenserver.py")

USER, PASSWORD = "rig", "rigpass"
REFRESH_TOKEN = "rig-refresh-token"
SERVICE, ISSUER = "rig-registry", "rig-token-issuer"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)

CREATED = "2024-01-01T00:00:00Z"

_live = []   # every started process wrapper, stopped at exit if a test forgot


@atexit.register
def _stop_all():
    for p in list(_live):
        try:
            p.stop()
        except Exception:
            pass


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _wait_exit(proc, timeout=5.0):
    """Terminates proc (a Popen we own), kills it if needed, and reaps it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    # We are the parent and reaped it with wait(), so no zombie should remain;
    # a zombie still answers kill -0, hence the look at /proc/PID/stat.
    try:
        with open(f"/proc/{proc.pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            raise RuntimeError(f"pid {proc.pid} left as a zombie")
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------
# Registry

Request = namedtuple("Request", "method path status agent")

_ACCESS = re.compile(r'^\S+ - \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"')


class _Server:
    """What Registry and TokenServer share: a process, a run folder, a place in _live."""

    def stop(self):
        if self.proc is not None:
            if self.proc.stdout:
                self.proc.stdout.close()
            _wait_exit(self.proc)
            self.proc = None
        if self in _live:
            _live.remove(self)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Registry(_Server):
    """`docker-registry serve` on a free 127.0.0.1 port.

    variant: plain | tls | htpasswd | token | proxy
      token: auth.token with realm (required), service rig-registry, issuer
             rig-token-issuer, rootcertbundle = certs["token_cert"]
      proxy: a pull-through cache of proxy_remote (an http(s) URL)
    """

    def __init__(self, variant, certs, realm=None, proxy_remote=None):
        if variant not in ("plain", "tls", "htpasswd", "token", "proxy"):
            raise ValueError(f"unknown registry variant {variant}")
        if variant == "token" and not realm:
            raise ValueError("token variant needs realm")
        if variant == "proxy" and not proxy_remote:
            raise ValueError("proxy variant needs proxy_remote")
        self.variant, self.certs = variant, certs
        self.realm, self.proxy_remote = realm, proxy_remote
        self.dir = tempfile.mkdtemp(prefix=f"wp-registry-{variant}-")
        self.cafile = certs["ca"] if variant == "tls" else None
        self.scheme = "https" if variant == "tls" else "http"
        self.proc = None
        self.log_path = os.path.join(self.dir, "registry.log")
        if variant == "htpasswd":
            subprocess.run(["htpasswd", "-Bbc", os.path.join(self.dir, "htpasswd"),
                            USER, PASSWORD], check=True, capture_output=True)
        last = None
        for _ in range(5):   # another process may grab the free port first
            self.port = harness.free_port()
            self.host = f"127.0.0.1:{self.port}"
            self.url = f"{self.scheme}://{self.host}"
            try:
                self._start()
                break
            except RuntimeError as e:
                last = e
                if "address already in use" not in str(e):
                    raise
        else:
            raise last
        _live.append(self)

    def _config(self):
        c = self.certs
        y = f"""version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {self.dir}/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{self.port}
  secret: rig-not-a-secret
  headers:
    X-Content-Type-Options: [nosniff]
"""
        if self.variant == "tls":
            y += f"""  tls:
    certificate: {c["cert"]}
    key: {c["key"]}
"""
        elif self.variant == "htpasswd":
            y += f"""auth:
  htpasswd:
    realm: rig-basic-realm
    path: {self.dir}/htpasswd
"""
        elif self.variant == "token":
            y += f"""auth:
  token:
    realm: {self.realm}
    service: {SERVICE}
    issuer: {ISSUER}
    rootcertbundle: {c["token_cert"]}
"""
        elif self.variant == "proxy":
            y += f"""proxy:
  remoteurl: {self.proxy_remote}
"""
        return y

    def _start(self):
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(self._config())
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ctx = _ssl_context(self.cafile) if self.scheme == "https" else None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"registry {self.variant} exited: {self._log_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=2, context=ctx).close()
                return
            except urllib.error.HTTPError:
                return   # 401 from the auth variants: it answers
            except (urllib.error.URLError, OSError):
                time.sleep(0.03)
        _wait_exit(self.proc)
        self.proc = None
        raise RuntimeError(f"registry {self.variant} did not answer: {self._log_text()[-2000:]}")

    def _log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _lines(self):
        out = []
        for line in self._log_text().splitlines():
            m = _ACCESS.match(line)
            if m:
                out.append(Request(m.group(1), m.group(2), int(m.group(3)), m.group(4)))
        return out

    def access_log(self, since=0, settle=0.05):
        """Request lines (method, path, status, agent) of the access log, from
        entry number `since` (see mark()). Waits `settle` seconds for the log
        to stop growing, since the registry writes a line after the response."""
        reqs = self._lines()
        while settle:
            time.sleep(settle)
            again = self._lines()
            if len(again) == len(reqs):
                break
            reqs = again
        return reqs[since:]

    def mark(self):
        """The number of access-log entries so far, for access_log(since=...)."""
        return len(self.access_log(settle=0.05))

    def __repr__(self):
        return f"<Registry {self.variant} {self.url}>"


def manifest_requests(reqs, method=None):
    return [r for r in reqs if "/manifests/" in r.path and (method is None or r.method == method)]


def blob_requests(reqs, method="GET"):
    return [r for r in reqs if "/blobs/" in r.path and "/uploads/" not in r.path
            and (method is None or r.method == method)]


# --------------------------------------------------------------------------
# Token server

class TokenServer(_Server):
    """tests/tokenserver.py on a free port. `realm` is its token URL; every
    token request is logged (requests()) with the way it authenticated
    (none, basic, password, refresh_token), never a secret."""

    def __init__(self, certs, anon_pull=True):
        self.dir = tempfile.mkdtemp(prefix="wp-tokenserver-")
        self.log_path = os.path.join(self.dir, "tokens.jsonl")
        self.err_path = os.path.join(self.dir, "stderr.log")
        open(self.log_path, "w").close()
        args = [sys.executable, TOKENSERVER, "--port", "0", "--key", certs["token_key"],
                "--cert", certs["token_cert"], "--log", self.log_path,
                "--issuer", ISSUER, "--service", SERVICE,
                "--user", USER, "--password", PASSWORD, "--refresh-token", REFRESH_TOKEN]
        if anon_pull:
            args.append("--anon-pull")
        self.anon_pull = anon_pull
        with open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err,
                                         stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening "):
            _wait_exit(self.proc)
            with open(self.err_path, errors="replace") as f:
                raise RuntimeError("token server failed: " + f.read()[-2000:])
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.realm = self.url + "/token"
        _live.append(self)

    def requests(self, since=0):
        with open(self.log_path) as f:
            return [json.loads(l) for l in f if l.strip()][since:]

    def mark(self):
        return len(self.requests())



# --------------------------------------------------------------------------
# Distribution API client (push and checks)

def _ssl_context(cafile):
    return ssl.create_default_context(cafile=cafile)


def _parse_challenge(h):
    scheme, _, rest = (h or "").strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', rest)}
    return scheme.lower(), params


class Client:
    """A minimal distribution API client with Basic and Bearer auth."""

    def __init__(self, registry, repo, auth=None, cafile=None, actions="pull,push"):
        self.base = registry.url
        self.repo = repo
        if auth is None and registry.variant in ("htpasswd", "token"):
            auth = (USER, PASSWORD)
        self.auth = auth
        self.actions = actions
        cafile = cafile or registry.cafile
        self.ctx = _ssl_context(cafile) if registry.scheme == "https" else None
        self.authz = None

    def _basic(self):
        u, p = self.auth
        return "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode()

    def _authorize(self, challenge):
        scheme, params = _parse_challenge(challenge)
        if scheme == "basic" and self.auth:
            return self._basic()
        if scheme == "bearer":
            q = {"service": params.get("service", ""),
                 "scope": f"repository:{self.repo}:{self.actions}"}
            req = urllib.request.Request(params["realm"] + "?" + urllib.parse.urlencode(q))
            if self.auth:
                req.add_header("Authorization", self._basic())
            with urllib.request.urlopen(req, timeout=30) as r:
                body = json.load(r)
            return "Bearer " + (body.get("token") or body["access_token"])
        raise RuntimeError(f"cannot answer challenge {challenge!r}")

    def request(self, method, url, data=None, headers=None):
        """Returns (status, headers, body); never raises for HTTP statuses."""
        if url.startswith("/"):
            url = self.base + url
        for attempt in (0, 1):
            h = dict(headers or {})
            if self.authz:
                h["Authorization"] = self.authz
            req = urllib.request.Request(url, data=data, method=method, headers=h)
            try:
                with urllib.request.urlopen(req, timeout=30, context=self.ctx) as r:
                    return r.status, r.headers, r.read()
            except urllib.error.HTTPError as e:
                body = e.read()
                if e.code == 401 and attempt == 0:
                    self.authz = self._authorize(e.headers.get("WWW-Authenticate"))
                    continue
                return e.code, e.headers, body
        raise AssertionError("unreachable")

    def get_manifest(self, ref, accept=MANIFEST_ACCEPT):
        return self.request("GET", f"/v2/{self.repo}/manifests/{ref}", headers={"Accept": accept})

    def get_blob(self, digest):
        return self.request("GET", f"/v2/{self.repo}/blobs/{digest}")

    def push_blob(self, data):
        d = sha256(data)
        st, _, _ = self.request("HEAD", f"/v2/{self.repo}/blobs/{d}")
        if st == 200:
            return d
        st, h, body = self.request("POST", f"/v2/{self.repo}/blobs/uploads/", data=b"")
        if st != 202:
            raise RuntimeError(f"upload start {self.repo}: {st} {body[:300]!r}")
        loc = urllib.parse.urljoin(self.base + "/", h["Location"])
        loc += ("&" if "?" in loc else "?") + "digest=" + urllib.parse.quote(d)
        st, _, body = self.request("PUT", loc, data=data,
                                   headers={"Content-Type": "application/octet-stream"})
        if st != 201:
            raise RuntimeError(f"blob PUT {self.repo} {d}: {st} {body[:300]!r}")
        return d

    def push_manifest(self, ref, manifest, media_type):
        st, h, body = self.request("PUT", f"/v2/{self.repo}/manifests/{ref}", data=manifest,
                                   headers={"Content-Type": media_type})
        if st != 201:
            raise RuntimeError(f"manifest PUT {self.repo}:{ref}: {st} {body[:500]!r}")
        got = h.get("Docker-Content-Digest")
        if got != sha256(manifest):
            raise RuntimeError(f"registry says {got} for manifest {sha256(manifest)}")
        return got

    def delete_blob(self, digest):
        st, _, body = self.request("DELETE", f"/v2/{self.repo}/blobs/{digest}")
        if st != 202:
            raise RuntimeError(f"blob DELETE {digest}: {st} {body[:300]!r}")


def push(registry, repo, tag, manifest_bytes, media_type, blobs, auth=None, cafile=None):
    """Pushes a manifest (or an index and, first, its children) byte-exact.
    blobs maps digest -> bytes and holds every config, layer and child
    manifest. Credentials default to rig/rigpass on the auth variants.
    Returns the manifest digest."""
    c = Client(registry, repo, auth, cafile)

    def one(data, mt, ref):
        doc = json.loads(data)
        if mt in INDEX_TYPES:
            for d in doc.get("manifests", []):
                one(blobs[d["digest"]], d["mediaType"], d["digest"])
        else:
            for d in [doc["config"]] + doc.get("layers", []):
                if d["digest"] in blobs:   # a fixture may leave one out on purpose
                    c.push_blob(blobs[d["digest"]])
        return c.push_manifest(ref, data, mt)

    return one(manifest_bytes, media_type, tag)


def push_fixture(registry, repo, tag, fx, auth=None, cafile=None):
    """push() for a Fixture; returns its digest."""
    return push(registry, repo, tag, fx.manifest, fx.media_type, fx.blobs, auth, cafile)


push_layout = push_fixture


def delete_blob(registry, repo, digest, auth=None, cafile=None):
    Client(registry, repo, auth, cafile, actions="pull,push,delete").delete_blob(digest)


# --------------------------------------------------------------------------
# Fixtures

class Fixture:
    """A manifest (or index) with everything it refers to.

    Unpacks as (manifest_bytes, media_type, blobs, digest). Also:
      module         the module bytes a pull must produce (None for bad ones)
      module_digest  sha256 of module
      fmt            the format name wasmpull's --json reports
      children       for an index: [(platform dict, Fixture)]
    """

    def __init__(self, manifest, media_type, blobs, module=None, fmt=None, children=()):
        self.manifest, self.media_type, self.blobs = manifest, media_type, dict(blobs)
        self.digest = sha256(manifest)
        self.module = module
        self.module_digest = sha256(module) if module is not None else None
        self.fmt = fmt
        self.children = list(children)

    def __iter__(self):
        return iter((self.manifest, self.media_type, self.blobs, self.digest))

    def descriptor(self, **extra):
        return dict(mediaType=self.media_type, digest=self.digest, size=len(self.manifest), **extra)


def _jbytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def _desc(data, media_type, **extra):
    return dict(mediaType=media_type, digest=sha256(data), size=len(data), **extra)


def _manifest(config, config_mt, layers, media_type=OCI_MANIFEST, annotations=None,
              module=None, fmt=None, layer_descs=None):
    """layers: [(bytes, media_type, extra descriptor fields)]"""
    blobs = {sha256(config): config}
    descs = []
    for data, mt, extra in layers:
        blobs[sha256(data)] = data
        descs.append(_desc(data, mt, **extra))
    if layer_descs is not None:   # bad fixtures: edit the descriptors
        descs = layer_descs(descs)
    m = {"schemaVersion": 2, "mediaType": media_type,
         "config": _desc(config, config_mt), "layers": descs}
    if annotations:
        m["annotations"] = annotations
    return Fixture(_jbytes(m), media_type, blobs, module, fmt)


def _title(name):
    return {"annotations": {"org.opencontainers.image.title": name}}


def cncf(wasm, os_="wasip1", layer_mt="application/wasm", name="module.wasm"):
    """CNCF TAG Runtime Wasm artifact."""
    cfg = _jbytes({"created": CREATED, "author": "rig", "architecture": "wasm", "os": os_,
                   "layerDigests": [sha256(wasm)]})
    return _manifest(cfg, "application/vnd.wasm.config.v0+json",
                     [(wasm, layer_mt, _title(name))],
                     annotations={"org.opencontainers.image.created": CREATED},
                     module=wasm, fmt="cncf")


def wasme(wasm):
    """Solo.io / Istio "oci" variant, with a runtime-config.json layer that
    a reader must ignore."""
    runtime = {"type": "envoy_proxy",
               "abiVersions": ["v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f"],
               "config": {"rootIds": ["rig"]}}
    cfg = _jbytes(runtime)
    return _manifest(cfg, "application/vnd.module.wasm.config.v1+json",
                     [(wasm, "application/vnd.module.wasm.content.layer.v1+wasm",
                       _title("filter.wasm")),
                      (_jbytes(dict(runtime, rig="runtime-config")),
                       "application/vnd.module.wasm.config.v1+json",
                       _title("runtime-config.json"))],
                     annotations={"org.opencontainers.image.created": CREATED},
                     module=wasm, fmt="wasme")


def wasm_to_oci(wasm):
    """engineerd/wasm-to-oci (Krustlet, Spin)."""
    return _manifest(b"{}", "application/vnd.wasm.config.v1+json",
                     [(wasm, "application/vnd.wasm.content.layer.v1+wasm",
                       _title("module.wasm"))],
                     module=wasm, fmt="wasm-to-oci")


def _tar(entries):
    """entries: [(name, bytes)] -> deterministic ustar/pax bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            ti.uname = ti.gname = ""
            t.addfile(ti, io.BytesIO(data))
    return raw.getvalue()


def _gzip(data):
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(data)
    return gz.getvalue()


def _image_config(tar, os_="linux", arch="amd64"):
    return _jbytes({"created": CREATED, "architecture": arch, "os": os_, "config": {},
                    "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]},
                    "history": [{"created": CREATED, "created_by": "wasmpull tests"}]})


def compat(wasm, variant="plugin", arch="amd64"):
    """Istio "compat": an OCI image whose last tar+gzip layer holds the module.
    variant: plugin   -> plugin.wasm (next to a README)
             dot      -> ./plugin.wasm (next to ./README and another .wasm)
             lone     -> the only *.wasm, named x.wasm"""
    readme = b"wasmpull test image\n"
    entries = {"plugin": [("README", readme), ("plugin.wasm", wasm)],
               "dot": [("./README", readme), ("./other.wasm", b"\0asm\x01\0\0\0"),
                       ("./plugin.wasm", wasm)],
               "lone": [("README", readme), ("x.wasm", wasm)]}[variant]
    tar = _tar(entries)
    return _manifest(_image_config(tar, arch=arch), "application/vnd.oci.image.config.v1+json",
                     [(_gzip(tar), "application/vnd.oci.image.layer.v1.tar+gzip", {})],
                     module=wasm, fmt="compat")


def docker_compat(wasm):
    """A Docker v2 image whose last layer holds plugin.wasm."""
    tar = _tar([("etc/hostname", b"rig\n"), ("plugin.wasm", wasm)])
    base = _tar([("etc/motd", b"base layer\n")])
    return _manifest(_image_config(tar), "application/vnd.docker.container.image.v1+json",
                     [(_gzip(base), "application/vnd.docker.image.rootfs.diff.tar.gzip", {}),
                      (_gzip(tar), "application/vnd.docker.image.rootfs.diff.tar.gzip", {})],
                     media_type=DOCKER_MANIFEST, module=wasm, fmt="docker-compat")


def component_bytes(extra=b""):
    """A minimal component: the preamble (version 0x0d, layer 1) and a custom section."""
    name = b"wasmpull-test"
    payload = bytes([len(name)]) + name + b"component" + extra
    return b"\0asm\x0d\x00\x01\x00" + b"\x00" + _leb(len(payload)) + payload


def _leb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def component(comp=None):
    """A component in a CNCF artifact (os wasip2) with the Bytecode Alliance layer type."""
    comp = comp if comp is not None else component_bytes()
    fx = cncf(comp, os_="wasip2",
              layer_mt="application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
              name="component.wasm")
    return fx


def index(entries, media_type=OCI_INDEX, module=None, fmt=None):
    """entries: [(platform dict or None, Fixture)]. module/fmt: what the
    default pick should give (defaults to the first wasm/wasip1 entry, else
    linux/amd64, else a sole entry, as DESIGN prefers)."""
    blobs, descs = {}, []
    for plat, fx in entries:
        blobs.update(fx.blobs)
        blobs[fx.digest] = fx.manifest
        d = fx.descriptor()
        if plat:
            d["platform"] = plat
        descs.append(d)
    doc = {"schemaVersion": 2, "mediaType": media_type, "manifests": descs}
    if module is None:
        pick = _default_pick(entries)
        if pick is not None:
            module, fmt = pick.module, pick.fmt
    return Fixture(_jbytes(doc), media_type, blobs, module, fmt, children=entries)


def _default_pick(entries):
    for want in (("wasm", "wasip1"), ("wasm", "wasi"), ("wasm", "wasip2"), ("amd64", "linux")):
        for plat, fx in entries:
            if plat and (plat.get("architecture"), plat.get("os")) == want:
                return fx
    return entries[0][1] if len(entries) == 1 else None


def platform(os_, arch, variant=None):
    p = {"architecture": arch, "os": os_}
    if variant:
        p["variant"] = variant
    return p


# Bad fixtures --------------------------------------------------------------

def bad_two_layers(wasm, wasm2):
    """A CNCF artifact with two application/wasm layers (ambiguous: exit 5)."""
    cfg = _jbytes({"architecture": "wasm", "os": "wasip1",
                   "layerDigests": [sha256(wasm), sha256(wasm2)]})
    return _manifest(cfg, "application/vnd.wasm.config.v0+json",
                     [(wasm, "application/wasm", _title("a.wasm")),
                      (wasm2, "application/wasm", _title("b.wasm"))])


def bad_unknown_media_type(wasm, media_type="application/vnd.example.unknown.layer.v1"):
    """A CNCF config whose only layer has a media type nobody knows (exit 5)."""
    cfg = _jbytes({"architecture": "wasm", "os": "wasip1", "layerDigests": [sha256(wasm)]})
    return _manifest(cfg, "application/vnd.wasm.config.v0+json",
                     [(wasm, media_type, _title("module.wasm"))])


def bad_size(wasm, delta):
    """A CNCF artifact whose layer descriptor's size is off by delta (the
    registry does not check descriptor sizes; the client must: exit 5)."""
    def edit(descs):
        descs[0]["size"] += delta
        return descs
    fx = cncf(wasm)
    cfg = fx.blobs[json.loads(fx.manifest)["config"]["digest"]]
    return _manifest(cfg, "application/vnd.wasm.config.v0+json",
                     [(wasm, "application/wasm", _title("module.wasm"))],
                     layer_descs=edit)


# --------------------------------------------------------------------------
# Docker-style credential helper for the tests

def write_cred_helper(bindir, name="rigtest", user=USER, secret=PASSWORD, log=None):
    """Writes bindir/docker-credential-NAME speaking the helper protocol:
    `get` reads a server URL on stdin and prints
    {"ServerURL","Username","Secret"}. Every call is appended to `log`
    (action and the server URL read). Returns the script path."""
    os.makedirs(bindir, exist_ok=True)
    path = os.path.join(bindir, "docker-credential-" + name)
    log = log or os.path.join(bindir, name + ".log")
    script = f"""#!{sys.executable}
import json, sys
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read().strip() if action in ("get", "erase", "store") else ""
with open({log!r}, "a") as f:
    f.write(json.dumps({{"action": action, "input": data}}) + "\\n")
if action == "get":
    json.dump({{"ServerURL": data, "Username": {user!r}, "Secret": {secret!r}}}, sys.stdout)
    sys.exit(0)
if action == "list":
    json.dump({{}}, sys.stdout)
    sys.exit(0)
sys.stdout.write("credentials not found in native keychain\\n")
sys.exit(1)
"""
    with open(path, "w") as f:
        f.write(script)
    os.chmod(path, 0o755)
    return path


def auth_entry(user=USER, password=PASSWORD):
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
