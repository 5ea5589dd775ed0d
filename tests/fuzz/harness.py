"""Run the CLI on a generated (and possibly mutated) image and check what may come out of it.

Properties every run must have, whatever the input:
- it ends with exit 0 or 3 (2 only for an archive that holds several images and none was
  chosen, which the input decides: design.md §5), never 70 and never a traceback;
- a failed run prints exactly one line, `error: ...`, and no report on stdout;
- it ends within `CASE_SECONDS` and opens nothing for writing nor anything outside its
  temporary directory and Python's own files (`tests.guards.watched`).
For valid inputs the report also obeys the numeric invariants (`check_inspect`, `check_diff`).

Profiles: `ci` (the default, a bounded number of examples per target, no example database) and
`fuzz` (`make fuzz`: each target runs for its share of PYIMGSIZE_FUZZ_SECONDS, in rounds that
replay and keep failing examples in `.fuzz/hypothesis/`). Every example run is counted, and the
counts are printed at the end of the session.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from fixtures import Image, write_docker_archive, write_oci_layout
from pyimgsize.cli.app import main
from pyimgsize.report import DiffReport, InspectReport
from tests.fuzz.strategies import Writer, expected_layer_bytes
from tests.guards import watched
from tests.layerimages import check_invariants

CASE_SECONDS = 20
"""The time bound of one run (generous: the machine is shared; a case takes well under 1 s)."""

ROOT = Path(__file__).resolve().parents[2]
FUZZ_DB = ROOT / ".fuzz" / "hypothesis"
FUZZ_SECONDS = float(os.environ.get("PYIMGSIZE_FUZZ_SECONDS", "0") or 0)
CI_EXAMPLES = int(os.environ.get("PYIMGSIZE_FUZZ_EXAMPLES", "60"))
TARGETS = 5  # the fuzz targets sharing PYIMGSIZE_FUZZ_SECONDS (tests/fuzz/test_fuzz.py)

EXAMPLES: Counter[str] = Counter()

_AMBIGUOUS = ("choose one with --image", "no image named", "no image for platform")

_COMMON: dict[str, Any] = {
    "deadline": None,  # the time bound is the alarm in `run_cli`, not hypothesis' deadline
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
}
if os.environ.get("PYIMGSIZE_FUZZ_SHRINK", "1") == "0":  # while developing: fail fast
    _COMMON["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
settings.register_profile("ci", max_examples=CI_EXAMPLES, database=None, **_COMMON)
settings.register_profile(
    "fuzz",
    max_examples=50,  # one round: the time left is checked between rounds
    database=DirectoryBasedExampleDatabase(str(FUZZ_DB)),
    **_COMMON,
)


def fuzz_target(**strategies: st.SearchStrategy[Any]) -> Callable[[Callable[..., None]], Any]:
    """A pytest test running `fn` on examples drawn from `strategies`: once with the `ci`
    profile, or in rounds until its share of PYIMGSIZE_FUZZ_SECONDS is spent (`fuzz`)."""

    def decorate(fn: Callable[..., None]) -> Callable[[], None]:
        name = fn.__name__

        @functools.wraps(fn)
        def counted(**kwargs: Any) -> None:
            EXAMPLES[name] += 1
            fn(**kwargs)

        def test() -> None:
            if FUZZ_SECONDS <= 0:
                settings(settings.get_profile("ci"))(given(**strategies)(counted))()
                return
            deadline = time.monotonic() + FUZZ_SECONDS / TARGETS
            run = settings(settings.get_profile("fuzz"))(given(**strategies)(counted))
            while time.monotonic() < deadline:
                run()

        test.__name__ = name
        test.__doc__ = fn.__doc__
        return test

    return decorate


# --- writing inputs ------------------------------------------------------------------------------


def write(tmp: Path, image: Image, writer: Writer) -> Path:
    """Write `image` as `writer` says; the path to inspect."""
    if writer.kind == "docker-archive":
        path = tmp / "image.tar"
        write_docker_archive(
            path,
            image,
            layout=writer.layout,  # type: ignore[arg-type]
            compression=writer.compression,  # type: ignore[arg-type]
            outer_gzip=writer.outer_gzip,
            nested_index=writer.nested_index and writer.layout == "oci",
        )
    elif writer.kind == "oci-dir":
        path = tmp / "layout"
        write_oci_layout(path, image, compression=writer.compression)  # type: ignore[arg-type]
    else:
        path = tmp / "layout.tar"
        write_oci_layout(
            path,
            image,
            compression=writer.compression,  # type: ignore[arg-type]
            as_tar=True,
        )
    return path


def ref_of(path: Path, writer: Writer) -> str:
    return f"docker-archive:{path}" if writer.kind == "docker-archive" else f"oci:{path}"


def rewrite_member(path: Path, pick: int, change: Callable[[str, bytes], bytes]) -> None:
    """Replace the content of one file of an archive or layout (the `pick`-th, modulo their
    number) with `change(name, content)`; the archive itself stays well formed."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        if files:
            target = files[pick % len(files)]
            target.write_bytes(change(target.name, target.read_bytes()))
        return
    raw = path.read_bytes()
    outer_gzip = raw[:2] == b"\x1f\x8b"
    if outer_gzip:
        raw = gzip.decompress(raw)
    with tarfile.open(fileobj=io.BytesIO(raw)) as src:
        members = src.getmembers()
        regular = [m for m in members if m.isfile()]
        if not regular:
            return
        chosen = regular[pick % len(regular)]
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
            for m in members:
                if m.isfile():
                    handle = src.extractfile(m)
                    assert handle is not None
                    data = handle.read()
                    if m is chosen:
                        data = change(m.name, data)
                    info = tarfile.TarInfo(m.name)
                    info.size = len(data)
                    info.mode = m.mode
                    info.mtime = m.mtime
                    dst.addfile(info, io.BytesIO(data))
                else:
                    dst.addfile(m)
    data = out.getvalue()
    path.write_bytes(gzip.compress(data, mtime=0) if outer_gzip else data)


# --- running and judging -------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(tmp: Path, *args: str, guard: bool = True) -> Outcome:
    """`pyimgsize ARGS` in this process, under the guards (without the no-write one when not
    `guard`: for `--output`); stdout and stderr captured as a strict UTF-8 terminal would take
    them (a lone surrogate cannot be written)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    watch = watched(tmp, CASE_SECONDS) if guard else contextlib.nullcontext()
    with watch, redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    out.flush()
    err.flush()
    text = [stream.buffer.getvalue().decode() for stream in (out, err)]  # type: ignore[attr-defined]
    return Outcome(code, text[0], text[1])


def assert_clean(outcome: Outcome) -> None:
    """What every run must look like, whatever its input."""
    assert "Traceback" not in outcome.err, outcome.err
    if outcome.code == 0:
        assert outcome.err == "", outcome.err
        return
    lines = outcome.err.splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("error: "), outcome.err
    assert outcome.out == "", "a failed run printed a report"
    if outcome.code == 2:
        assert any(words in lines[0] for words in _AMBIGUOUS), lines[0]
    else:
        assert outcome.code == 3, (outcome.code, lines[0])


def check_inspect(report: InspectReport, image: Image | None = None) -> None:
    """The numeric invariants of a report of a valid image (design.md §2, §3)."""
    check_invariants(report)
    if image is not None:
        assert [layer.bytes for layer in report.layers] == [
            expected_layer_bytes(layer) for layer in image.layers
        ]
    totals = report.totals
    assert sum(layer.python_bytes for layer in report.layers) == totals.python_bytes
    for value in (totals.python_bytes, totals.bytecode_bytes, totals.cache_bytes):
        assert 0 <= value <= report.image.bytes
    for package in report.packages:
        assert package.categories.total() == package.bytes, package.name
        assert sum(package.layers.values()) == package.bytes, package.name
        assert package.bytes <= totals.python_bytes, package.name
        assert package.files >= 0
        for index, cats in package.layer_categories.items():
            assert cats.total() == package.layers[index], package.name
    for site in report.site_packages:
        assert site.categories.total() == site.bytes, site.path
        assert 0 <= site.unowned_bytes <= site.bytes, site.path
        assert site.bytes <= totals.python_bytes, site.path
    for cache in report.caches:
        assert 0 <= cache.exclusive_bytes <= cache.bytes <= totals.cache_bytes, cache.path


def check_diff(diff: DiffReport, a: InspectReport, b: InspectReport) -> None:
    """A diff of two valid reports: every delta is B minus A, and the parts add up."""
    t = diff.totals
    pairs = {
        "bytes": (a.image.bytes, b.image.bytes),
        "layer_bytes": (a.image.layer_bytes, b.image.layer_bytes),
        "python_bytes": (a.totals.python_bytes, b.totals.python_bytes),
        "dead_bytes": (a.totals.dead_bytes, b.totals.dead_bytes),
    }
    for name, (va, vb) in pairs.items():
        delta = getattr(t, name)
        assert (delta.a, delta.b, delta.delta) == (va, vb, vb - va), name
    assert sum(layer.delta for layer in diff.layers) == t.layer_bytes.delta
    for layer in diff.layers:
        assert layer.delta == layer.b_bytes - layer.a_bytes
    for package in diff.packages:
        assert package.delta == (package.b or 0) - (package.a or 0), package.name
    # the causes split the shipped delta exactly (diff/causes.py)
    assert sum(cause.bytes for cause in diff.causes) == t.layer_bytes.delta


def fresh_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory per example (hypothesis runs many in one test)."""
    return tempfile.TemporaryDirectory(prefix="pyimgsize-fuzz-")


def inspect_json(tmp: Path, ref: str) -> tuple[Outcome, InspectReport | None]:
    outcome = run_cli(tmp, "inspect", ref, "--format", "json")
    assert_clean(outcome)
    if outcome.code != 0:
        return outcome, None
    return outcome, InspectReport.model_validate(json.loads(outcome.out))
