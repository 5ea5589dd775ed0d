"""Image sources and the reference syntax of design.md §6.

`docker:REF` the Docker Engine; `docker-archive:PATH` a `docker save` archive (plain or gzipped);
`oci:PATH` an OCI image layout, directory or tar; `registry:REF` a registry, read without any
daemon (REF as `docker pull` reads it). A bare argument is a path when it names an
existing file or directory (its kind detected from its content), otherwise an engine reference.
The prefix always wins: an engine image literally named `oci:x` is `docker:oci:x`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, assert_never

from pyimgsize.errors import UsageError
from pyimgsize.sources.base import ImageSource, LoadedImage, LoadedLayer
from pyimgsize.sources.files import FileSource

if TYPE_CHECKING:
    from pyimgsize.layers.cache import LayerCache
    from pyimgsize.sources.engine import EngineSource
    from pyimgsize.sources.registry import RegistrySource

__all__ = [
    "EngineSource",
    "FileSource",
    "ImageSource",
    "LoadedImage",
    "LoadedLayer",
    "RegistrySource",
    "SourceKindOption",
    "open_source",
    "parse_ref",
]


def __getattr__(name: str) -> Any:
    # The engine and registry sources import the docker SDK and an HTTP stack: only a run that
    # reads through them pays for that (an archive inspect starts faster).
    if name == "EngineSource":
        from pyimgsize.sources.engine import EngineSource

        return EngineSource
    if name == "RegistrySource":
        from pyimgsize.sources.registry import RegistrySource

        return RegistrySource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SourceKindOption(StrEnum):
    DOCKER = "docker"
    DOCKER_ARCHIVE = "docker-archive"
    OCI = "oci"
    REGISTRY = "registry"
    PATH = "path"  # a bare path: kind detected from the content


def parse_ref(ref: str) -> tuple[SourceKindOption, str]:
    """Split a reference into (kind, rest)."""
    for kind in (
        SourceKindOption.DOCKER_ARCHIVE,
        SourceKindOption.DOCKER,
        SourceKindOption.OCI,
        SourceKindOption.REGISTRY,
    ):
        prefix = f"{kind.value}:"
        if ref.startswith(prefix):
            rest = ref[len(prefix) :]
            if not rest:
                raise UsageError(f"empty reference after {prefix!r}")
            return kind, rest
    if not ref:
        raise UsageError("empty image reference")
    if Path(ref).exists() or _looks_like_path(ref):
        return SourceKindOption.PATH, ref
    return SourceKindOption.DOCKER, ref


# An engine reference as the Docker CLI parses it (distribution/reference's grammar):
# [domain[:port]/]component[/component...][:tag][@digest], components in lower case.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
# a first component is a registry host only with a dot, a port, or as `localhost`
_DOMAIN = (
    rf"(?:{_LABEL}(?:\.{_LABEL})+(?::[0-9]+)?|{_LABEL}:[0-9]+|localhost"
    r"|\[[0-9a-fA-F:]+\](?::[0-9]+)?)"
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_ENGINE_REF = re.compile(
    rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
# What image files are called: a reference ending so is meant as a file, not an engine image.
_FILE_SUFFIXES = (".json", ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd")


def _looks_like_path(ref: str) -> bool:
    """A reference that is meant as a path even when nothing is there, so that a mistyped path
    is reported as a missing file rather than a missing engine image: what no engine reference
    can be (`/x`, `./x`, `../x`, `~/x`, `dir/Report.tar` with a `/` outside the engine's
    grammar), or a name ending like an image file or report (`.json`, `.tar`, `.tar.gz`,
    `.tgz`, `.tar.zst`)."""
    if ref.startswith(("/", "./", "../", "~")) or ref in (".", ".."):
        return True
    if ref.lower().endswith(_FILE_SUFFIXES):
        return True
    return "/" in ref and _ENGINE_REF.fullmatch(ref) is None


def open_source(
    ref: str,
    *,
    image: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    insecure_registries: tuple[str, ...] = (),
    cache: LayerCache | None = None,
) -> ImageSource:
    """The source `ref` names. `cache` keeps per-layer results for the sources that can skip
    reading a layer (archives and layouts on disk, the engine's layer storage, registries)."""
    kind, rest = parse_ref(ref)
    if platform is not None:
        parts = platform.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(
                f"--platform {platform!r}: expected os/arch[/variant], e.g. linux/amd64"
            )
    match kind:
        case SourceKindOption.DOCKER:
            if image is not None:
                raise UsageError("--image selects from an archive or layout, not from the engine")
            from pyimgsize.sources.engine import EngineSource

            return EngineSource(ref=ref, name=rest, pull=pull, platform=platform, cache=cache)
        case SourceKindOption.DOCKER_ARCHIVE:
            return FileSource(ref, Path(rest), "docker-archive", image, platform, cache)
        case SourceKindOption.OCI:
            return FileSource(ref, Path(rest), "oci", image, platform, cache)
        case SourceKindOption.REGISTRY:
            if image is not None:
                raise UsageError("--image selects from an archive or layout, not from a registry")
            from pyimgsize.sources.registry import RegistrySource

            return RegistrySource(
                ref=ref,
                name=rest,
                platform=platform,
                insecure_registries=insecure_registries,
                cache=cache,
            )
        case SourceKindOption.PATH:
            return FileSource(ref, Path(rest), None, image, platform, cache)
        case _:
            assert_never(kind)
