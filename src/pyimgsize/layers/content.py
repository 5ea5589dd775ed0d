"""Which files' contents the layer reader keeps: the small metadata files an analysis reads.

The reader keeps headers only ("metadata-first, contents never", design.md §1), except for the
files a consumer declares with `MetadataFile`: each analyzer lists the files it reads
(`RECORD` inside a `*.dist-info` directory, dpkg's `*.list` files in `var/lib/dpkg/info`, ...),
and the pipeline hands the union to the sources as one `ContentSelector`. The reader knows no
file name of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetadataFile:
    """A small file whose contents are read, by base name and place.

    `name`: the base name (`RECORD`), or `*<suffix>` for every base name ending with it
    (`*.list`). `within`: None for anywhere in the image, `*<suffix>` for a directory whose
    name ends with it (`*.dist-info`), else the root-relative path of the directory holding the
    file (`var/lib/dpkg/info`). No other pattern syntax: a `*`, `?` or `[` anywhere else is an
    error, so a declaration never silently matches nothing.
    """

    name: str
    within: str | None = None

    def __post_init__(self) -> None:
        parts = [self.name] if self.within is None else [self.name, self.within]
        for part in parts:
            rest = part.removeprefix("*")
            if not rest or any(c in rest for c in "*?[") or rest.startswith("/"):
                raise ValueError(f"unsupported metadata file pattern {part!r}")


@dataclass(frozen=True, slots=True)
class _Where:
    """The places one name is wanted in, merged over every declaration of that name."""

    anywhere: bool
    parent_suffixes: tuple[str, ...]
    parents: frozenset[str]

    def holds(self, parent: str) -> bool:
        return (
            self.anywhere
            or (bool(self.parent_suffixes) and parent.endswith(self.parent_suffixes))
            or parent in self.parents
        )


def _merge(withins: Iterable[str | None]) -> _Where:
    withins = list(withins)
    return _Where(
        anywhere=None in withins,
        parent_suffixes=tuple(sorted({w[1:] for w in withins if w and w.startswith("*")})),
        parents=frozenset(w for w in withins if w and not w.startswith("*")),
    )


class ContentSelector:
    """`selector(path)`: whether the reader keeps the contents of the regular file at `path`
    (root-relative, normalised). Compiled once from every declaration; asked for every file."""

    __slots__ = ("_by_name", "_by_suffix", "_suffixes", "files")

    def __init__(self, files: Iterable[MetadataFile]) -> None:
        self.files: tuple[MetadataFile, ...] = tuple(sorted(set(files), key=_sort_key))
        exact: dict[str, list[str | None]] = {}
        suffixed: dict[str, list[str | None]] = {}
        for f in self.files:
            table = suffixed if f.name.startswith("*") else exact
            table.setdefault(f.name.removeprefix("*"), []).append(f.within)
        self._by_name = {name: _merge(w) for name, w in exact.items()}
        self._by_suffix = tuple((suffix, _merge(w)) for suffix, w in sorted(suffixed.items()))
        self._suffixes = tuple(suffix for suffix, _ in self._by_suffix)

    def __call__(self, path: str) -> bool:
        parent, _, base = path.rpartition("/")
        return self.wants_in(parent, base)

    def wants_in(self, parent: str, base: str) -> bool:
        """`selector(path)` for the path split at its last `/` (what a reader has at hand)."""
        where = self._by_name.get(base)
        if where is not None and where.holds(parent):
            return True
        if self._suffixes and base.endswith(self._suffixes):
            return any(base.endswith(suffix) and w.holds(parent) for suffix, w in self._by_suffix)
        return False


def _sort_key(f: MetadataFile) -> tuple[str, str]:
    return f.name, f.within or ""


NO_CONTENT = ContentSelector(())
"""Keep no file's contents (sizes and structure only)."""
