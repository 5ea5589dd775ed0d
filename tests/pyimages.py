"""Helpers for exact-number tests of the Python attribution: write a generated image, inspect it,
find report items, and compute expectations from the fixture entries' sizes.

The expectations are computed from the entries the test wrote (their paths and sizes), with the
categories of design.md §3 spelled out here independently of `pyimgsize.paths.category`,
so a wrong rule in the analyzer makes the numbers disagree.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path

from fixtures import File, Image, write_docker_archive, write_oci_layout
from pyimgsize.api import inspect
from pyimgsize.layers.cache import LayerCache
from pyimgsize.render.problems import problem_text
from pyimgsize.report import Cache, InspectReport, Package, SitePackages

CATS: tuple[str, ...] = ("bytecode", "source", "native", "metadata", "data")
DEAD_CATS: tuple[str, ...] = (*CATS, "cache", "other")
ZERO: dict[str, int] = dict.fromkeys(CATS, 0)
DEAD_ZERO: dict[str, int] = dict.fromkeys(DEAD_CATS, 0)

# The paths of a minimal CPython 3.11 (an interpreter tag for bytecode health, no site-packages).
PYTHON311: tuple[File, ...] = (
    File("usr/local/bin/python3.11", size=4000),
    File("usr/local/lib/python3.11/os.py", size=300),
)


def check_invariants(report: InspectReport) -> None:
    """What holds for every report, whatever the image (design.md §2)."""
    assert report.image.layer_bytes == sum(layer.bytes for layer in report.layers)
    assert report.totals.dead_bytes == sum(layer.dead_bytes for layer in report.layers)
    assert report.image.layer_bytes - report.image.bytes == report.totals.dead_bytes
    for layer in report.layers:
        assert layer.dead_bytes == layer.dead_categories.total()
        assert 0 <= layer.dead_bytes <= layer.bytes
        assert layer.python_bytes == layer.categories.total()
    assert [layer.index for layer in report.layers] == list(range(len(report.layers)))


def inspect_image(
    tmp_path: Path, image: Image, *, layout: str = "legacy", name: str = "image"
) -> InspectReport:
    """Write `image` (a legacy `docker save` archive by default, or OCI), inspect it, and check
    the invariants every report satisfies. The one image-to-report factory of the tests.

    Every image is read three times: afresh without the per-layer cache, then filling a cache
    of its own, then from that cache; the three reports must be equal (a cached layer gives
    exactly the numbers a fresh read gives, on every fixture)."""
    if layout == "oci-layout":
        path = tmp_path / f"{name}-oci"
        write_oci_layout(path, image)
        ref = f"oci:{path}"
    else:
        path = tmp_path / f"{name}.tar"
        write_docker_archive(path, image, layout="oci" if layout == "oci" else "legacy")
        ref = f"docker-archive:{path}"
    report = inspect(ref, cache=False)
    cache_dir = tmp_path / f"{name}-layer-cache"
    before = os.environ.get("PYIMGSIZE_CACHE_DIR")
    os.environ["PYIMGSIZE_CACHE_DIR"] = str(cache_dir)
    try:
        filled = inspect(ref)
        assert LayerCache(cache_dir).info().entries > 0 or not report.layers
        cached = inspect(ref)
    finally:
        if before is None:
            del os.environ["PYIMGSIZE_CACHE_DIR"]
        else:
            os.environ["PYIMGSIZE_CACHE_DIR"] = before
    assert filled == report, "a report read while filling the layer cache differs"
    assert cached == report, "a report read from the layer cache differs from a fresh one"
    check_invariants(report)
    return report


def norm(path: str) -> str:
    """A fixture path as the report writes it: absolute, normalised."""
    return "/" + posixpath.normpath(path.lstrip("/"))


def category(path: str) -> str:
    """design.md §3, first match wins (an independent spelling of the rule)."""
    parts = path.strip("/").split("/")
    if any(p.endswith((".dist-info", ".egg-info")) for p in parts[:-1]) or parts[-1].endswith(
        ".egg-info"
    ):
        return "metadata"
    name = parts[-1]
    if name.endswith((".pyc", ".pyo")):
        return "bytecode"
    if name.endswith((".py", ".pyi", ".pyx", ".pxd")):
        return "source"
    if name.endswith(".so") or ".so." in name or any(p.endswith(".libs") for p in parts[:-1]):
        return "native"
    return "data"


def files_of(entries: Iterable[object], pred: Callable[[File], bool] | None = None) -> list[File]:
    """The regular files among `entries` (optionally filtered)."""
    return [e for e in entries if isinstance(e, File) and (pred is None or pred(e))]


def size(entries: Iterable[object], pred: Callable[[File], bool] | None = None) -> int:
    """Sum of the sizes of the regular files among `entries`."""
    return sum(f.size for f in files_of(entries, pred))


def cats(entries: Iterable[object], pred: Callable[[File], bool] | None = None) -> dict[str, int]:
    """Bytes per category of the regular files among `entries`."""
    out = dict(ZERO)
    for f in files_of(entries, pred):
        out[category(f.path)] += f.size
    return out


def add(*dicts: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def dead(**values: int) -> dict[str, int]:
    """A dead-categories dict with the given non-zero values."""
    out = dict(DEAD_ZERO)
    for k, v in values.items():
        assert k in out, k
        out[k] = v
    return out


def package(report: InspectReport, name: str, site: str | None = None) -> Package:
    found = [
        p
        for p in report.packages
        if p.name == name and (site is None or p.site_packages == norm(site))
    ]
    assert len(found) == 1, (name, site, [(p.name, p.site_packages) for p in report.packages])
    return found[0]


def site_packages(report: InspectReport, path: str) -> SitePackages:
    found = [s for s in report.site_packages if s.path == norm(path)]
    assert len(found) == 1, (path, [s.path for s in report.site_packages])
    return found[0]


def cache(report: InspectReport, path: str) -> Cache:
    found = [c for c in report.caches if c.path == norm(path)]
    assert len(found) == 1, (path, [c.path for c in report.caches])
    return found[0]


def messages(report: InspectReport) -> list[str]:
    """The problems as a user reads them (the analysis records codes and facts; render words
    them)."""
    return [problem_text(p) for p in report.problems]


def problems_about(report: InspectReport, path: str) -> list[str]:
    return [problem_text(p) for p in report.problems if p.path == norm(path)]
