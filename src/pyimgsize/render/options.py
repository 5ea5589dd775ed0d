"""The choices the CLI offers for rendering (formats, sort keys): closed sets, free of heavy
imports, so `pyimgsize --help` and the Docker CLI plugin's start-up do not pay for the renderers.
Re-exported by `pyimgsize.render`; the renderers import them from here (no import cycle)."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """Output formats of `inspect` and `diff` (a closed set; check has its own enum)."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


class CheckFormat(StrEnum):
    """Output formats of `check` (a closed set)."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    GITHUB = "github"


class SortKey(StrEnum):
    """Orderings of the distribution list in table and markdown output (`--sort`).

    `name` sorts ascending; every other key descending, ties broken by bytes, then name.
    """

    BYTES = "bytes"
    NAME = "name"
    FILES = "files"
    BYTECODE = "bytecode"
    SOURCE = "source"
    NATIVE = "native"
    METADATA = "metadata"
    DATA = "data"
