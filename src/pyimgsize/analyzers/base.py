"""The interface every analyzer implements.

An analyzer is one step of the analysis over the shared `Context`: it reads what the context
and the analyzers before it hold, and adds its part (report items, facts later analyzers use,
problems). It declares the small files whose contents it reads; the layer reader keeps the
contents of those files, and of no other (design.md §1 "metadata-first, contents never").

Adding one: a module with a class implementing `Analyzer`, its fields on `Context`, one entry in
`pyimgsize.analyzers.PIPELINE` (after the analyzers whose results it reads), and its part of the
report in `pyimgsize.analyzers.build_report`.
"""

from __future__ import annotations

from typing import Protocol

from pyimgsize.analyzers.context import Context
from pyimgsize.layers.content import MetadataFile


class Analyzer(Protocol):
    @property
    def metadata(self) -> tuple[MetadataFile, ...]:
        """The files whose contents `run` reads (none for most)."""
        ...

    def run(self, ctx: Context) -> None:
        """Add this analyzer's results to `ctx`."""
        ...
