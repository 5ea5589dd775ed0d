"""The library API: `pyimgsize.api.check` on saved reports (no engine needed)."""

from __future__ import annotations

from pathlib import Path

from pyimgsize import api
from pyimgsize.check import Budget
from tests.check.samples import MB, sample_report


def test_check_reads_the_image_and_the_baseline_and_returns_the_verdict(tmp_path: Path) -> None:
    image = tmp_path / "pr.json"
    image.write_text(sample_report(image_bytes_extra=10 * MB).model_dump_json(), "utf-8")
    base = tmp_path / "main.json"
    base.write_text(sample_report(ref="docker:app:main").model_dump_json(), "utf-8")
    seen: set[str] = set()

    verdict = api.check(
        str(image),
        Budget(max_image="600MB", max_growth="5MB"),
        baseline=str(base),
        progress=lambda side, _what, _done: seen.add(side),
    )

    assert verdict.passed is False
    assert verdict.image.source == "report"
    assert verdict.baseline is not None
    assert verdict.baseline.ref == "docker:app:main"
    assert [(r.rule, r.status, r.actual, r.limit) for r in verdict.rules] == [
        ("max_image", "pass", 575 * MB, 600 * MB),
        ("max_growth", "fail", 10 * MB, 5 * MB),
    ]
    growth = verdict.rules[1]
    assert growth.fix is not None
    assert growth.fix.images == ["docker:app:main", "docker:app:pr"]
    assert seen <= {"image", "baseline"}  # saved reports stream no layers


def test_check_without_a_baseline_skips_the_growth_rules(tmp_path: Path) -> None:
    image = tmp_path / "pr.json"
    image.write_text(sample_report().model_dump_json(), "utf-8")
    verdict = api.check(str(image), Budget(max_growth_percent=5))
    assert verdict.passed is True
    assert verdict.baseline is None
    assert [(r.status, r.skip_reason) for r in verdict.rules] == [("skip", "needs-baseline")]
