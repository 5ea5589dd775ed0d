"""The shared context every analyzer reads and adds to (one per analysis).

Built once from the loaded image: the merged filesystem, its indexes, the site-packages
directories, the problems found so far. Each analyzer then adds its part, in pipeline order
(`pyimgsize.analyzers.PIPELINE`); the fields below say who sets what, and the report is
assembled from them at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyimgsize.analyzers.ownership import Distribution
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex, InodeSet
from pyimgsize.fs.merge import MergedFS
from pyimgsize.heap import give_back_free_pages
from pyimgsize.report import (
    BytecodeHealth,
    Cache,
    CacheKind,
    ImageInfo,
    Layer,
    Package,
    SitePackages,
    Suggestion,
)
from pyimgsize.sources.base import LoadedImage


@dataclass
class FoundCache:
    """A cache directory (or one stray wheel) and the regular files below it."""

    path: str
    kind: CacheKind
    paths: list[str] = field(default_factory=list)


@dataclass
class Context:
    loaded: LoadedImage
    fs: MergedFS
    index: FileIndex
    env: dict[str, str]
    """The image config's environment."""
    sites: list[str]
    """Real paths of the site-packages directories (design.md §3), sorted."""
    problems: list[Finding]
    """Every problem so far, in the order found; analyzers append theirs."""
    contents_still_wanted: Callable[[str], bool] = field(default=lambda path: True, repr=False)
    """Whether an analyzer yet to run reads the captured contents of the file stored at this
    path (set by `run_pipeline` before each analyzer; by default, all are kept)."""

    # DistributionsAnalyzer
    distributions: list[Distribution] = field(default_factory=list)
    owner: dict[str, Distribution] = field(default_factory=dict)
    """Owned path -> the first distribution (in `distributions` order) that owns it."""
    distribution_inodes: list[InodeSet] = field(default_factory=list)
    """One per distribution, in `distributions` order."""
    packages: list[Package] = field(default_factory=list)

    # SitePackagesAnalyzer
    site_files: dict[str, list[str]] = field(default_factory=dict)
    """Site-packages directory -> the regular files below it."""
    site_packages: list[SitePackages] = field(default_factory=list)
    python: InodeSet = field(default_factory=InodeSet)
    """Every site-packages directory, then every distribution's files outside them."""

    # CachesAnalyzer
    caches: list[Cache] = field(default_factory=list)
    cache_inodes: InodeSet = field(default_factory=InodeSet)
    dead_cache_prefixes: tuple[str, ...] = ()
    """`<dir>/` of every cache directory, visible, configured, or recognised among dead bytes."""
    dead_cache_kinds: dict[str, CacheKind] = field(default_factory=dict)
    """The same directories, each with its cache kind."""
    cache_files: list[FoundCache] = field(default_factory=list)
    """Each cache and stray wheel with its files (paths as the final view has them)."""

    # LayersAnalyzer
    layers: list[Layer] = field(default_factory=list)
    image: ImageInfo | None = None

    # BytecodeAnalyzer
    bytecode: BytecodeHealth = field(default_factory=BytecodeHealth)
    bytecode_inodes: InodeSet = field(default_factory=InodeSet)

    # AdviceAnalyzer
    suggestions: list[Suggestion] = field(default_factory=list)

    def done_reading_contents(self) -> None:
        """The running analyzer reads no more captured contents: drop those that no analyzer
        yet to run reads, and give the memory they held back to the system. `run_pipeline`
        calls it after each analyzer; an analyzer that builds large tables after reading may
        call it before (at a million files, RECORD contents are tens of MB)."""
        self.fs.release_contents(self.contents_still_wanted)
        give_back_free_pages()
