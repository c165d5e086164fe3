#!/usr/bin/env python3
"""A scripted HTTP/1.1 server for faults nginx will not produce on demand.

Each path has a script: a list of steps, one consumed per request, the last
one repeating. Every request is recorded (method, path, headers, time) so a
test can count them. Paths without a script get 404. Steps are dicts, made
most easily with the helpers below:

  reply(status, body=b"", headers=None, duration=0)  a full response; with
        duration, the body is spread over that many seconds (slow download)
  ok(body, **kw)              reply(200, body)
  retry_after(status, secs)   e.g. 429 or 503 with Retry-After
  truncate(body, sent)        Content-Length len(body), only `sent` bytes, close
  stall(body, sent, seconds)  headers + `sent` bytes, then silence (socket open)
  redirect(url, status=302)   Location: url
  ranged(body)                200 with Accept-Ranges, 206 for Range: bytes=N-
  drop()                      close the connection without a reply
  conditional(body, etag)     200 with ETag; 304 when If-None-Match matches

In a test:  with FaultServer({"/m.wasm": [reply(503), ok(data)]}) as fs: ...
As a CLI:   fault_server.py [--host H] [--port P] SCRIPT.json
            SCRIPT.json maps paths to step lists; "body" is text, or use
            "body_hex"; it prints the URL, then one JSON line per request.
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def reply(status, body=b"", headers=None, duration=0.0):
    return {"kind": "reply", "status": status, "body": bytes(body),
            "headers": dict(headers or {}), "duration": duration}


def ok(body, **kw):
    return reply(200, body, **kw)


def retry_after(status, seconds, body=b""):
    return reply(status, body, {"Retry-After": str(seconds)})


def truncate(body, sent, headers=None):
    return {"kind": "truncate", "body": bytes(body), "sent": sent,
            "headers": dict(headers or {})}


def stall(body, sent=16, seconds=60.0):
    return {"kind": "stall", "body": bytes(body), "sent": sent, "seconds": seconds}


def redirect(url, status=302):
    return {"kind": "reply", "status": status, "body": b"",
            "headers": {"Location": url}, "duration": 0.0}


def ranged(body, headers=None):
    return {"kind": "range", "body": bytes(body), "headers": dict(headers or {})}


def drop():
    return {"kind": "drop"}


def unsized(body):
    """200 without Content-Length: the body ends when the connection closes."""
    return {"kind": "unsized", "body": bytes(body)}


def conditional(body, etag='"fault-etag-1"', headers=None):
    return {"kind": "conditional", "body": bytes(body), "etag": etag,
            "headers": dict(headers or {})}


class Request:
    """One recorded request; unpacks as (method, path, headers)."""

    def __init__(self, method, path, headers, when):
        self.method, self.path, self.headers, self.time = method, path, headers, when

    def __iter__(self):
        return iter((self.method, self.path, self.headers))

    def __repr__(self):
        return f"Request({self.method} {self.path})"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-server"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _do(self):
        fs = self.server.fault
        step = fs._record_and_step(self.command, self.path, self.headers)
        # a request body (unlikely) must not be mistaken for the next request
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        head = self.command == "HEAD"
        kind = step["kind"]
        if kind == "drop":
            self.close_connection = True
            self._hard_close()
            return
        if kind == "reply":
            self._send(step["status"], step["body"], step["headers"], head,
                       step.get("duration", 0.0))
        elif kind == "conditional":
            if self.headers.get("If-None-Match") == step["etag"]:
                self.send_response(304)
                self.send_header("ETag", step["etag"])
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                hdrs = dict(step["headers"], ETag=step["etag"])
                self._send(200, step["body"], hdrs, head)
        elif kind == "range":
            self._range(step, head)
        elif kind == "truncate":
            self._partial(step["body"], step["sent"], step["headers"])
            self._hard_close()
        elif kind == "unsized":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(step["body"])
            self.wfile.flush()
            self.close_connection = True
            self._hard_close()
        elif kind == "stall":
            self._partial(step["body"], step["sent"], {})
            fs._stop.wait(step["seconds"])
            self._hard_close()
        else:
            raise ValueError(f"unknown step kind {kind!r}")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _do

    def _send(self, status, body, headers, head, duration=0.0):
        self.send_response(status)
        lower = {k.lower() for k in headers}
        if "content-length" not in lower:
            self.send_header("Content-Length", str(len(body)))
        if "content-type" not in lower:
            self.send_header("Content-Type", "application/octet-stream")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if head or not body:
            return
        if duration <= 0:
            self.wfile.write(body)
            return
        pieces = 20
        size = max(1, -(-len(body) // pieces))
        for i in range(0, len(body), size):
            self.wfile.write(body[i:i + size])
            self.wfile.flush()
            if self.server.fault._stop.wait(duration / pieces):
                break

    def _range(self, step, head):
        body = step["body"]
        hdrs = dict(step["headers"], **{"Accept-Ranges": "bytes"})
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-") and rng[6:-1].isdigit():
            start = int(rng[6:-1])
            if start >= len(body):
                self._send(416, b"", {"Content-Range": f"bytes */{len(body)}"}, head)
                return
            hdrs["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            self._send(206, body[start:], hdrs, head)
        else:
            self._send(200, body, hdrs, head)

    def _partial(self, body, sent, headers):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body[:sent])
        self.wfile.flush()
        self.close_connection = True

    def _hard_close(self):
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # clients hanging up mid-reply is what fault tests are made of
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class FaultServer:
    """The scripted server, run in a thread of the calling process."""

    def __init__(self, script=None, host="127.0.0.1", port=0):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("FaultServer listens on loopback only")
        self.host, self._port = host, port
        self.script = {p: list(s) for p, s in (script or {}).items()}
        self.requests = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._served = {}
        self._httpd = None
        self._thread = None

    def set(self, path, steps):
        """Replace the script of one path (and restart its step count)."""
        with self._lock:
            self.script[path] = list(steps)
            self._served[path] = 0

    def _record_and_step(self, method, path, headers):
        with self._lock:
            self.requests.append(Request(method, path, headers, time.monotonic()))
            key = path if path in self.script else urlsplit(path).path
            steps = self.script.get(key)
            if not steps:
                return reply(404, b"not found\n")
            i = self._served.get(key, 0)
            self._served[key] = i + 1
            return steps[min(i, len(steps) - 1)]

    def count(self, path, method=None):
        """Requests made for path (query ignored unless path has one)."""
        with self._lock:
            return sum(1 for r in self.requests
                       if (r.path == path or urlsplit(r.path).path == path)
                       and (method is None or r.method == method))

    def requests_for(self, path):
        with self._lock:
            return [r for r in self.requests
                    if r.path == path or urlsplit(r.path).path == path]

    def start(self):
        cls = _Server6 if self.host == "::1" else _Server
        bind = "127.0.0.1" if self.host == "localhost" else self.host
        self._httpd = cls((bind, self._port), _Handler)
        self._httpd.fault = self
        self.port = self._httpd.server_address[1]
        hostpart = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{hostpart}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _load_script(path):
    with open(path) as f:
        raw = json.load(f)
    script = {}
    for p, steps in raw.items():
        out = []
        for s in steps:
            s = dict(s)
            if "body_hex" in s:
                s["body"] = bytes.fromhex(s.pop("body_hex"))
            elif isinstance(s.get("body"), str):
                s["body"] = s["body"].encode()
            s.setdefault("kind", "reply")
            s.setdefault("body", b"")
            s.setdefault("headers", {})
            if s["kind"] == "reply":
                s.setdefault("status", 200)
                s.setdefault("duration", 0.0)
            out.append(s)
        script[p] = out
    return script


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("script")
    a = ap.parse_args()
    fs = FaultServer(_load_script(a.script), a.host, a.port).start()
    print(fs.url, flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.1)
            with fs._lock:
                new = fs.requests[seen:]
                seen += len(new)
            for r in new:
                print(json.dumps({"method": r.method, "path": r.path,
                                  "headers": dict(r.headers.items())}), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        fs.stop()


if __name__ == "__main__":
    main()
