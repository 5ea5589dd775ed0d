"""`*.egg-info` directories (setuptools, `pip install` of an sdist by old pips): name and
version from PKG-INFO, the installed files from installed-files.txt (one path a line, relative
to the egg-info directory; it never lists itself)."""

from __future__ import annotations

from pyimgsize.analyzers.ownership.base import Listing, name_and_version
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex
from pyimgsize.fs.merge import Dir, Node
from pyimgsize.layers.content import MetadataFile


class InstalledFilesFormat:
    metadata = (
        MetadataFile("PKG-INFO", within="*.egg-info"),
        MetadataFile("installed-files.txt", within="*.egg-info"),
    )
    requires_file_list = False

    def claims(self, name: str, node: Node) -> bool:
        return name.endswith(".egg-info") and isinstance(node, Dir)

    def read(self, index: FileIndex, site: str, meta_path: str, problems: list[Finding]) -> Listing:
        listing = Listing(*name_and_version(index.data(f"{meta_path}/PKG-INFO")))
        files_txt = index.data(f"{meta_path}/installed-files.txt")
        if files_txt is not None:
            listing.ownership = "installed-files.txt"
            listing.add_all(meta_path, files_txt.decode("utf-8", "replace").splitlines())
        return listing
