"""What every source produces, and the interface it implements."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyimgsize.findings import Finding
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.reader import LayerData
from pyimgsize.report import ReadVia, SourceKind

ProgressCallback = Callable[[str, int], None]


@dataclass
class LoadedLayer:
    diff_id: str
    data: LayerData
    created_by: str | None = None
    comment: str | None = None


@dataclass
class LoadedImage:
    """An image read from a source: its config and every layer's summary, base first."""

    ref: str
    source: SourceKind
    id: str  # the image config's digest, "sha256:<hex>"
    config: dict[str, Any]
    layers: list[LoadedLayer]
    tags: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    # how an engine image was read: "export" (the engine's image export), "layer-storage" (its
    # overlay2 layer storage in place: sources/storage.py) or "content-store" (its containerd
    # content store in place: sources/content_store.py); None for other sources
    read_via: ReadVia | None = None

    @property
    def platform(self) -> str | None:
        os_ = self.config.get("os")
        arch = self.config.get("architecture")
        if not os_ or not arch:
            return None
        variant = self.config.get("variant")
        return f"{os_}/{arch}/{variant}" if variant else f"{os_}/{arch}"

    @property
    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        cfg = self.config.get("config")
        env = cfg.get("Env") if isinstance(cfg, dict) else None
        for item in env if isinstance(env, list) else []:
            if isinstance(item, str):
                key, _, value = item.partition("=")
                out[key] = value
        return out


class ImageSource(Protocol):
    """Where an image's bytes come from. `load` reads every layer in one streaming pass,
    keeping the contents of the files `wants` selects (the analyzers' metadata files) and only
    the headers of every other file."""

    def load(
        self, *, wants: ContentSelector, progress: ProgressCallback | None = None
    ) -> LoadedImage: ...


def unblock(response: Any) -> None:
    """Shut the socket of a streaming HTTP response down, so that a read blocked on it in
    another thread returns now (urllib3 >= 2.3 `HTTPResponse.shutdown`): a stopped run does
    not wait for a stalled server. A no-op where that is not possible."""
    unavailable = (AttributeError, NotImplementedError, ValueError, RuntimeError, OSError)
    with contextlib.suppress(*unavailable):
        response.shutdown()
