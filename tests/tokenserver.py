#!/usr/bin/env python3
"""A small Docker/OCI registry token server for the tests (stdlib + openssl CLI).

tokenserver.py --key token.key --cert token.crt [--port 0] [--log FILE]
               [--issuer rig-token-issuer] [--service rig-registry]
               [--user rig --password rigpass] [--refresh-token rig-refresh-token]
               [--anon-pull] [--ttl 300]

On start it prints one line "listening PORT" on stdout (PORT 0 = pick a free one).

GET|POST /token?service=..&scope=repository:NAME:pull,push[&scope=...]
  a POST form with grant_type=password (username, password) or
  grant_type=refresh_token (refresh_token = the identity token of --user),
  else Basic auth
  -> every requested action; no credentials -> 'pull' only with --anon-pull,
  else 401; wrong credentials -> 401.
GET /stats -> {"tokens_issued": N}

Every /token request is appended to --log as one JSON line:
  {"method", "path", "grant_type", "auth" (none|basic|password|refresh_token),
   "user", "scope": [...], "service", "status"}
Secrets are never logged.

Registry 2.8 (CNCF distribution) accepts the token when iss == auth.token.issuer,
aud == auth.token.service (a plain string), exp/nbf within its leeway, alg RS256,
and the header's 'kid' is the libtrust fingerprint of a key in rootcertbundle.
"""
import argparse
import base64
import hashlib
import json
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def libtrust_kid(der_pub):
    # libtrust key id: sha256 of the DER SubjectPublicKeyInfo, first 240 bits,
    # base32 without padding, 12 groups of 4 characters joined by ':'.
    s = base64.b32encode(hashlib.sha256(der_pub).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True,
                          check=True).stdout


class Signer:
    def __init__(self, key, cert):
        self.key = key
        pem_pub = openssl("x509", "-in", cert, "-noout", "-pubkey")
        der_pub = openssl("pkey", "-pubin", "-outform", "DER", data=pem_pub)
        self.kid = libtrust_kid(der_pub)
        self.lock = threading.Lock()

    def sign(self, claims):
        hdr = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        si = (b64url(json.dumps(hdr, separators=(",", ":")).encode()) + "." +
              b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = openssl("dgst", "-sha256", "-sign", self.key, data=si.encode())
        return si + "." + b64url(sig)


def parse_scope(s):
    typ, rest = s.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return {"type": typ, "name": name,
            "actions": [a for a in actions.split(",") if a]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("token: " + fmt % a + "\n")

    def _record(self, q, auth, user, status):
        A = self.server.args
        if not A.log:
            return
        rec = {"method": self.command, "path": urlparse(self.path).path,
               "grant_type": q.get("grant_type", [""])[0], "auth": auth,
               "user": user, "scope": q.get("scope", []),
               "service": q.get("service", [""])[0], "status": status}
        with self.server.log_lock, open(A.log, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def _reply(self, code, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _deny(self, q, auth, user, message):
        self._record(q, auth, user, 401)
        self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                    {"WWW-Authenticate": 'Basic realm="rig-token"'})

    def _handle(self, q):
        A = self.server.args
        auth, user, pw = "none", None, None
        h = self.headers.get("Authorization", "")
        grant = q.get("grant_type", [""])[0]
        # An OAuth2 form grant wins over an Authorization header.
        if grant == "password":
            auth = "password"
            user, pw = q.get("username", [""])[0], q.get("password", [""])[0]
            authed = user == A.user and pw == A.password
        elif grant == "refresh_token":
            auth = "refresh_token"
            authed = q.get("refresh_token", [""])[0] == A.refresh_token
            user = A.user if authed else None
        elif h[:6].lower() == "basic ":
            auth = "basic"
            try:
                user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
            except Exception:
                return self._deny(q, auth, None, "malformed Basic credentials")
            authed = user == A.user and pw == A.password
        else:
            authed = False
        if auth != "none" and not authed:
            return self._deny(q, auth, user, "bad credentials")
        if not authed and not A.anon_pull:
            return self._deny(q, auth, user, "credentials required")
        access = []
        for s in q.get("scope", []):
            for one in s.split(" "):   # the OAuth2 form may space-join scopes
                if not one:
                    continue
                try:
                    r = parse_scope(one)
                except ValueError:
                    continue
                if not authed:
                    r["actions"] = [a for a in r["actions"] if a == "pull"]
                access.append(r)
        now = int(time.time())
        claims = {"iss": A.issuer, "sub": user if authed else "anonymous",
                  "aud": q.get("service", [A.service])[0],
                  "exp": now + A.ttl, "nbf": now - 5, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        tok = self.server.signer.sign(claims)
        with self.server.log_lock:
            self.server.count += 1
        self._record(q, auth, user if authed else None, 200)
        body = {"token": tok, "access_token": tok, "expires_in": A.ttl,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if authed and (grant == "password" or q.get("offline_token", [""])[0] == "true"):
            body["refresh_token"] = A.refresh_token
        self._reply(200, body)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/stats":
            return self._reply(200, {"tokens_issued": self.server.count})
        if u.path != "/token":
            return self._reply(404, {})
        self._handle(parse_qs(u.query))

    def do_POST(self):
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length", 0) or 0)
        q = parse_qs(self.rfile.read(n).decode())
        for k, v in parse_qs(u.query).items():
            q.setdefault(k, v)
        if u.path != "/token":
            return self._reply(404, {})
        self._handle(q)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--log")
    p.add_argument("--issuer", default="rig-token-issuer")
    p.add_argument("--service", default="rig-registry")
    p.add_argument("--user", default="rig")
    p.add_argument("--password", default="rigpass")
    p.add_argument("--refresh-token", default="rig-refresh-token")
    p.add_argument("--anon-pull", action="store_true")
    p.add_argument("--ttl", type=int, default=300)
    A = p.parse_args()
    srv = ThreadingHTTPServer((A.addr, A.port), Handler)
    srv.daemon_threads = True
    srv.args, srv.signer, srv.count = A, Signer(A.key, A.cert), 0
    srv.log_lock = threading.Lock()
    print("listening", srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
