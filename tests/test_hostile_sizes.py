"""Hostile sizes and shapes (tests/hostile_sizes.py), each read by a real `pyimgsize` process:
it ends within its time bound with a correct report or a one-line error naming the limit hit,
and its peak memory (RSS, from wait4) stays within 2x that of the same image without the trick.

The cases that take more than ~20 s here (the 1 GB gzip bomb, a million whiteouts against a
million files) are marked `hostile` and run by `make hostile` (in CI too), not `make test`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile_sizes import CASES, MB, Case, Measured, run_case

SLOW = {"gzip-bomb-1000x", "whiteouts-1000000"}
# every case through a layout and a docker save archive; the slow ones through a layout only
PARAMS = [
    pytest.param(case, source, id=f"{case.name}-{source}", marks=[pytest.mark.hostile])
    if case.name in SLOW
    else pytest.param(case, source, id=f"{case.name}-{source}")
    for case in CASES
    for source in ("oci", "docker-archive")
    if case.name not in SLOW or source == "oci"
]


def _check_outcome(case: Case, trick: Measured) -> None:
    assert "Traceback" not in trick.stderr
    if case.expect == "report":
        assert trick.code == 0, trick.stderr
        assert trick.stderr == ""
        return
    assert trick.code == 3, trick.stderr
    assert trick.stdout == ""
    assert len(trick.stderr.splitlines()) == 1, trick.stderr
    assert trick.stderr.startswith("error: ")
    assert case.expect in trick.stderr


@pytest.mark.parametrize(("case", "source"), PARAMS)
def test_hostile_size(case: Case, source: str, tmp_path: Path) -> None:
    trick, baseline = run_case(case, tmp_path, source)
    _check_outcome(case, trick)
    assert trick.peak_rss <= 2 * baseline.peak_rss, (trick.peak_rss // MB, baseline.peak_rss // MB)
    if case.name == "gzip-bomb-1000x":
        report = json.loads(trick.stdout)
        assert report["image"]["bytes"] == 1000 * MB
        assert report["layers"][0]["compressed_bytes"] * 1000 < 1000 * MB  # expands > 1000x
    if case.name == "record-100MB":
        report = json.loads(trick.stdout)
        kinds = {p["kind"] for p in report["problems"]}
        assert "metadata" in kinds  # the RECORD over the limit is named, not read
    if case.name == "whiteouts-1000000":
        assert json.loads(trick.stdout)["image"]["bytes"] == 10
