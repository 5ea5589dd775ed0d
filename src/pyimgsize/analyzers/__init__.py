"""From a loaded image to the report: merge the layers, then run the analyzers over one shared
context, in order, and assemble the report from what they found.

`PIPELINE` is the analysis; `CONTENT_WANTED` is what it needs the layer reader to keep (the
union of the analyzers' declared metadata files), handed to the sources by `pyimgsize.api`.
"""

from __future__ import annotations

from pyimgsize.analyzers.advice import AdviceAnalyzer
from pyimgsize.analyzers.base import Analyzer
from pyimgsize.analyzers.bytecode import BytecodeAnalyzer
from pyimgsize.analyzers.caches import CachesAnalyzer
from pyimgsize.analyzers.context import Context
from pyimgsize.analyzers.distributions import DistributionsAnalyzer
from pyimgsize.analyzers.layers import LayersAnalyzer
from pyimgsize.analyzers.site_packages import SitePackagesAnalyzer, find_site_packages
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex
from pyimgsize.fs.merge import merge
from pyimgsize.heap import give_back_free_pages
from pyimgsize.layers.content import ContentSelector
from pyimgsize.report import InspectReport, Problem, Totals
from pyimgsize.sources.base import LoadedImage

__all__ = [
    "CONTENT_WANTED",
    "PIPELINE",
    "AdviceAnalyzer",
    "Analyzer",
    "BytecodeAnalyzer",
    "CachesAnalyzer",
    "Context",
    "DistributionsAnalyzer",
    "LayersAnalyzer",
    "SitePackagesAnalyzer",
    "analyze",
    "build_context",
    "build_report",
    "run_pipeline",
]

PIPELINE: tuple[Analyzer, ...] = (
    DistributionsAnalyzer(),
    SitePackagesAnalyzer(),  # after distributions: unowned bytes
    CachesAnalyzer(),  # after distributions: a wheel a distribution owns is not stray
    LayersAnalyzer(),  # after site-packages and caches: Python and dead cache bytes per layer
    BytecodeAnalyzer(),
    AdviceAnalyzer(),  # last: suggestions claim bytes out of everything the others found
)

CONTENT_WANTED = ContentSelector(m for analyzer in PIPELINE for m in analyzer.metadata)
"""The files whose contents the analysis reads; the layer reader keeps only these."""

_STILL_WANTED = [
    ContentSelector(m for later in PIPELINE[n + 1 :] for m in later.metadata)
    for n in range(len(PIPELINE))
]
"""After each analyzer of `PIPELINE`, the files whose contents the analyzers after it read."""


def build_context(loaded: LoadedImage) -> Context:
    """Merge the layers and index the final view. The layers' entries are released once
    merged (the merged tree holds everything the analysis reads of them, and at a million
    paths their columns are tens of MB): `loaded` is analysed once."""
    fs = merge([layer.data for layer in loaded.layers])
    for layer in loaded.layers:
        layer.data.release_entries()
    give_back_free_pages()
    index = FileIndex(fs)
    env = loaded.env
    return Context(
        loaded=loaded,
        fs=fs,
        index=index,
        env=env,
        sites=find_site_packages(fs, index, env),
        problems=list(loaded.problems) + fs.problems,
    )


def build_report(ctx: Context) -> InspectReport:
    """The report, from a context every analyzer of `PIPELINE` has run over."""
    assert ctx.image is not None, "LayersAnalyzer has not run"
    python_found = bool(ctx.sites or ctx.distributions)
    if not python_found:
        ctx.problems.append(Finding("no-python", "no-python"))
    return InspectReport(
        image=ctx.image,
        layers=ctx.layers,
        site_packages=sorted(ctx.site_packages, key=lambda s: (-s.bytes, s.path)),
        packages=sorted(ctx.packages, key=lambda p: (-p.bytes, p.name.lower(), p.site_packages)),
        caches=sorted(ctx.caches, key=lambda c: (-c.bytes, c.path)),
        totals=Totals(
            python_bytes=ctx.python.bytes,
            bytecode_bytes=ctx.bytecode_inodes.bytes,
            cache_bytes=ctx.cache_inodes.bytes,
            dead_bytes=sum(layer.dead_bytes for layer in ctx.layers),
        ),
        problems=[
            Problem(
                path=f"/{f.path}" if f.path else None,
                layer=f.layer,
                kind=f.kind,
                code=f.code,
                facts=dict(f.facts or {}),
            )
            for f in ctx.problems
        ],
        bytecode=ctx.bytecode,
        python_found=python_found,
        suggestions=ctx.suggestions,
    )


def run_pipeline(loaded: LoadedImage) -> Context:
    """The context of a loaded image (its layers read with `CONTENT_WANTED`) after every
    analyzer of `PIPELINE` has run over it (what `analyze` reports; the HTML report also
    draws its file tree, `analyzers.file_tree`)."""
    ctx = build_context(loaded)
    for analyzer, still_wanted in zip(PIPELINE, _STILL_WANTED, strict=True):
        ctx.contents_still_wanted = still_wanted
        analyzer.run(ctx)
        ctx.done_reading_contents()  # and what it freed goes back, before the next one grows
    return ctx


def analyze(loaded: LoadedImage) -> InspectReport:
    """Attribute every byte of a loaded image (its layers read with `CONTENT_WANTED`)."""
    return build_report(run_pipeline(loaded))
