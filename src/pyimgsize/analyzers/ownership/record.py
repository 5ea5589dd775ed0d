"""`*.dist-info` directories: name and version from METADATA, installer from INSTALLER (pip
writes `pip\\n`, uv writes `uv`), the installed files from RECORD (CSV; paths relative to the
site-packages directory, or absolute).

https://packaging.python.org/specifications/recording-installed-packages/
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from pyimgsize.analyzers.ownership.base import Listing, name_and_version, text
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex
from pyimgsize.fs.merge import Dir, Node
from pyimgsize.layers.content import MetadataFile


class RecordFormat:
    metadata = (
        MetadataFile("METADATA", within="*.dist-info"),
        MetadataFile("INSTALLER", within="*.dist-info"),
        MetadataFile("RECORD", within="*.dist-info"),
    )
    requires_file_list = True

    def claims(self, name: str, node: Node) -> bool:
        return name.endswith(".dist-info") and isinstance(node, Dir)

    def read(self, index: FileIndex, site: str, meta_path: str, problems: list[Finding]) -> Listing:
        name, version = name_and_version(index.data(f"{meta_path}/METADATA"))
        listing = Listing(name, version)
        record = index.data(f"{meta_path}/RECORD")
        if record is not None:
            listing.ownership = "RECORD"
            listing.files = []
            try:
                listing.add_all(site, _first_fields(record.decode("utf-8", "replace")))
            except csv.Error as exc:
                problems.append(
                    Finding("record-unparsable", "record", meta_path, facts={"error": str(exc)})
                )
        elif f"{meta_path}/RECORD" in index.files:
            problems.append(Finding("record-unreadable", "record", meta_path))
        listing.installer = (text(index.data(f"{meta_path}/INSTALLER")) or "").strip() or None
        return listing


def _first_fields(text: str) -> Iterable[str]:
    """The first field of every CSV row of `text` (empty rows give nothing), as `csv.reader`
    reads them; raises `csv.Error` where it does.

    A RECORD is written without quotes: when `text` holds no quote, carriage return or NUL and
    no line longer than the field size limit, the rows are its lines split at commas (what
    the reader would do, a few times faster); anything else goes through `csv.reader`.
    """
    lines = text.split("\n")
    if (
        '"' not in text
        and "\r" not in text
        and "\0" not in text
        and max(map(len, lines)) <= csv.field_size_limit()
    ):
        return [line.partition(",")[0] for line in lines if line]
    return _csv_first_fields(text)


def _csv_first_fields(text: str) -> Iterator[str]:
    """The first field of every CSV row of `text`, through `csv.reader` (raises `csv.Error`
    at the row it cannot read, after yielding the rows before it)."""
    for row in csv.reader(io.StringIO(text)):
        if row:
            yield row[0]
