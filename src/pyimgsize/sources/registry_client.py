"""HTTP to one registry: credentials from the docker config, the `WWW-Authenticate` challenge
(Bearer token: anonymous, user name and password, identity token; or Basic), TLS with docker's
certs.d CAs, plain HTTP for loopback hosts or `--insecure-registry`, redirects without the
Authorization header, bounded retries with backoff on 429 / 5xx / failed connections.

Token flow: https://distribution.github.io/distribution/spec/auth/token/ (and the OAuth2
refresh-token grant for identity tokens, .../spec/auth/oauth/).
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from pyimgsize.errors import FormatError, SourceError
from pyimgsize.sources.registry_ref import DOCKER_HUB, RegistryRef, is_loopback

CONCURRENCY = 4  # blobs streamed at once
ATTEMPTS = 4  # tries per request on 429 / 5xx / a failed connection
BACKOFF = 0.5  # seconds before the second try; doubled each time
RETRY_AFTER_CAP = 30.0
REDIRECTS = 5
TIMEOUT = 60.0
CERTS_DIRS_ENV = "PYIMGSIZE_CERTS_D"  # overrides where registry CAs are looked up (tests)
USER_AGENT = "pyimgsize"
MANIFEST_LIMIT = 4 << 20
_CHALLENGE_RE = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


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


def first_line(exc: BaseException) -> str:
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
                        f"registry {urlsplit(url).netloc}: cannot connect ({first_line(exc)}) "
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
        detail = first_line(exc)
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
            response.close()  # whatever is left of an error body is not read
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
        complete = False
        try:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise FormatError(f"registry {self.shown}: {what} is larger than {limit} bytes")
            data = response.read(limit + 1)
            complete = len(data) <= limit
        except (ue.HTTPError, OSError) as exc:
            raise SourceError(
                f"registry {self.shown}: the connection broke off reading {what} "
                f"({first_line(exc)})"
            ) from None
        finally:
            if not complete:
                response.close()  # a half-read body must not go back to the pool
            response.release_conn()
        if len(data) > limit:
            raise FormatError(f"registry {self.shown}: {what} is larger than {limit} bytes")
        return bytes(data)

    def close(self) -> None:
        self._pool.clear()
