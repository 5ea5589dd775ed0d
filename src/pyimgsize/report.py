"""Wire models: the JSON contract of design.md §4 (schema_version "1").

Fields may be added, never removed or renamed, without a schema_version bump. All sizes are
integers (bytes). Lists are sorted by bytes descending, then by name. The committed JSON Schema
(`schema/*.json`) is generated from these models and a test fails when they drift apart.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1"] = "1"

CATEGORIES: tuple[str, ...] = ("bytecode", "source", "native", "metadata", "data")
DEAD_CATEGORIES: tuple[str, ...] = (*CATEGORIES, "cache", "other")

SourceKind = Literal["docker", "docker-archive", "oci", "registry", "report"]
ReadVia = Literal["export", "layer-storage", "content-store"]  # how an engine image was read
CacheKind = Literal["pip", "uv", "poetry", "wheel"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _LaterModel(_Model):
    """A model `inspect` never builds (advise, diff and check ones): pydantic builds its
    validator and serializer on first use, not at import (`inspect` starts faster)."""

    model_config = ConfigDict(defer_build=True)


class Categories(_Model):
    """Bytes per category; a file is in exactly one, so they add up to the owner's bytes."""

    bytecode: int = 0
    source: int = 0
    native: int = 0
    metadata: int = 0
    data: int = 0

    def total(self) -> int:
        return self.bytecode + self.source + self.native + self.metadata + self.data


class DeadCategories(Categories):
    """Dead bytes of a layer: Python categories, plus caches/stray wheels and non-Python files."""

    cache: int = 0
    other: int = 0

    def total(self) -> int:
        return super().total() + self.cache + self.other


class ImageRef(_Model):
    ref: str
    source: SourceKind
    id: str = Field(description="Digest of the image config as the source holds it.")
    bytes: int = Field(description="Bytes visible in the final filesystem view.")
    layer_bytes: int = Field(description="Bytes stored across all layers (uncompressed).")


class ImageInfo(ImageRef):
    platform: str | None = Field(description="os/arch[/variant] from the image config.")
    compressed_bytes: int | None = Field(
        default=None, description="Sum of compressed layer blob sizes, where the source knows it."
    )
    files: int = Field(default=0, description="Regular files visible in the final view.")
    tags: list[str] = Field(default_factory=list)
    read_via: ReadVia | None = Field(
        default=None,
        description="How an engine image was read: the engine's image export, its local "
        "overlay2 layer storage in place (the same layer tars), or its local containerd "
        "content store in place (the export's very blobs); null for other sources.",
    )

    def as_ref(self) -> ImageRef:
        """The image as the diff and check contracts name it."""
        return ImageRef(
            ref=self.ref,
            source=self.source,
            id=self.id,
            bytes=self.bytes,
            layer_bytes=self.layer_bytes,
        )


class Layer(_Model):
    index: int
    diff_id: str
    created_by: str | None
    bytes: int
    dead_bytes: int
    compressed_bytes: int | None
    python_bytes: int
    categories: Categories
    dead_categories: DeadCategories
    files: int = Field(default=0, description="Regular files (inodes) the layer stores.")
    tar_bytes: int = Field(default=0, description="Size of the uncompressed layer tar.")
    comment: str | None = Field(
        default=None,
        description="The history entry's comment (e.g. `docker import`'s, which has no "
        "created_by).",
    )


class SitePackages(_Model):
    path: str
    bytes: int
    unowned_bytes: int
    categories: Categories
    kind: str = Field(
        default="other",
        description="venv, system, local, user, conda, pythonpath or other (informational).",
    )
    files: int = 0


class Package(_Model):
    name: str
    version: str | None
    installer: str | None
    site_packages: str
    bytes: int
    files: int
    categories: Categories
    layers: dict[str, int] = Field(
        description="Bytes per layer index (the layer that stored the visible file)."
    )
    metadata_path: str = ""
    ownership: Literal["RECORD", "installed-files.txt", "dpkg", "none"] = "RECORD"
    layer_categories: dict[str, Categories] = Field(default_factory=dict)


class Cache(_Model):
    path: str
    kind: CacheKind
    bytes: int
    exclusive_bytes: int
    files: int = 0


class Totals(_Model):
    python_bytes: int
    bytecode_bytes: int
    cache_bytes: int
    dead_bytes: int


class Problem(_Model):
    message: str = Field(
        default="",
        description="The problem in words, made from `code` and `facts` by the renderer.",
    )
    path: str | None = None
    layer: int | None = None
    kind: str = Field(
        default="other",
        description="unsafe-path, hardlink, symlink-parent, whiteout, history, record, "
        "metadata, bytecode or no-python (more may be added).",
    )
    code: str | None = Field(
        default=None,
        description="What exactly was found (e.g. listed-missing, foreign-bytecode); `facts` "
        "holds its details. Null in reports written before codes existed.",
    )
    facts: dict[str, str | int | list[str] | None] = Field(default_factory=dict)


class BytecodeBucket(_Model):
    files: int = 0
    bytes: int = 0


class BytecodeHealth(_Model):
    """Insight, not a category (design.md §3)."""

    interpreters: list[str] = Field(
        default_factory=list, description="Interpreter cache tags found in the image."
    )
    foreign_tag: BytecodeBucket = Field(default_factory=BytecodeBucket)
    without_source: BytecodeBucket = Field(default_factory=BytecodeBucket)
    source_without_pyc: BytecodeBucket = Field(default_factory=BytecodeBucket)


# --- advice (design.md §8) -------------------------------------------------------------------

SuggestionId = Literal[
    "pip-cache",
    "uv-cache",
    "poetry-cache",
    "stray-wheels",
    "deleted-later",
    "rewritten-unchanged",
    "bytecode",
    "foreign-bytecode",
    "build-toolchain",
    "installer-in-venv",
    "tests-in-site-packages",
    "headers-and-static-libs",
    "duplicate-distribution",
]
"""The closed, growing set of suggestion ids: extended, never renamed."""

Tradeoff = Literal[
    "first-import-compiles",
    "runtime-installs",
    "runtime-builds",
    "package-self-tests",
    "apt-dependencies",
]
"""What applying a fix may cost, as data: `first-import-compiles` (a read-only filesystem
recompiles at every start), `runtime-installs` (no pip in the runtime venv),
`runtime-builds` (nothing can compile C extensions at run time), `package-self-tests`,
`apt-dependencies` (a Debian package may depend on the removed one)."""


class Evidence(_Model):
    """A file behind a suggestion: its path (as the layer stored it) and the layer's index."""

    path: str
    bytes: int
    layer: int


FixKind = Literal[
    "multi-stage",
    "delete-in-same-run",
    "runtime-deps-only",
    "no-compile",
    "pip-no-cache-dir",
    "uv-no-cache",
    "poetry-no-cache",
    "no-stray-wheels",
    "no-cache-write",
    "review-growth",
    "single-environment",
    "slim-package",
    "same-layer-attributes",
    "drop-foreign-bytecode",
    "purge-build-toolchain",
    "venv-without-installer",
    "drop-tests",
    "drop-headers",
    "raise-limit",
]
"""What to change, as data (render/ words it). Shared by check's rules and advise's
suggestions (design.md §8): extended, never renamed."""


class Fix(_Model):
    """What to do, as data: `kind` plus the facts that apply; a failing check rule's fix and
    every advise suggestion's.

    `installer`, `env` and `flags` say how to install differently, `paths` and `layer` where,
    `package` and `category` what, `bytes` how much. A fix that comes from a suggestion names
    it (`suggestion`), how its layers were made (`written_by`), the layers that deleted or
    stored them again (`changed_by`) and, for a cache, the bytes it shares with installed
    files through hardlinks (`linked_bytes`, not saved).
    """

    kind: FixKind
    installer: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    layer: int | None = None
    package: str | None = None
    category: str | None = None
    bytes: int | None = None
    images: list[str] = Field(
        default_factory=list, description="The baseline and the image (kind review-growth)."
    )
    suggestion: SuggestionId | None = Field(
        default=None, description="The advise suggestion this fix comes from."
    )
    written_by: Literal["run", "copy", "base", "other"] | None = Field(
        default=None,
        description="How the layers holding the bytes were made: a RUN, a COPY/ADD, the "
        "first (base) layer, or anything else.",
    )
    changed_by: list[int] = Field(
        default_factory=list,
        description="Layers that deleted (deleted later) or stored again (rewritten "
        "unchanged) the bytes.",
    )
    linked_bytes: int = Field(
        default=0,
        description="A cache's bytes hardlinked into installed files: deleting it keeps them.",
    )


class Suggestion(_Model):
    """A fix with its measured saving (design.md §8). `saves_bytes` is how much
    `image.layer_bytes` shrinks when this one fix is applied; `layers` splits it by the layer
    whose stored bytes go away. No byte is claimed by two suggestions, so they add up."""

    id: SuggestionId
    saves_bytes: int
    layers: dict[str, int]
    confidence: Literal["exact", "heuristic"]
    packages: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(
        default_factory=list, description="The largest files first, at most 10."
    )
    files: int = Field(default=0, description="How many files the saving is made of.")
    fix: Fix
    tradeoff: Tradeoff | None = None


class InspectReport(_Model):
    schema_version: Literal["1"] = SCHEMA_VERSION
    image: ImageInfo
    layers: list[Layer]
    site_packages: list[SitePackages]
    packages: list[Package]
    caches: list[Cache]
    totals: Totals
    problems: list[Problem]
    bytecode: BytecodeHealth = Field(default_factory=BytecodeHealth)
    python_found: bool = True
    suggestions: list[Suggestion] = Field(
        default_factory=list,
        description="What to change and what each change saves (design.md §8), largest first.",
    )


class AdviceTotals(_LaterModel):
    saves_bytes: int = Field(description="All suggestions together (no byte counted twice).")
    exact_bytes: int
    heuristic_bytes: int


class AdviseReport(_LaterModel):
    """`pyimgsize advise IMAGE --format json`: the suggestions and their total."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    image: ImageRef
    layers: list[Layer]
    suggestions: list[Suggestion]
    totals: AdviceTotals
    python_found: bool = True

    @classmethod
    def from_inspect(cls, report: InspectReport) -> AdviseReport:
        """The suggestions an inspect report carries, with their total."""
        total = sum(s.saves_bytes for s in report.suggestions)
        exact = sum(s.saves_bytes for s in report.suggestions if s.confidence == "exact")
        return cls(
            image=report.image.as_ref(),
            layers=report.layers,
            suggestions=report.suggestions,
            totals=AdviceTotals(
                saves_bytes=total, exact_bytes=exact, heuristic_bytes=total - exact
            ),
            python_found=report.python_found,
        )


# --- diff -----------------------------------------------------------------------------------


class Delta(_LaterModel):
    a: int
    b: int
    delta: int
    percent: float | None = Field(default=None, description="delta / a * 100; null when a is 0.")


class DiffTotals(_LaterModel):
    bytes: Delta
    layer_bytes: Delta
    python_bytes: Delta
    bytecode_bytes: Delta
    cache_bytes: Delta
    dead_bytes: Delta
    compressed_bytes: Delta | None = Field(
        default=None,
        description="Compressed layer blobs (what a pull transfers); null unless both images "
        "know theirs.",
    )


class CategoryDelta(_LaterModel):
    category: str
    a: int
    b: int
    delta: int


class PackageDelta(_LaterModel):
    name: str
    site_packages: str
    a: int | None
    b: int | None
    delta: int
    status: Literal["added", "removed", "changed", "same"]
    categories: dict[str, int]
    version_a: str | None = None
    version_b: str | None = None
    moved_from: str | None = Field(
        default=None,
        description="A's site-packages directory when the distribution moved (paired by name "
        "across directories); `site_packages` is B's.",
    )


class LayerDelta(_LaterModel):
    a_index: int | None
    b_index: int | None
    match: Literal["shared", "instruction", "position", "only-a", "only-b"]
    created_by_a: str | None
    created_by_b: str | None
    a_bytes: int
    b_bytes: int
    delta: int
    categories: dict[str, int]


CauseKind = Literal[
    "added",
    "removed",
    "bytecode",
    "versions",
    "rebuilt",
    "unowned",
    "caches",
    "outside",
    "dead",
]
"""What a diff cause is, in the order that breaks ties between causes of equal size."""

CauseHint = Literal["uv-compile-bytecode", "no-compile", "no-layer-shared", "first-layer-differs"]


class CausePackage(_LaterModel):
    """A distribution's share of a cause: `bytes` is its signed part of the cause's bytes
    (its whole size for `added`/`removed`, its bytecode delta for `bytecode`, its delta
    without bytecode for `versions`/`rebuilt`)."""

    name: str
    site_packages: str
    version_a: str | None
    version_b: str | None
    bytes: int
    installer: str | None = None


class CausePath(_LaterModel):
    """A cache or stray wheel that appeared, disappeared or changed size (`bytes` is B - A)."""

    path: str
    kind: CacheKind
    change: Literal["added", "removed", "changed"]
    bytes: int


class CauseLayer(_LaterModel):
    """The layer that holds the largest part of a cause (`side` says whose index it is; on a
    paired row the side holding more of it, B's on a tie)."""

    side: Literal["a", "b"]
    index: int
    created_by: str | None
    comment: str | None = None
    bytes: int = Field(description="The aligned row's signed delta of what the cause measures.")


class CauseCategory(_LaterModel):
    """The category that changed most within a cause; `only` when no other category changed."""

    category: str
    bytes: int
    only: bool


class DiffCause(_LaterModel):
    """One reason for the size change, as data. The causes of a diff add up to exactly the
    shipped (`layer_bytes`) delta; they are listed largest (absolute) first."""

    kind: CauseKind
    bytes: int = Field(description="Signed share of the shipped (layer_bytes) delta.")
    layer: CauseLayer | None = None
    packages: list[CausePackage] = Field(default_factory=list)
    paths: list[CausePath] = Field(default_factory=list)
    category: CauseCategory | None = None
    hint: CauseHint | None = Field(
        default=None,
        description="A guess at the switch behind it: `uv-compile-bytecode` (uv's "
        "UV_COMPILE_BYTECODE), `no-compile` (pip's --no-compile, or .pyc deleted), "
        "`no-layer-shared` / `first-layer-differs` (a different base image).",
    )
    besides_bytecode: bool = Field(
        default=False,
        description="`versions`: the same distributions' bytecode changed too (a `bytecode` "
        "cause carries it).",
    )
    cache_bytes: int | None = Field(
        default=None,
        description="`caches`: the cache bytes delta; `bytes` is only what caches alone hold "
        "(hardlinks into other files are kept by them).",
    )


class DiffReport(_LaterModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    a: ImageRef
    b: ImageRef
    totals: DiffTotals
    categories: list[CategoryDelta]
    packages: list[PackageDelta]
    layers: list[LayerDelta]
    explanation: list[str] = Field(
        default_factory=list,
        description="`causes` (and moves, layer alignment) in words, largest first.",
    )
    causes: list[DiffCause] = Field(default_factory=list)


# --- check ----------------------------------------------------------------------------------


Unit = Literal["bytes", "percent"]
ContributorKind = Literal[
    "package", "layer", "cache", "category", "unowned", "unowned-bytecode", "outside-python"
]
SkipReason = Literal["needs-baseline", "empty-baseline", "not-installed", "undefined"]


class Contributor(_LaterModel):
    """One thing a rule's measured value is made of; `name` is its wording (made by render/)."""

    name: str = ""
    bytes: int
    kind: ContributorKind | None = Field(
        default=None,
        description="package: a distribution; layer: an image layer; cache: a cache directory "
        "or stray wheel (all of them, for growth, when path is null); category: a file "
        "category of a distribution; unowned: site-packages files of no distribution; "
        "unowned-bytecode: .pyc of no distribution; outside-python: the rest of the image.",
    )
    layer: int | None = Field(default=None, description="The layer index (kind layer).")
    package: str | None = Field(default=None, description="The distribution (kind package).")
    path: str | None = Field(
        default=None,
        description="The cache path, the site-packages of unowned files, or the site-packages "
        "of a distribution installed more than once.",
    )
    category: str | None = Field(
        default=None,
        description="The file category (kind category), the cache kind (kind cache), or the "
        "main dead category of a layer.",
    )
    created_by: str | None = Field(default=None, description="The layer's history entry.")
    comment: str | None = Field(default=None, description="The layer's history comment.")
    new: bool = Field(default=False, description="A distribution the baseline does not have.")


class RuleResult(_LaterModel):
    rule: str
    status: Literal["pass", "fail", "skip"]
    actual: int | float | None
    limit: int | float | None
    message: str = ""
    remedy: str | None = None
    contributors: list[Contributor] = Field(default_factory=list)
    unit: Unit = "bytes"
    fix: Fix | None = Field(default=None, description="Set when the rule fails.")
    skip_reason: SkipReason | None = None
    package: str | None = Field(
        default=None, description="A per-distribution cap: the distribution's installed name."
    )
    installs: int | None = Field(
        default=None, description="A per-distribution cap: how many times it is installed."
    )


class CheckReport(_LaterModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    passed: bool
    image: ImageRef
    rules: list[RuleResult]
    baseline: ImageRef | None = None
