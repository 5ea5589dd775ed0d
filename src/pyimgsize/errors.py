"""One root error, caught once in the CLI; exit codes per design.md §5."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    BUDGET_EXCEEDED = 1
    USAGE = 2
    IMAGE_UNREADABLE = 3


class PyImgSizeError(Exception):
    """Root of every error pyimgsize raises on purpose; the message is one line for the user."""

    exit_code: ExitCode = ExitCode.IMAGE_UNREADABLE


# --- usage / configuration (exit 2) ---------------------------------------------------------


class UsageError(PyImgSizeError):
    """A bad flag, reference or option combination."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """An unreadable or invalid budget file, or invalid budget flags."""


# --- the image could not be read (exit 3) ----------------------------------------------------


class SourceError(PyImgSizeError):
    """The image could not be obtained from its source."""


class ImageNotFound(SourceError):
    pass


class EngineUnreachable(SourceError):
    pass


class AmbiguousImage(SourceError):
    """An archive or layout holds several images and none was chosen.

    A usage problem in spirit (the user must add --image), but the input decides it; exit 2 so
    that scripts can tell it from a corrupt archive.
    """

    exit_code = ExitCode.USAGE


class FormatError(SourceError):
    """The archive or layout is not in a format pyimgsize reads (or is inconsistent)."""


class MissingBlob(FormatError):
    pass


class UnsupportedMediaType(FormatError):
    pass


class CorruptLayer(FormatError):
    """A layer tar that is truncated, has a bad header checksum or cannot be decompressed."""


class ReportError(PyImgSizeError):
    """A saved JSON report that cannot be used (diff/check baselines)."""
