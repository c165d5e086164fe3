"""Shared helpers for wasmpull's command-line tests (standard library only).

Real servers on loopback: nginx (plain and TLS, with a CA made here by the
openssl CLI) and the scripted FaultServer of tests/fault_server.py. Every
server is stopped by the test that started it, and again at exit. The binary
under test comes from $WASMPULL; each test gets its own temp dir and cache.
"""
import atexit
import collections
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, TESTS)

from fault_server import (FaultServer, Request, conditional, drop, ok,  # noqa: E402,F401
                          ranged, redirect, reply, retry_after, stall, truncate)

SRCDIR = os.environ.get("WASMPULL_SRCDIR") or os.path.dirname(TESTS)
WASMPULL = os.environ.get("WASMPULL") or os.path.join(SRCDIR, "build", "wasmpull")

# Environment a test may pass through to the binary; everything else is dropped.
_PASS_ENV = ("PATH", "TMPDIR", "LD_LIBRARY_PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS",
             "LSAN_OPTIONS", "MSAN_OPTIONS", "MALLOC_PERTURB_", "TZ")


# ---------------------------------------------------------------- processes

_live = []          # servers and background processes to stop at exit
_live_lock = threading.RLock()   # the SIGTERM handler may interrupt a holder


def _track(obj):
    with _live_lock:
        _live.append(obj)


def _untrack(obj):
    with _live_lock:
        if obj in _live:
            _live.remove(obj)


@atexit.register
def _stop_everything():
    with _live_lock:
        objs = list(reversed(_live))
    for o in objs:
        try:
            o.stop() if hasattr(o, "stop") else _kill_group(o)
        except Exception as e:  # keep stopping the others
            sys.stderr.write(f"harness: stopping {o!r}: {e}\n")


def _on_sigterm(signum, frame):
    # meson test ends a timed-out test with SIGTERM. unittest would swallow a
    # SystemExit raised inside a test, so clean up here and leave at once.
    signal.signal(signum, signal.SIG_DFL)
    _stop_everything()
    if _certs_dir:
        shutil.rmtree(_certs_dir, True)
    sys.stderr.flush()
    os._exit(128 + signum)


class _TempDir:
    """A temp dir removed at stop(), so an interrupted run leaves nothing."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)
        _track(self)

    def stop(self):
        shutil.rmtree(self.path, ignore_errors=True)
        _untrack(self)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _on_sigterm)


def pid_gone(pid):
    """True when pid has exited; a zombie counts as gone (kill -0 lies)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return st[st.rfind(")") + 2:].split()[0] in ("Z", "X")


def wait_gone(pid, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pid_gone(pid):
            return True
        time.sleep(0.02)
    return pid_gone(pid)


def _kill_group(p, sig=signal.SIGTERM, grace=5.0):
    """Stop a Popen started with start_new_session, its whole group, and reap it.
    Stragglers are killed while the leader is an unreaped zombie, so the group
    id cannot have been reused by anything else."""
    if p.returncode is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        if not wait_gone(p.pid, grace):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_gone(p.pid, grace)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.wait()
    _untrack(p)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


# ---------------------------------------------------------------- certificates

def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def make_certs(dirpath):
    """A test CA, a server cert for localhost/127.0.0.1/::1 signed by it, and a
    separate self-signed token-signing key/cert. Returns their paths."""
    os.makedirs(dirpath, exist_ok=True)
    d = dirpath
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
             "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=wasmpull test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    _openssl("x509", "-req", "-sha256", "-days", "825", "-in", "server.csr",
             "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-extfile", "server.ext", "-out", "server.crt", cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
             "-keyout", "token.key", "-out", "token.crt", "-subj", "/CN=wasmpull token issuer",
             cwd=d)
    _openssl("verify", "-CAfile", "ca.crt", "server.crt", cwd=d)
    return {k: os.path.join(d, v) for k, v in (
        ("ca", "ca.crt"), ("ca_key", "ca.key"), ("cert", "server.crt"),
        ("key", "server.key"), ("token_key", "token.key"), ("token_cert", "token.crt"))}


_certs = None
_certs_dir = None
_certs_lock = threading.Lock()


def shared_certs():
    """One set of certificates per process, removed at exit."""
    global _certs, _certs_dir
    with _certs_lock:
        if _certs is None:
            _certs_dir = tempfile.mkdtemp(prefix="wasmpull-pki-")
            atexit.register(shutil.rmtree, _certs_dir, True)
            _certs = make_certs(_certs_dir)
        return _certs


# ---------------------------------------------------------------- wasm fixtures

def leb128(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _section(sid, payload):
    return bytes([sid]) + leb128(len(payload)) + payload


def _name(s):
    b = s.encode()
    return leb128(len(b)) + b


def _core_sections(exports):
    n = len(exports)
    types = _section(1, leb128(1) + b"\x60\x02\x7f\x7f\x01\x7f")      # (i32 i32) -> i32
    funcs = _section(3, leb128(n) + b"\x00" * n)
    exps = _section(7, leb128(n) + b"".join(_name(e) + b"\x00" + leb128(i)
                                             for i, e in enumerate(exports)))
    body = b"\x00\x20\x00\x20\x01\x6a\x0b"          # no locals; get 0, get 1, i32.add, end
    code = _section(10, leb128(n) + (leb128(len(body)) + body) * n)
    return b"\0asm\x01\x00\x00\x00" + types + funcs + exps + code


def wasm_module(extra=b"", exports=("add",)):
    """A valid core module exporting (i32,i32)->i32 functions; with `extra`, a
    custom section "pad" carrying those bytes makes it as large as wanted."""
    m = _core_sections(tuple(exports))
    if extra:
        m += _section(0, _name("pad") + bytes(extra))
    return m


def big_wasm(path, size, chunk=1 << 20):
    """Write a valid module of about `size` bytes (at least the core module's
    size) to path without holding it in memory; returns its sha256 hex."""
    core = _core_sections(("add",))
    name = _name("pad")
    room = size - len(core) - 1 - len(name)
    payload = max(0, room - len(leb128(max(room, 0) + len(name))))
    # the LEB length may be shorter than guessed; settle on a consistent pair
    while payload and 1 + len(leb128(payload + len(name))) + len(name) + payload + len(core) > size:
        payload -= 1
    h = hashlib.sha256()
    pattern = hashlib.sha256(b"wasmpull").digest() * (chunk // 32)
    with open(path, "wb") as f:
        head = core + b"\x00" + leb128(payload + len(name)) + name
        f.write(head)
        h.update(head)
        left = payload
        while left:
            piece = pattern[:min(left, len(pattern))]
            f.write(piece)
            h.update(piece)
            left -= len(piece)
    return h.hexdigest()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- nginx

AccessLogEntry = collections.namedtuple("AccessLogEntry", "method path status")

_NGINX_CONF = """\
worker_processes 1;
{user}
pid {run}/nginx.pid;
error_log {run}/logs/error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
  types {{ application/wasm wasm; application/gzip gz; application/x-tar tar;
          text/plain txt; text/html html; }}
  default_type application/octet-stream;
  log_format wp '$request_method\\t$request_uri\\t$status\\t$body_bytes_sent\\t$http_host';
  access_log {run}/logs/access.log wp;
  client_body_temp_path {run}/tmp/body; proxy_temp_path {run}/tmp/proxy;
  fastcgi_temp_path {run}/tmp/fcgi; uwsgi_temp_path {run}/tmp/uwsgi;
  scgi_temp_path {run}/tmp/scgi;
  sendfile on; tcp_nopush on; keepalive_timeout 30;
  etag on; if_modified_since exact;
  server {{
    listen 127.0.0.1:{hp};
    listen 127.0.0.1:{sp} ssl http2;
    {listen6}
    server_name localhost;
    ssl_certificate {cert}; ssl_certificate_key {key};
    root {www};
    location / {{ }}
    location /auth/ {{ alias {www}/; auth_basic "wasmpull"; auth_basic_user_file {run}/htpasswd; }}
    location ~ ^/redir/(.*)$ {{ return 307 http://localhost:{hp}/$1; }}
    location = /status/500 {{ return 500; }}
    location = /status/404 {{ return 404; }}
    location /slow/ {{ alias {www}/; limit_rate {slow_rate}; limit_rate_after 0; }}
  }}
}}
"""


class Nginx:
    """nginx on free 127.0.0.1 ports serving `www`, plain and TLS.

    /redir/X answers 307 to http://localhost:PORT/X (another host name),
    /slow/X is rate-limited, /auth/X wants Basic user rig / rigpass,
    /status/500 and /status/404 answer that status. ETag and Last-Modified
    are on, so a conditional GET gets 304. access_log() is unbuffered.
    """

    def __init__(self, www=None, certs=None, run_dir=None, slow_rate="64k"):
        self._own_run = run_dir is None
        self.run = run_dir or tempfile.mkdtemp(prefix="wasmpull-nginx-")
        self.www = www or os.path.join(self.run, "www")
        self.certs = certs or shared_certs()
        self.slow_rate = slow_rate
        self.proc = None

    def start(self, tries=3):
        for d in (self.www, f"{self.run}/tmp", f"{self.run}/logs"):
            os.makedirs(d, exist_ok=True)
        pw = subprocess.run(["openssl", "passwd", "-apr1", "rigpass"],
                            capture_output=True, text=True, check=True).stdout.strip()
        with open(f"{self.run}/htpasswd", "w") as f:
            f.write(f"rig:{pw}\n")
        for attempt in range(tries):           # a free port can be taken meanwhile
            self.http_port, self.https_port = free_port(), free_port()
            if self.http_port == self.https_port:
                continue
            self._write_conf()
            t = subprocess.run(self._cmd() + ["-t", "-q"], capture_output=True, text=True)
            if t.returncode != 0:
                raise RuntimeError(f"nginx -t: {t.stderr}{self.error_log()}")
            with open(f"{self.run}/logs/stderr", "ab") as err:
                self.proc = subprocess.Popen(self._cmd(), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=err,
                                             start_new_session=True)
            _track(self)
            if (wait_port(self.http_port, proc=self.proc)
                    and wait_port(self.https_port, proc=self.proc)):
                self.http_url = f"http://127.0.0.1:{self.http_port}"
                self.https_url = f"https://127.0.0.1:{self.https_port}"
                self.localhost_url = f"http://localhost:{self.http_port}"
                return self
            self.stop(remove=False)
        raise RuntimeError(f"nginx did not start: {self.error_log()}")

    def _cmd(self):
        return ["nginx", "-p", self.run, "-e", f"{self.run}/logs/error.log",
                "-c", f"{self.run}/nginx.conf"]

    def _write_conf(self):
        conf = _NGINX_CONF.format(
            user="user root root;" if os.geteuid() == 0 else "",
            run=self.run, www=self.www, hp=self.http_port, sp=self.https_port,
            listen6=f"listen [::1]:{self.http_port};" if have_ipv6_loopback() else "",
            cert=self.certs["cert"], key=self.certs["key"], slow_rate=self.slow_rate)
        with open(f"{self.run}/nginx.conf", "w") as f:
            f.write(conf)

    def error_log(self):
        try:
            with open(f"{self.run}/logs/error.log") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def access_log(self, settle=0.1):
        """[(method, path, status)] in order. nginx writes a line when it has
        sent the response, a moment after the client may have it: settle."""
        if settle:
            time.sleep(settle)
        out = []
        try:
            with open(f"{self.run}/logs/access.log") as f:
                for line in f:
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) >= 3:
                        out.append(AccessLogEntry(parts[0], parts[1], int(parts[2])))
        except FileNotFoundError:
            pass
        return out

    def count(self, path, method="GET", status=None):
        return sum(1 for e in self.access_log()
                   if e.path == path and (method is None or e.method == method)
                   and (status is None or e.status == status))

    def put(self, name, data):
        """Write a file under www (folders made as needed); returns its path."""
        p = os.path.join(self.www, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def stop(self, remove=True):
        if self.proc is not None:
            pid = self.proc.pid
            _kill_group(self.proc, signal.SIGTERM)
            wait_gone(pid)
            self.proc = None
        _untrack(self)
        if remove and self._own_run:
            shutil.rmtree(self.run, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- test case

class WasmpullCase(unittest.TestCase):
    """Own temp dir, own cache, clean environment, servers stopped at the end."""

    maxDiff = None

    def setUp(self):
        td = _TempDir("wasmpull-test-")
        self.addCleanup(td.stop)
        self.tmp = td.path
        self.cache = os.path.join(self.tmp, "cache")
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        self.env = {k: os.environ[k] for k in _PASS_ENV if k in os.environ}
        self.env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        self.env["HOME"] = home
        self.env["LC_ALL"] = "C.UTF-8"
        self._bg = []

    def tearDown(self):
        for p in self._bg:
            if p.poll() is None:
                _kill_group(p, signal.SIGKILL)
            else:
                _untrack(p)
            for s in (p.stdout, p.stderr):
                if s:
                    s.close()

    def _env(self, env):
        e = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def _argv(self, args, cache):
        if not os.path.exists(WASMPULL):
            self.fail(f"wasmpull binary not found at {WASMPULL} (set $WASMPULL)")
        return [WASMPULL] + (["-C", self.cache] if cache else []) + [str(a) for a in args]

    def wp(self, *args, input=None, env=None, timeout=60, cache=True, cwd=None, text=True):
        """Run wasmpull -C self.cache ARGS. env adds to self.env (None removes)."""
        argv = self._argv(args, cache)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text,
                             env=self._env(env), cwd=cwd or self.tmp, start_new_session=True)
        _track(p)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(p, signal.SIGKILL)
            out, err = p.communicate()
            self.fail(f"{argv} still running after {timeout}s\n"
                      f"stdout: {out!r}\nstderr: {err!r}")
        _untrack(p)
        return subprocess.CompletedProcess(argv, p.returncode, out, err)

    def wp_bg(self, *args, env=None, cache=True, cwd=None):
        """Start wasmpull in the background; finish it with self.finish(p)."""
        p = subprocess.Popen(self._argv(args, cache), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self._env(env), cwd=cwd or self.tmp, start_new_session=True)
        p.argv = self._argv(args, cache)
        _track(p)
        self._bg.append(p)
        return p

    def finish(self, p, timeout=60):
        """Wait for a wp_bg process; returns a CompletedProcess."""
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(p, signal.SIGKILL)
            self.fail(f"{p.argv} still running after {timeout}s")
        _untrack(p)
        return subprocess.CompletedProcess(p.argv, p.returncode, out, err)

    @staticmethod
    def _describe(proc):
        return (f"\n$ {' '.join(map(str, proc.args))}\nexit {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")

    def json_of(self, proc):
        """Exit 0 and stdout one JSON object: returns it."""
        self.assertExit(proc, 0)
        try:
            return json.loads(proc.stdout)
        except ValueError:
            self.fail("--json output is not one JSON object" + self._describe(proc))

    def assertExit(self, proc, code):
        if proc.returncode != code:
            self.fail(f"expected exit {code}, got {proc.returncode}" + self._describe(proc))

    def assertOneErrorLine(self, proc):
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("wasmpull: ") or not err.endswith("\n"):
            self.fail("stderr must be exactly one line starting 'wasmpull: '"
                      + self._describe(proc))

    def assertFails(self, proc, code):
        """Exit code and the one stderr line every failure must print."""
        self.assertExit(proc, code)
        self.assertOneErrorLine(proc)

    # --- servers owned by this test

    def start_nginx(self, **kw):
        ng = Nginx(**kw).start()
        self.addCleanup(ng.stop)
        return ng

    def start_fault(self, script=None, host="127.0.0.1"):
        fs = FaultServer(script, host).start()
        _track(fs)
        self.addCleanup(lambda: (fs.stop(), _untrack(fs)))
        return fs

    # --- cache inspection

    def cache_files(self):
        out = []
        for root, dirs, files in os.walk(self.cache):
            out.extend(os.path.join(root, f) for f in files)
        return sorted(out)

    def stored_modules(self):
        """Files in the cache holding Wasm bytes (whole or partial)."""
        found = []
        for p in self.cache_files():
            if os.path.islink(p):
                continue
            try:
                with open(p, "rb") as f:
                    if f.read(4) == b"\0asm":
                        found.append(p)
            except OSError:
                pass
        return found

    def assertNothingStored(self):
        mods = self.stored_modules()
        if mods:
            self.fail(f"cache holds module bytes after a failed pull: {mods}")
