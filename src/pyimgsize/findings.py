"""Problems found while reading or analysing an image. Partial failures are data: each carries
its kind and code from where it was found, with the facts that describe it, and becomes a
`problems[]` entry of the report. The words for a code are made in `render.problems`."""

from __future__ import annotations

from collections.abc import Mapping
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


FindingCode = Literal[
    "name-outside-root",  # a tar entry name climbing out of the root: {name, read_as}
    "more-outside-root",  # more such entries than are listed, in one layer: {count}
    "bare-whiteout",  # a `.wh.` entry naming nothing
    "hardlink-outside-root",  # a hardlink target outside the root: {link, read_as}
    "hardlink-missing",  # a hardlink whose target does not exist: {target}
    "write-below-symlink",  # design.md §7: {dir, target, symlink_layer}
    "metadata-too-large",  # a metadata file over the read limit: {limit}
    "history-mismatch",  # history entries vs layers: {entries, layers}
    "no-record",  # a dist-info without RECORD: {name, version}
    "record-unparsable",  # {error}
    "record-unreadable",
    "listed-outside-root",  # {name, count, example, listing}
    "listed-missing",  # {name, count, listing}
    "listed-twice",  # files listed by more than one distribution: {count, example}
    "foreign-bytecode",  # {files, bytes, interpreters}
    "orphan-bytecode",  # {files, bytes}
    "missing-bytecode",  # {files}
    "no-python",
]

Fact = str | int | list[str] | None


class Finding(NamedTuple):
    code: FindingCode
    kind: FindingKind
    path: str | None = None  # root-relative, as the merged filesystem keys it
    layer: int | None = None
    facts: Mapping[str, Fact] | None = None
