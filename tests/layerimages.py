"""Helpers for the exact-number tests of layer application, sources and errors: write generated
layers as an image, inspect it, merge layers directly, and check the invariants every report
must satisfy (design.md §2)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fixtures import Image, Layer
from pyimgsize.analyzers import CONTENT_WANTED
from pyimgsize.fs.merge import File as FileNode
from pyimgsize.fs.merge import MergedFS, Symlink, merge
from pyimgsize.layers.reader import read_layer
from pyimgsize.layers.stream import FileStream
from pyimgsize.render.problems import problem_text
from pyimgsize.report import InspectReport
from pyimgsize.report import Layer as ReportLayer
from tests.pyimages import check_invariants, inspect_image

__all__ = [
    "NO_PYTHON",
    "check_invariants",
    "dead_categories",
    "inspect_layers",
    "merged",
    "numbers",
    "problems",
    "storing_layer",
    "symlinks",
    "visible_files",
]

NO_PYTHON = "no Python site-packages or distributions found in this image"


def inspect_layers(
    tmp_path: Path, layers: Sequence[Layer] | Image, *, name: str = "image", **image_kw: Any
) -> InspectReport:
    """Write the layers (or image) as a legacy `docker save` archive and inspect it."""
    image = layers if isinstance(layers, Image) else Image("test/merge:1", layers, **image_kw)
    return inspect_image(tmp_path, image, name=name)


def numbers(report: InspectReport) -> list[tuple[int, int]]:
    """(bytes, dead_bytes) of every layer."""
    return [(layer.bytes, layer.dead_bytes) for layer in report.layers]


def dead_categories(layer: ReportLayer) -> dict[str, int]:
    """The non-zero dead categories of a layer."""
    return {k: v for k, v in layer.dead_categories.model_dump().items() if v}


def problems(report: InspectReport) -> list[tuple[str, str | None, int | None]]:
    """(message, path, layer) of every problem except the no-Python notice."""
    return [(problem_text(p), p.path, p.layer) for p in report.problems if p.code != "no-python"]


def merged(*layers: Layer) -> MergedFS:
    """The merged filesystem of the layers, read from their tars."""
    return merge(
        [
            read_layer(FileStream(io.BytesIO(layer.tar)), f"layer {i}", wants=CONTENT_WANTED)
            for i, layer in enumerate(layers)
        ]
    )


def visible_files(fs: MergedFS) -> dict[str, int]:
    """Every regular file of the final view and its size."""
    return {path: node.inode.size for path, node in fs.files()}


def symlinks(fs: MergedFS) -> dict[str, str]:
    return {path: node.target for path, node in fs.walk() if isinstance(node, Symlink)}


def storing_layer(fs: MergedFS, path: str) -> int:
    node = dict(fs.walk())[path]
    assert isinstance(node, FileNode)
    return node.inode.layer
