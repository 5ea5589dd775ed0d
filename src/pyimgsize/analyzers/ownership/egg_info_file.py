"""A single-file `*.egg-info` (distutils, and Debian's packages of them): the file is the
PKG-INFO itself; it lists no files (Debian's own are owned through dpkg)."""

from __future__ import annotations

from pyimgsize.analyzers.ownership.base import Listing, name_and_version
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex
from pyimgsize.fs.merge import File, Node
from pyimgsize.layers.content import MetadataFile


class EggInfoFileFormat:
    metadata = (MetadataFile("*.egg-info"),)
    requires_file_list = False

    def claims(self, name: str, node: Node) -> bool:
        return name.endswith(".egg-info") and isinstance(node, File)

    def read(self, index: FileIndex, site: str, meta_path: str, problems: list[Finding]) -> Listing:
        return Listing(*name_and_version(index.data(meta_path)))
