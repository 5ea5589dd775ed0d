"""Image references as `docker pull` reads them (distribution/reference): `python:3.12-slim`
is Docker Hub's `library/python:3.12-slim`; `host[:port]/name[:tag]`; `name@sha256:...`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyimgsize.errors import UsageError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]+)?$")


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
    if digest and not DIGEST_RE.match(digest):
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
