"""Real registries on loopback for the tests: Debian's `docker-registry` (distribution 2.x).

- `start_registry` runs `docker-registry serve CONFIG` on a free loopback port over a storage
  directory (several registries may share one: push once, read through each), optionally with
  TLS, htpasswd Basic auth or token auth; it waits until `/v2/` answers.
- `TestCA` makes a CA and a server certificate for 127.0.0.1 with the `openssl` CLI.
- `TokenIssuer` is the token service of the Docker token auth flow
  (https://distribution.github.io/distribution/spec/auth/token/): Basic credentials or an
  identity token (OAuth2 refresh-token grant) in, an RS256 JWT that the real registry verifies
  through its `rootcertbundle` out. Anonymous requests get a token with access to `public/*` only.
- `FaultProxy` stands between a client and a real registry and misbehaves on purpose: answers
  429, cuts blob bodies halfway, or redirects blob requests to another registry (recording the
  headers the redirect target receives).

Only the standard library and the `openssl` / `htpasswd` / `skopeo` commands are used.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import http.server
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGISTRY_BIN = "docker-registry"
SERVICE = "pyimgsize-test-registry"
ISSUER = "pyimgsize-test-issuer"


def require_tools(*names: str) -> None:
    """Not run here (one line at the end of the run; a failure under CI or
    PYIMGSIZE_REQUIRE_ENGINE) when a command the test needs is missing."""
    from conftest import not_run_here, rerun_command

    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        not_run_here(
            f"the commands {', '.join(missing)} (scripts/test-packages.txt)",
            "they are missing",
            rerun_command(),
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(cmd: list[str], **kw: Any) -> str:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


# --- certificates -----------------------------------------------------------------------------


@dataclass
class TestCA:
    """A CA and a server certificate for 127.0.0.1, made with openssl."""

    __test__ = False  # not a test class
    folder: Path

    @property
    def ca_crt(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def server_crt(self) -> Path:
        return self.folder / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    @classmethod
    def make(cls, folder: Path) -> TestCA:
        folder.mkdir(parents=True, exist_ok=True)
        ca = cls(folder)
        _run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(folder / "ca.key"), "-out", str(ca.ca_crt),
                "-subj", "/CN=pyimgsize test CA",
            ]
        )  # fmt: skip
        _run(
            [
                "openssl", "req", "-newkey", "rsa:2048", "-nodes",
                "-keyout", str(ca.server_key), "-out", str(folder / "server.csr"),
                "-subj", "/CN=127.0.0.1",
            ]
        )  # fmt: skip
        ext = folder / "ext.cnf"
        ext.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        _run(
            [
                "openssl", "x509", "-req", "-in", str(folder / "server.csr"), "-days", "2",
                "-CA", str(ca.ca_crt), "-CAkey", str(folder / "ca.key"), "-CAcreateserial",
                "-out", str(ca.server_crt), "-extfile", str(ext),
            ]
        )  # fmt: skip
        return ca

    def certs_d(self, host: str) -> Path:
        """A certs.d directory trusting this CA for `host` (`PYIMGSIZE_CERTS_D`)."""
        root = self.folder / "certs.d"
        (root / host).mkdir(parents=True, exist_ok=True)
        shutil.copy(self.ca_crt, root / host / "ca.crt")
        return root


# --- the registry -----------------------------------------------------------------------------


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path
    scheme: str = "http"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_registry(
    folder: Path,
    storage: Path,
    *,
    tls: TestCA | None = None,
    htpasswd: Path | None = None,
    token: tuple[str, Path] | None = None,  # (realm, certificate bundle)
) -> Registry:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        f"  secret: {secrets.token_hex(16)}",
    ]
    if tls is not None:
        lines += ["  tls:", f"    certificate: {tls.server_crt}", f"    key: {tls.server_key}"]
    if htpasswd is not None:
        lines += ["auth:", "  htpasswd:", "    realm: pyimgsize-test", f"    path: {htpasswd}"]
    if token is not None:
        realm, bundle = token
        lines += [
            "auth:",
            "  token:",
            f"    realm: {realm}",
            f"    service: {SERVICE}",
            f"    issuer: {ISSUER}",
            f"    rootcertbundle: {bundle}",
        ]
    config = folder / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = folder / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    registry = Registry(f"127.0.0.1:{port}", process, log, "https" if tls else "http")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return registry
        except OSError:
            time.sleep(0.1)
    registry.stop()
    raise RuntimeError(f"docker-registry did not listen on {registry.host}: {log.read_text()}")


def registry_has(remote: str, config_digest: str | None = None) -> bool:
    """A plain-HTTP registry already holds `HOST/REPOSITORY:TAG` (storage outlives sessions),
    as the image whose config is `config_digest` when given (a tag another engine's build of
    the same recipe pushed names another image: then it is pushed again)."""
    host, _, rest = remote.partition("/")
    repository, _, tag = rest.rpartition(":")
    request = urllib.request.Request(
        f"http://{host}/v2/{repository}/manifests/{tag}",
        headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
            "application/vnd.oci.image.manifest.v1+json"
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            manifest = json.loads(response.read())
    except urllib.error.HTTPError:
        return False
    return config_digest is None or manifest.get("config", {}).get("digest") == config_digest


def htpasswd_file(path: Path, user: str, password: str) -> Path:
    path.write_text(_run(["htpasswd", "-Bbn", user, password]))
    return path


def skopeo_copy(src: str, dest: str, *, all_images: bool = False) -> None:
    cmd = ["skopeo", "copy", "-q", "--dest-tls-verify=false", "--src-tls-verify=false"]
    if all_images:
        cmd.append("--all")
    _run([*cmd, src, dest])


def corrupt_blob(storage: Path, digest: str) -> None:
    """Flip one byte in the middle of a blob in a registry's filesystem storage."""
    hex_ = digest.removeprefix("sha256:")
    path = storage / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# --- the token issuer -------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenIssuer:
    """The Docker token service, for a registry started with `token=(issuer.realm, bundle)`."""

    folder: Path
    users: dict[str, str]  # name -> password
    identity_tokens: dict[str, str]  # refresh token -> name
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def bundle(self) -> Path:
        return self.folder / "token.crt"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(self.folder / "token.key"), "-out", str(self.bundle),
                "-subj", "/CN=pyimgsize token issuer",
            ]
        )  # fmt: skip
        done = subprocess.run(
            ["openssl", "x509", "-in", str(self.bundle), "-outform", "DER"],
            check=True,
            capture_output=True,
        )
        self._x5c = base64.b64encode(done.stdout).decode("ascii")
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                account = None
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if issuer.users.get(user) != password:
                        self._answer(401, {"details": "bad credentials"})
                        return
                    account = user
                issuer.requests.append({"method": "GET", "account": account, **query})
                self._grant(account, query.get("scope", ""))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                account = issuer.identity_tokens.get(form.get("refresh_token", ""))
                issuer.requests.append(
                    {"method": "POST", "account": account, "grant_type": form.get("grant_type")}
                )
                if form.get("grant_type") != "refresh_token" or account is None:
                    self._answer(401, {"error": "invalid_grant"})
                    return
                self._grant(account, form.get("scope", ""))

            def _grant(self, account: str | None, scope: str) -> None:
                access = []
                kind, _, rest = scope.partition(":")
                name, _, _actions = rest.rpartition(":")
                if kind == "repository" and (account is not None or name.startswith("public/")):
                    access.append({"type": "repository", "name": name, "actions": ["pull"]})
                token = issuer.sign(account or "", access)
                self._answer(200, {"token": token, "access_token": token, "expires_in": 300})

            def _answer(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def sign(self, subject: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        done = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.folder / "token.key")],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        )
        return f"{signing_input}.{_b64url(done.stdout)}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# --- a misbehaving proxy ----------------------------------------------------------------------


@dataclass
class FaultProxy:
    """A plain-HTTP proxy in front of `upstream` (host:port, plain HTTP).

    mode "429": every request is answered 429 (Retry-After: 0).
    mode "cut": blob bodies are cut off after half of their declared length.
    mode "redirect": blob requests are answered 307 to `/redirected/...` on this proxy, which
    forwards them to `redirect_upstream` and records the headers received in `redirected`.
    mode "stall": blob bodies stop after half of their length, and the connection stays open
    (`stalled` is set) until the proxy stops: a download in progress, for as long as a test
    needs one.
    """

    upstream: str
    mode: str
    redirect_upstream: str | None = None
    count: int = 0
    redirected: list[dict[str, str]] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy.count += 1
                if proxy.mode == "429":
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = proxy.upstream
                path = self.path
                if path.startswith("/redirected/"):
                    proxy.redirected.append(dict(self.headers.items()))
                    path = path[len("/redirected") :]
                    assert proxy.redirect_upstream is not None
                    upstream = proxy.redirect_upstream
                elif proxy.mode == "redirect" and "/blobs/" in path:
                    self.send_response(307)
                    self.send_header("Location", f"http://{proxy.host}/redirected{path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(upstream, timeout=30)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if proxy.mode == "stall" and "/blobs/" in path and len(body) > 1024:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    proxy.stalled.set()
                    proxy._release.wait(60)
                    self.close_connection = True
                    return
                if proxy.mode == "cut" and "/blobs/" in path and len(body) > 1024:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    with contextlib.suppress(OSError):  # the reader may have hung up first
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)
                conn.close()

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def running(*things: Any) -> Iterator[None]:
    try:
        yield
    finally:
        for thing in reversed(things):
            thing.stop()


def docker_config(folder: Path, auths: dict[str, dict[str, str]]) -> Path:
    """A DOCKER_CONFIG directory whose config.json holds `auths`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"auths": auths}))
    return folder


def basic_entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode("ascii")}


# --- pushing an OCI layout, blob for blob -----------------------------------------------------


def push_layout(host: str, layout: Path, repository: str, tag: str) -> str:
    """Push every blob of an OCI layout directory to a plain-HTTP registry as it is (no
    recompression, unlike `skopeo copy`), then its manifests, the top one as `tag`; returns
    the top manifest's digest. The layout's index.json must name exactly one image or index."""
    conn = http.client.HTTPConnection(host, timeout=60)

    def call(
        method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Any:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status}")
        return response

    blobs = layout / "blobs" / "sha256"
    for blob in sorted(blobs.iterdir()):
        digest = f"sha256:{blob.name}"
        start = call("POST", f"/v2/{repository}/blobs/uploads/")
        location = urllib.parse.urlsplit(start.getheader("Location"))
        query = f"{location.query}&" if location.query else ""
        call(
            "PUT",
            f"{location.path}?{query}digest={digest}",
            blob.read_bytes(),
            {"Content-Type": "application/octet-stream"},
        )

    def put(descriptor: dict[str, Any], reference: str) -> None:
        raw = (blobs / str(descriptor["digest"]).removeprefix("sha256:")).read_bytes()
        doc = json.loads(raw)
        for child in doc.get("manifests") or []:
            if (blobs / str(child["digest"]).removeprefix("sha256:")).is_file():
                put(child, str(child["digest"]))
        media = descriptor.get("mediaType") or doc.get("mediaType")
        call("PUT", f"/v2/{repository}/manifests/{reference}", raw, {"Content-Type": media})

    index = json.loads((layout / "index.json").read_text())
    (top,) = index["manifests"]
    put(top, tag)
    conn.close()
    return str(top["digest"])
