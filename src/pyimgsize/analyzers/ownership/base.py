"""What every distribution metadata format gives, and the interface each one implements.

A distribution is found by its metadata in a site-packages directory (a `*.dist-info`
directory, an `*.egg-info` directory or single file); its format says its name, version and
installer and, where it has one, the list of files it installed. RECORD decides ownership, the
final view decides size (PyPA "Recording installed projects":
https://packaging.python.org/specifications/recording-installed-packages/).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from email.parser import HeaderParser
from typing import Literal, Protocol

from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex
from pyimgsize.fs.merge import Node
from pyimgsize.layers.content import MetadataFile
from pyimgsize.paths import join_listed, normalize

Ownership = Literal["RECORD", "installed-files.txt", "dpkg", "none"]


@dataclass
class Listing:
    """What a distribution's metadata says: who it is and, when it has one, its file list."""

    name: str | None
    version: str | None
    installer: str | None = None
    ownership: Ownership = "none"
    files: list[str] | None = None  # listed paths, root-relative; None: no file list at all
    climbing: list[str] = field(default_factory=list)  # rows whose `..` left the root, verbatim

    def add_listed(self, base: str, entry: str) -> None:
        """Add one listed path (a RECORD row, an installed-files.txt line) resolved against
        `base`; one that climbs out of the image root is kept inside it and remembered."""
        path, climbed = join_listed(base, entry)
        if self.files is None:
            self.files = []
        self.files.append(path)
        if climbed:
            self.climbing.append(entry)

    def add_all(self, base: str, entries: Iterable[str]) -> None:
        """`add_listed(base, entry)` for every entry, stripped, that is not empty.

        A RECORD has a row per installed file (a million in a big image): a relative row with
        no `.`-leading part and no `//` under a clean `base` is already a key once joined (what
        `join_listed` would return, without its calls); every other row goes through it.
        """
        if self.files is None:
            self.files = []
        files = self.files
        clean = bool(base) and normalize(base) == (base, False)
        prefix = f"{base}/"
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            if clean and entry[0] not in "./" and "//" not in entry and "/." not in entry:
                files.append(prefix + entry.rstrip("/"))
            else:
                self.add_listed(base, entry)


class MetadataFormat(Protocol):
    """One way a distribution's metadata sits in a site-packages directory."""

    @property
    def metadata(self) -> tuple[MetadataFile, ...]:
        """The files whose contents `read` uses (the layer reader keeps those)."""
        ...

    @property
    def requires_file_list(self) -> bool:
        """Whether a distribution of this format without a file list (and not owned through
        dpkg) is worth a problem: a dist-info without RECORD is; an egg-info without
        installed-files.txt is what distutils and Debian write."""
        ...

    def claims(self, name: str, node: Node) -> bool:
        """Whether the site-packages entry `name` is metadata in this format."""
        ...

    def read(self, index: FileIndex, site: str, meta_path: str, problems: list[Finding]) -> Listing:
        """The listing of the distribution whose metadata is at `meta_path` in `site`;
        unreadable parts become problems, never exceptions."""
        ...


@dataclass
class Distribution:
    name: str
    version: str | None
    installer: str | None
    site: str  # real path of the site-packages directory
    metadata_path: str
    ownership: Ownership
    paths: list[str] = field(default_factory=list)
    """Owned visible regular files (real paths), sorted: a list, not a set, as a million of them
    are kept for the whole analysis."""
    missing: int = 0  # listed files absent from the final view


def text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", "replace")


def name_and_version(raw: bytes | None) -> tuple[str | None, str | None]:
    """`Name` and `Version` of a core metadata file (METADATA, PKG-INFO)."""
    content = text(raw)
    if not content:
        return None, None
    msg = HeaderParser().parsestr(content, headersonly=True)
    return msg.get("Name"), msg.get("Version")
