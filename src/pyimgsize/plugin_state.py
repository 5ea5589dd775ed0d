"""What `pyimgsize install-plugin --check` finds: the state of the `docker-pyimgsize` launcher
as data (`cli.install` finds it, `render.plugin` words it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

LAUNCHER_MARKER = "pyimgsize-launcher"
"""The comment that marks a launcher `install-plugin` wrote (and may replace)."""


class PluginStatus(StrEnum):
    """What ``install-plugin --check`` finds (a closed set)."""

    OK = "ok"
    MISSING = "missing"
    PYTHON_GONE = "python-gone"
    PYIMGSIZE_GONE = "pyimgsize-gone"
    LINK = "link"
    DANGLING_LINK = "dangling-link"
    FOREIGN = "foreign"

    @property
    def works(self) -> bool:
        return self in (PluginStatus.OK, PluginStatus.LINK)


@dataclass(frozen=True, slots=True)
class PluginState:
    path: Path
    status: PluginStatus
    python: Path | None = None  # the launcher's interpreter, or a link's target
    current: bool = False  # the launcher runs this very interpreter
