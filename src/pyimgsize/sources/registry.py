"""The registry source: `registry:REF` read straight from an OCI / Docker registry, no daemon.

Manifest, config and layer blobs come over the registry HTTP API (OCI distribution spec,
https://github.com/opencontainers/distribution-spec/blob/main/spec.md); each layer blob is read
by the same layer reader as every other source while it streams, never held whole in memory or
written to disk. Up to `CONCURRENCY` blobs stream at once; their summaries are applied in
`rootfs.diff_ids` order afterwards, as for every source.

- References as `docker pull` reads them: `python:3.12-slim` is Docker Hub's
  `library/python:3.12-slim`, `host[:port]/name[:tag]`, `name@sha256:...`.
- Authentication: the docker config (`DOCKER_CONFIG`, `~/.docker/config.json`: `auths`,
  `credsStore`, `credHelpers`, resolved by the docker SDK's `docker.auth`), then whatever the
  registry's `WWW-Authenticate` challenge asks for: a Bearer token (anonymous, with a user name
  and password, or from an identity token) or Basic. `Authorization` goes to the registry host
  and its token realm only, never to a redirect target (blob CDNs reject it).
- HTTPS with the system CAs plus `/etc/docker/certs.d/HOST/*.crt` (and client `*.cert`/`*.key`
  pairs), as docker does. A loopback registry may answer plain HTTP; any other registry only
  with `--insecure-registry HOST` (then, as docker does, its certificate is not verified).
- 429 and 5xx answers, and connections that fail, are retried a bounded number of times with
  backoff (`Retry-After` honoured, capped); what still fails is one line naming the registry.
- Every blob is checked against its descriptor: its size and its sha256 digest.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from pyimgsize.errors import (
    CorruptLayer,
    FormatError,
    ImageNotFound,
    PyImgSizeError,
    SourceError,
    UnsupportedMediaType,
    UsageError,
)
from pyimgsize.layers.reader import LayerData, read_layer
from pyimgsize.sources.base import LoadedImage, ProgressCallback
from pyimgsize.sources.resolve import (
    INDEX_TYPES,
    LAYER_TYPES,
    MANIFEST_TYPES,
    Candidate,
    _blob_path,
    _descriptor_platform,
    _platform_matches,
    host_platform,
    load_candidate,
)

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
CONCURRENCY = 4  # blobs streamed at once
ATTEMPTS = 4  # tries per request on 429 / 5xx / a failed connection
BACKOFF = 0.5  # seconds before the second try; doubled each time
RETRY_AFTER_CAP = 30.0
MANIFEST_LIMIT = 4 << 20
CHUNK = 1 << 20
REDIRECTS = 5
TIMEOUT = 60.0
CERTS_DIRS_ENV = "PYIMGSIZE_CERTS_D"  # overrides where registry CAs are looked up (tests)
USER_AGENT = "pyimgsize"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]+)?$")
_CHALLENGE_RE = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


# --- references -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryRef:
    """A parsed `docker pull` reference."""

    host: str  # as written, or docker.io
    repository: str  # with `library/` added on Docker Hub
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def reference(self) -> str:
        """What the manifests endpoint is asked for: the digest when given, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        name = f"{self.host}/{self.repository}"
        if self.tag:
            name += f":{self.tag}"
        if self.digest:
            name += f"@{self.digest}"
        return name

    @property
    def familiar(self) -> str:
        """The name as `docker images` shows it (`python:3.12-slim`)."""
        name = self.repository
        if self.host != DOCKER_HUB:
            name = f"{self.host}/{name}"
        elif name.startswith("library/"):
            name = name[len("library/") :]
        return f"{name}:{self.tag}" if self.tag else name


def parse_reference(text: str) -> RegistryRef:
    """`[host[:port]/]name[:tag][@sha256:hex]` as docker reads it (distribution/reference)."""
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST_RE.match(digest):
        raise UsageError(f"registry:{text}: {digest!r} is not a sha256 digest")
    host = DOCKER_HUB
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        if not _HOST_RE.match(first):
            raise UsageError(f"registry:{text}: {first!r} is not a registry host")
        host = first
        rest = remainder
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = DOCKER_HUB
    name, tag = rest, None
    last = rest.rpartition("/")[2]
    if ":" in last:
        name, _, tag = rest.rpartition(":")
        if not _TAG_RE.match(tag):
            raise UsageError(f"registry:{text}: {tag!r} is not a valid tag")
    if not _REPO_RE.match(name):
        raise UsageError(
            f"registry:{text}: {name!r} is not a repository name (lowercase letters, digits, "
            "separators)"
        )
    if host == DOCKER_HUB and "/" not in name:
        name = f"library/{name}"
    if tag is None and not digest:
        tag = "latest"
    return RegistryRef(host, name, tag, digest or None)


def is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# --- credentials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """What the docker config holds for a registry; never shown anywhere."""

    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)

    def basic(self) -> str | None:
        if not self.username or self.password is None:
            return None
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def docker_credentials(host: str) -> Credentials | None:
    """The docker config's credentials for `host` (docker.auth: auths, credsStore,
    credHelpers; DOCKER_CONFIG honoured); None when it has none."""
    from docker import auth
    from docker.errors import DockerException

    try:
        config = auth.load_config()
        entry = config.resolve_authconfig(None if host == DOCKER_HUB else host)
    except DockerException as exc:
        # the message of a credential helper's failure is its own output: not shown
        raise SourceError(
            f"registry {host}: the docker config's credential helper failed "
            f"({type(exc).__name__}); check `docker login {host}`"
        ) from None
    if not entry:
        return None
    lowered = {str(k).lower(): v for k, v in entry.items()}
    creds = Credentials(
        username=lowered.get("username") or None,
        password=lowered.get("password"),
        identity_token=lowered.get("identitytoken") or None,
    )
    if creds.identity_token is None and creds.basic() is None:
        return None
    return creds


# --- TLS --------------------------------------------------------------------------------------


def certs_dirs() -> list[Path]:
    """Where per-registry CAs live, as docker looks for them."""
    override = os.environ.get(CERTS_DIRS_ENV)
    if override:
        return [Path(p) for p in override.split(os.pathsep) if p]
    dirs = [Path("/etc/docker/certs.d")]
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    dirs.append(Path(config_home) / "docker" / "certs.d")  # rootless docker
    return dirs


def tls_context(host: str, *, verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    for base in certs_dirs():
        folder = base / host  # "host:port", as docker names these folders
        if not folder.is_dir():
            continue
        try:
            for ca in sorted(folder.glob("*.crt")):
                ctx.load_verify_locations(cafile=str(ca))
            for cert in sorted(folder.glob("*.cert")):
                key = cert.with_suffix(".key")
                if key.is_file():
                    ctx.load_cert_chain(str(cert), str(key))
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(
                f"registry {host}: cannot use the certificates in {folder}: {exc}"
            ) from None
    return ctx


# --- HTTP -------------------------------------------------------------------------------------


class RegistryHTTPError(SourceError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, params = header.strip().partition(" ")
    values = {
        m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _CHALLENGE_RE.finditer(params)
    }
    return scheme.lower(), values


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    reason = getattr(exc, "reason", None)
    if reason is not None and str(reason).strip():
        text = str(reason).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    # urllib3 wraps the interesting part after the pool's repr
    return re.sub(r"<urllib3\.[^>]*>:\s*", "", text)


def _retry_delay(response: Any, attempt: int) -> float:
    header = response.headers.get("Retry-After") if response is not None else None
    if header is not None:
        try:
            return max(0.0, min(float(header), RETRY_AFTER_CAP))
        except ValueError:
            pass
    return float(min(BACKOFF * (2**attempt), RETRY_AFTER_CAP))


class RegistryClient:
    """One registry host: scheme decision, authentication and retries; thread-safe."""

    def __init__(self, ref: RegistryRef, *, insecure: bool) -> None:
        import urllib3

        self.ref = ref
        self.host = ref.api_host
        self.shown = ref.host  # the name the user wrote, for messages
        self.insecure = insecure
        self.plain_allowed = insecure or is_loopback(self.host)
        self.scheme = "https"
        self._creds: Credentials | None = None
        self._creds_loaded = False
        self._authorization: str | None = None
        self._lock = threading.Lock()
        if insecure:
            # asked for by --insecure-registry: no warning per request on stderr
            import warnings

            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=CONCURRENCY + 2,
            ssl_context=tls_context(ref.host, verify=not insecure),
            timeout=urllib3.Timeout(connect=15.0, read=TIMEOUT),
            retries=False,
            headers={"User-Agent": USER_AGENT},
        )

    # -- credentials, challenge, token

    def credentials(self) -> Credentials | None:
        with self._lock:
            if not self._creds_loaded:
                self._creds = docker_credentials(self.ref.host)
                self._creds_loaded = True
            return self._creds

    def _authenticate(self, challenge: str) -> str:
        """An Authorization value answering a 401's challenge (raises when there is none)."""
        scheme, params = _parse_challenge(challenge)
        creds = self.credentials()
        repo = self.ref.repository
        if scheme == "basic":
            value = creds.basic() if creds is not None else None
            if value is None:
                raise RegistryHTTPError(
                    f"registry {self.shown}: {repo} needs a login (401 Unauthorized, Basic "
                    f"auth); run `docker login {self.shown}`",
                    401,
                )
            return value
        if scheme != "bearer" or not params.get("realm"):
            raise RegistryHTTPError(
                f"registry {self.shown}: unsupported authentication scheme {scheme!r} "
                "(401 Unauthorized)",
                401,
            )
        return f"Bearer {self._token(params, creds)}"

    def _login_needed(self) -> RegistryHTTPError:
        return RegistryHTTPError(
            f"registry {self.shown}: no access to {self.ref.repository} without a login "
            f"(401 Unauthorized); run `docker login {self.shown}`, or check the name",
            401,
        )

    def _rejected(self) -> RegistryHTTPError:
        return RegistryHTTPError(
            f"registry {self.shown}: the docker config's credentials were rejected for "
            f"{self.ref.repository} (401 Unauthorized); run `docker login {self.shown}` again",
            401,
        )

    def _token(self, params: dict[str, str], creds: Credentials | None) -> str:
        realm = params["realm"]
        realm_url = urlsplit(realm)
        realm_host = realm_url.netloc
        if realm_url.scheme != "https" and not (
            realm_url.scheme == "http" and (is_loopback(realm_host) or self.insecure)
        ):
            raise SourceError(
                f"registry {self.shown}: refusing its token service {realm_url.scheme}://"
                f"{realm_host} (not HTTPS)"
            )
        scope = f"repository:{self.ref.repository}:pull"
        query: dict[str, str] = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        headers: dict[str, str] = {}
        method = "GET"
        body: bytes | None = None
        if creds is not None and creds.identity_token:
            method = "POST"
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": USER_AGENT,
                **query,
            }
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            url = realm
        else:
            if creds is not None and creds.basic() is not None:
                headers["Authorization"] = creds.basic() or ""
                query["account"] = creds.username or ""
            sep = "&" if "?" in realm else "?"
            url = f"{realm}{sep}{urlencode(query)}"
        response = self._send(method, url, headers, body=body, what="token")
        try:
            status = response.status
            raw = response.read(MANIFEST_LIMIT)
        finally:
            response.release_conn()
        if status in (401, 403):
            raise self._rejected() if creds is not None else self._login_needed()
        if status != 200:
            raise RegistryHTTPError(
                f"registry {self.shown}: its token service {realm_host} answered {status}", status
            )
        try:
            doc = json.loads(raw)
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise SourceError(
                f"registry {self.shown}: its token service {realm_host} sent no token"
            )
        return token

    # -- requests

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        body: bytes | None = None,
        what: str,
    ) -> Any:
        """One request with bounded retries on 429 / 5xx / failed connections; the response is
        returned unread (streaming) once it is not worth retrying."""
        import urllib3.exceptions as ue

        last: Any = None
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(_retry_delay(last, attempt - 1))
            try:
                response = self._pool.request(
                    method,
                    url,
                    headers=headers,
                    body=body,
                    preload_content=False,
                    redirect=False,
                )
            except ue.SSLError as exc:
                raise self._tls_error(exc) from None
            except ue.NameResolutionError:
                raise SourceError(
                    f"registry {urlsplit(url).netloc}: unknown host (name does not resolve)"
                ) from None
            except (ue.HTTPError, OSError) as exc:
                if attempt + 1 == ATTEMPTS:
                    raise SourceError(
                        f"registry {urlsplit(url).netloc}: cannot connect ({_first_line(exc)}) "
                        f"after {ATTEMPTS} attempts"
                    ) from None
                last = None
                continue
            if response.status == 429 or response.status >= 500:
                response.drain_conn()
                response.release_conn()
                last = response
                if attempt + 1 == ATTEMPTS:
                    break
                continue
            return response
        assert last is not None
        if last.status == 429:
            raise RegistryHTTPError(
                f"registry {urlsplit(url).netloc}: rate limit reached (429 Too Many Requests) "
                f"reading {what}, still after {ATTEMPTS} attempts; wait, or log in for a higher "
                "limit",
                429,
            )
        raise RegistryHTTPError(
            f"registry {urlsplit(url).netloc}: server error {last.status} reading {what}, "
            f"still after {ATTEMPTS} attempts",
            last.status,
        )

    def _tls_error(self, exc: BaseException) -> SourceError:
        detail = _first_line(exc)
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
            return SourceError(
                f"registry {self.shown}: its TLS certificate is not trusted "
                f"({detail.split(': ')[-1]}); "
                f"put its CA in /etc/docker/certs.d/{self.shown}/ca.crt, or pass "
                f"--insecure-registry {self.shown}"
            )
        return SourceError(f"registry {self.shown}: TLS failed ({detail})")

    def _probe_scheme(self) -> None:
        """Decide https or http once: a loopback (or --insecure-registry) host that does not
        speak TLS is read over plain HTTP, as docker does."""
        import urllib3.exceptions as ue

        if self._probed:
            return
        self._probed = True
        if not self.plain_allowed:
            return
        try:
            response = self._pool.request(
                "GET", f"https://{self.host}/v2/", preload_content=False, redirect=False
            )
            response.drain_conn()
            response.release_conn()
        except ue.SSLError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                raise self._tls_error(exc) from None
            self.scheme = "http"
        except (ue.ProtocolError, ue.NewConnectionError, ue.MaxRetryError, OSError):
            self.scheme = "http"

    _probed = False

    def get(self, path: str, *, accept: str | None = None, what: str) -> Any:
        """GET `/v2/<repository>/<path>` on the registry, authenticated, following redirects
        (without the Authorization header); returns the streaming response with status 200."""
        with self._lock:
            self._probe_scheme()
        url = f"{self.scheme}://{self.host}/v2/{self.ref.repository}/{path}"
        for attempt in range(2):
            headers: dict[str, str] = {}
            if accept:
                headers["Accept"] = accept
            with self._lock:
                authorization = self._authorization
            if authorization:
                headers["Authorization"] = authorization
            response = self._send("GET", url, headers, what=what)
            if response.status != 401:
                return self._follow(response, url, accept, what)
            challenge = response.headers.get("WWW-Authenticate", "")
            response.drain_conn()
            response.release_conn()
            if attempt:
                break
            new = self._authenticate(challenge)
            with self._lock:
                self._authorization = new
        raise self._rejected() if self.credentials() is not None else self._login_needed()

    def _follow(self, response: Any, url: str, accept: str | None, what: str) -> Any:
        for _ in range(REDIRECTS + 1):
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                response.drain_conn()
                response.release_conn()
                if not location:
                    raise SourceError(
                        f"registry {self.shown}: redirect without a Location ({what})"
                    )
                url = urljoin(url, location)
                target = urlsplit(url)
                if target.scheme != "https" and not (
                    target.scheme == "http" and (is_loopback(target.netloc) or self.insecure)
                ):
                    raise SourceError(
                        f"registry {self.shown}: refusing a redirect to plain HTTP "
                        f"{target.netloc} ({what})"
                    )
                headers = {"Accept": accept} if accept else {}
                # never the registry's Authorization on a redirect target
                response = self._send("GET", url, headers, what=what)
                continue
            if response.status == 200:
                return response
            status = response.status
            body = response.read(65536)
            response.release_conn()
            raise self._status_error(status, body, what)
        raise SourceError(f"registry {self.shown}: too many redirects ({what})")

    def _status_error(self, status: int, body: bytes, what: str) -> RegistryHTTPError:
        code = ""
        try:
            errors = json.loads(body).get("errors") or []
            if errors and isinstance(errors[0], dict):
                code = str(errors[0].get("code") or "")
        except (ValueError, AttributeError):
            pass
        detail = f"{status}{' ' + code if code else ''}"
        if status == 404:
            return RegistryHTTPError(f"registry {self.shown}: {what} not found ({detail})", 404)
        if status == 403:
            return RegistryHTTPError(
                f"registry {self.shown}: access to {self.ref.repository} denied ({detail}); "
                f"check `docker login {self.shown}`",
                403,
            )
        return RegistryHTTPError(f"registry {self.shown}: {what} answered {detail}", status)

    def get_small(self, path: str, *, accept: str | None, what: str, limit: int) -> bytes:
        """A whole small document (manifest, config), at most `limit` bytes."""
        import urllib3.exceptions as ue

        response = self.get(path, accept=accept, what=what)
        try:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise FormatError(f"registry {self.shown}: {what} is larger than {limit} bytes")
            data = response.read(limit + 1)
        except (ue.HTTPError, OSError) as exc:
            raise SourceError(
                f"registry {self.shown}: the connection broke off reading {what} "
                f"({_first_line(exc)})"
            ) from None
        finally:
            response.release_conn()
        if len(data) > limit:
            raise FormatError(f"registry {self.shown}: {what} is larger than {limit} bytes")
        return bytes(data)

    def close(self) -> None:
        self._pool.clear()


# --- blobs ------------------------------------------------------------------------------------


class TransportBroke(SourceError):
    """The connection failed while a blob streamed (retried from the start of the blob)."""


class BlobStream:
    """A blob's HTTP body as a ByteStream, checked against its descriptor at the end: the
    byte count and the sha256 digest. Transport failures are remembered (`broke`) because the
    decompressor above it reports any read failure as corrupt data."""

    def __init__(
        self, response: Any, digest: str, size: int, what: str, count: Callable[[int], None]
    ) -> None:
        self._response = response
        self._digest = digest
        self._size = size
        self._what = what
        self._hash = hashlib.sha256()
        self._count = count
        self.consumed = 0
        self.broke: TransportBroke | None = None

    def read(self, n: int) -> bytes:
        import urllib3.exceptions as ue

        if n <= 0:
            return b""
        try:
            out = self._response.read(n)
        except (ue.HTTPError, OSError) as exc:
            self.broke = TransportBroke(
                f"{self._what}: the connection broke off after {self.consumed} of {self._size} "
                f"bytes ({_first_line(exc)})"
            )
            raise self.broke from None
        if out:
            self._hash.update(out)
            self.consumed += len(out)
            self._count(len(out))
            if self.consumed > self._size:
                raise CorruptLayer(
                    f"{self._what}: the registry sent more than the {self._size} bytes its "
                    "manifest declares"
                )
        return bytes(out)

    def skip(self, n: int) -> int:
        done = 0
        while done < n:
            chunk = self.read(min(CHUNK, n - done))
            if not chunk:
                break
            done += len(chunk)
        return done

    def finish(self) -> None:
        """Read what the layer reader left (trailing padding) and check size and digest."""
        while self.read(CHUNK):
            pass
        if self.consumed < self._size:
            self.broke = TransportBroke(
                f"{self._what}: the connection broke off after {self.consumed} of "
                f"{self._size} bytes"
            )
            raise self.broke
        got = f"sha256:{self._hash.hexdigest()}"
        if got != self._digest:
            raise CorruptLayer(
                f"{self._what}: the blob's sha256 is not its digest (got {got[:19]}, "
                f"expected {self._digest[:19]}): the registry's copy is corrupt"
            )


class RegistryStore:
    """The chosen image's blobs in a registry, by blob path (`blobs/sha256/<hex>`), for the
    shared `load_candidate`. Layers are summarised ahead, CONCURRENCY at a time, once
    `prefetch` is called; `layer` hands out each result in the order asked."""

    def __init__(self, client: RegistryClient, descriptors: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.what = f"registry {client.shown}"
        self._descriptors = descriptors  # blob path -> descriptor
        self._raw: dict[str, bytes] = {}
        self._futures: dict[str, Future[LayerData]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._progress: ProgressCallback | None = None
        self._done = 0
        self._count_lock = threading.Lock()

    def has(self, path: str) -> bool:
        return path in self._descriptors

    def size(self, path: str) -> int | None:
        desc = self._descriptors.get(path)
        return int(desc["size"]) if desc is not None and isinstance(desc.get("size"), int) else None

    def raw(self, path: str) -> bytes | None:
        if path in self._raw:
            return self._raw[path]
        desc = self._descriptors.get(path)
        if desc is None:
            return None
        digest = str(desc["digest"])
        data = self.client.get_small(
            f"blobs/{digest}", accept=None, what=f"blob {digest[:19]}", limit=MANIFEST_LIMIT
        )
        if f"sha256:{hashlib.sha256(data).hexdigest()}" != digest:
            raise CorruptLayer(
                f"{self.what}: blob {digest[:19]}'s sha256 is not its digest: the registry's "
                "copy is corrupt"
            )
        self._raw[path] = data
        return data

    def json(self, path: str) -> Any | None:
        raw = self.raw(path)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise FormatError(f"{self.what}: {path} is not valid JSON") from exc

    def _count(self, n: int) -> None:
        if self._progress is None:
            return
        with self._count_lock:
            self._done += n
            done = self._done
        self._progress("downloading", done)

    def prefetch(self, paths: list[str], progress: ProgressCallback | None) -> None:
        self._progress = progress
        workers = max(1, min(CONCURRENCY, len(paths)))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pyimgsize-blob")
        for i, path in enumerate(paths):
            if path not in self._futures:
                self._futures[path] = self._pool.submit(self._read_layer, path, f"layer {i}")

    def _read_layer(self, path: str, label: str) -> LayerData:
        desc = self._descriptors[path]
        digest = str(desc["digest"])
        size = int(desc["size"])
        what = f"{label} ({digest[:19]})"
        for attempt in range(ATTEMPTS):
            response = self.client.get(f"blobs/{digest}", what=f"blob {digest[:19]}")
            stream = BlobStream(response, digest, size, what, self._count)
            try:
                data = read_layer(stream, what, blob_size=size)
                stream.finish()
                return data
            except PyImgSizeError as exc:
                if stream.broke is None:
                    raise
                if attempt + 1 == ATTEMPTS:
                    raise stream.broke from exc
                time.sleep(BACKOFF * (2**attempt))
            finally:
                response.release_conn()
        raise AssertionError("unreachable")  # pragma: no cover

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        future = self._futures.get(path)
        if future is None:
            self.prefetch([path], progress)
            future = self._futures[path]
        return future.result()

    def close(self) -> None:
        if self._pool is not None:
            for future in self._futures.values():
                future.cancel()
            self._pool.shutdown(wait=True)
        self.client.close()


# --- choosing the image -----------------------------------------------------------------------


def _manifest(client: RegistryClient, reference: str, what: str) -> tuple[dict[str, Any], str]:
    raw = client.get_small(f"manifests/{reference}", accept=ACCEPT, what=what, limit=MANIFEST_LIMIT)
    digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
    if reference.startswith("sha256:") and digest != reference:
        raise CorruptLayer(
            f"registry {client.shown}: manifest {reference[:19]}'s sha256 is not its digest"
        )
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise FormatError(f"registry {client.shown}: {what} is not JSON") from exc
    if not isinstance(doc, dict):
        raise FormatError(f"registry {client.shown}: {what} is not a JSON object")
    return doc, digest


def _platforms(descs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The index's image entries with their platforms, attestations left out."""
    out: list[tuple[str, dict[str, Any]]] = []
    for desc in descs:
        if not isinstance(desc, dict) or "digest" not in desc:
            continue
        ann = desc.get("annotations") or {}
        if ann.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        plat = _descriptor_platform(desc)
        if plat is None or plat.startswith("unknown/"):
            continue
        media = desc.get("mediaType")
        if media is not None and media not in INDEX_TYPES and media not in MANIFEST_TYPES:
            continue
        out.append((plat, desc))
    return out


def choose_manifest(
    client: RegistryClient, platform: str | None
) -> tuple[dict[str, Any], str | None]:
    """The image manifest for the reference: through an index, the entry for `platform`
    (default: this machine's); returns (manifest, platform from the index)."""
    ref = client.ref
    doc, _ = _manifest(client, ref.reference, f"manifest {ref.familiar}")
    chosen: str | None = None
    for _depth in range(4):
        media = doc.get("mediaType")
        if media in INDEX_TYPES or (media is None and "manifests" in doc):
            entries = _platforms(doc.get("manifests") or [])
            want = platform or host_platform()
            matching = [(p, d) for p, d in entries if _platform_matches(p, want)]
            exact = [(p, d) for p, d in matching if p == want]
            picks = exact or matching
            if not picks:
                have = ", ".join(sorted({p for p, _ in entries})) or "none"
                raise ImageNotFound(
                    f"registry {client.shown}: {ref.familiar} has no image for platform {want} "
                    f"(it has: {have}); choose one with --platform"
                )
            chosen, desc = picks[0]
            digest = str(desc["digest"])
            doc, _ = _manifest(client, digest, f"manifest {digest[:19]} ({chosen})")
            continue
        if media is not None and media not in MANIFEST_TYPES:
            raise UnsupportedMediaType(
                f"registry {client.shown}: unsupported manifest media type {media!r} "
                f"({ref.familiar}; schema 1 manifests are not read)"
            )
        if not isinstance(doc.get("config"), dict) or not isinstance(doc.get("layers"), list):
            raise FormatError(
                f"registry {client.shown}: manifest of {ref.familiar} has no config or layers"
            )
        return doc, chosen
    raise FormatError(f"registry {client.shown}: image indexes nested too deep")


# --- the source -------------------------------------------------------------------------------


@dataclass
class RegistrySource:
    ref: str  # as the user wrote it (with the `registry:` prefix)
    name: str  # the docker reference
    platform: str | None = None
    insecure_registries: tuple[str, ...] = ()

    def load(self, *, progress: ProgressCallback | None = None) -> LoadedImage:
        parsed = parse_reference(self.name)
        insecure = (
            parsed.host in self.insecure_registries or parsed.api_host in self.insecure_registries
        )
        client = RegistryClient(parsed, insecure=insecure)
        manifest, plat = choose_manifest(client, self.platform)
        config_desc = manifest["config"]
        layers = manifest["layers"]
        descriptors: dict[str, dict[str, Any]] = {}
        for desc in [config_desc, *layers]:
            if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
                raise FormatError(f"registry {client.shown}: a descriptor without a digest")
            if not _DIGEST_RE.match(desc["digest"]) or not isinstance(desc.get("size"), int):
                raise FormatError(
                    f"registry {client.shown}: descriptor {str(desc.get('digest'))[:30]!r} "
                    "has no sha256 digest or size"
                )
            descriptors[_blob_path(desc["digest"])] = desc
        for layer in layers:
            media = layer.get("mediaType")
            if media is not None and media not in LAYER_TYPES:
                raise UnsupportedMediaType(
                    f"registry {client.shown}: unsupported layer media type {media!r}"
                )
        candidate = Candidate(
            names=[str(parsed)],
            config_path=_blob_path(config_desc["digest"]),
            layer_paths=[_blob_path(layer["digest"]) for layer in layers],
            platform=plat,
            layer_sizes=[int(layer["size"]) for layer in layers],
            tags=[parsed.familiar] if parsed.tag else [],
        )
        store = RegistryStore(client, descriptors)
        try:
            config_raw = store.raw(candidate.config_path)  # fails early, before any layer
            if config_raw is not None and self.platform is not None and plat is None:
                _check_platform(config_raw, self.platform, client.shown, parsed.familiar)
            store.prefetch(candidate.layer_paths, progress)
            return load_candidate(
                store,
                candidate,
                ref=self.ref,
                source="registry",
                progress=progress,
            )
        finally:
            store.close()


def _check_platform(raw: bytes, want: str, shown: str, name: str) -> None:
    try:
        cfg = json.loads(raw)
    except ValueError:
        return
    if not isinstance(cfg, dict) or not cfg.get("os") or not cfg.get("architecture"):
        return
    have = f"{cfg['os']}/{cfg['architecture']}" + (
        f"/{cfg['variant']}" if cfg.get("variant") else ""
    )
    if not _platform_matches(have, want):
        raise ImageNotFound(f"registry {shown}: {name} is a single {have} image, not {want}")
