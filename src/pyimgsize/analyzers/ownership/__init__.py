"""Distribution metadata formats, one module each; `FORMATS` in the order they are tried."""

from __future__ import annotations

from pyimgsize.analyzers.ownership.base import (
    Distribution,
    Listing,
    MetadataFormat,
    Ownership,
)
from pyimgsize.analyzers.ownership.dpkg import listed_by_dpkg
from pyimgsize.analyzers.ownership.egg_info_file import EggInfoFileFormat
from pyimgsize.analyzers.ownership.installed_files import InstalledFilesFormat
from pyimgsize.analyzers.ownership.record import RecordFormat

FORMATS: tuple[MetadataFormat, ...] = (
    RecordFormat(),
    InstalledFilesFormat(),
    EggInfoFileFormat(),
)

__all__ = [
    "FORMATS",
    "Distribution",
    "EggInfoFileFormat",
    "InstalledFilesFormat",
    "Listing",
    "MetadataFormat",
    "Ownership",
    "RecordFormat",
    "listed_by_dpkg",
]
