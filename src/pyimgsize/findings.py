"""Problems found while reading or analysing an image. Partial failures are data: each carries
its kind from where it was found, and becomes a `problems[]` entry of the report."""

from __future__ import annotations

from typing import Literal, NamedTuple

FindingKind = Literal[
    "unsafe-path",  # a tar name or listed path pointing outside the image root
    "hardlink",  # a hardlink whose target is missing or outside the root
    "symlink-parent",  # an entry below a lower layer's symlinked directory (design.md §7)
    "whiteout",  # a malformed whiteout entry
    "history",  # image history and layers do not match
    "record",  # RECORD / installed-files.txt: unreadable, missing, shared or outside files
    "metadata",  # a metadata file too large to read
    "bytecode",  # bytecode health
    "no-python",  # no site-packages or distributions at all
]


class Finding(NamedTuple):
    message: str
    kind: FindingKind
    path: str | None = None  # root-relative, as the merged filesystem keys it
    layer: int | None = None
