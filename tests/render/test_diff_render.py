"""Diff renderers: every format, golden files, hiding and collapsing, markdown escaping.

Regenerate the golden files after an intended change with
`PYIMGSIZE_UPDATE_GOLDEN=1 python -m pytest tests/render/test_diff_render.py` and review the
diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from pyimgsize.diff import diff_reports
from pyimgsize.render import OutputFormat
from pyimgsize.render.diff import render_diff
from pyimgsize.report import DiffReport, InspectReport
from tests.diff_samples import (
    bytecode_pair,
    identical_pair,
    layer,
    layers_pair,
    moved_pair,
    report,
    upgrade_pair,
)
from tests.render.golden import check_golden

SUFFIX = {OutputFormat.TABLE: "txt", OutputFormat.JSON: "json", OutputFormat.MARKDOWN: "md"}
Pair = Callable[[], tuple[InspectReport, InspectReport]]


@pytest.mark.parametrize("fmt", list(SUFFIX))  # HTML: tests/render/test_html.py, in a browser
@pytest.mark.parametrize(
    ("name", "pair", "show_all"),
    [
        ("bytecode", bytecode_pair, False),
        ("layers", layers_pair, False),
        ("upgrade_all", upgrade_pair, True),
        ("identical", identical_pair, False),
    ],
)
def test_golden(fmt: OutputFormat, name: str, pair: Pair, show_all: bool) -> None:
    text = render_diff(diff_reports(*pair()), fmt, show_all=show_all)
    assert not text.endswith("\n")
    check_golden(f"diff_{name}.{SUFFIX[fmt]}", text)


def test_every_format_renders() -> None:
    diff = diff_reports(*upgrade_pair())
    for fmt in OutputFormat:
        text = render_diff(diff, fmt)
        assert text
        assert not text.endswith("\n")
    page = render_diff(diff, OutputFormat.HTML, sides=upgrade_pair())
    assert page.startswith("<!DOCTYPE html>")
    assert '[],"category"]' in page  # with both sides, distributions hold their categories


def test_json_is_the_wire_model_with_every_row() -> None:
    diff = diff_reports(*bytecode_pair())
    text = render_diff(diff, OutputFormat.JSON)
    assert render_diff(diff, OutputFormat.JSON, show_all=True) == text
    data = json.loads(text)
    # The wire model as it is, with `explanation` worded from `causes`.
    assert diff.explanation == []
    assert DiffReport.model_validate(data).model_copy(update={"explanation": []}) == diff
    assert data["explanation"][0].startswith("B is +46.8 MB (+33.4%): bytecode +46.8 MB")
    assert [(c["kind"], c["bytes"]) for c in data["causes"]] == [("bytecode", 46_800_000)]
    assert data["schema_version"] == "1"
    assert data["totals"]["bytecode_bytes"] == {
        "a": 0,
        "b": 46_800_000,
        "delta": 46_800_000,
        "percent": None,
    }
    # JSON keeps unchanged distributions and shared layers: the contract lists everything.
    assert [(p["name"], p["status"]) for p in data["packages"]] == [
        ("pandas", "changed"),
        ("numpy", "changed"),
        ("six", "same"),
    ]
    assert [x["match"] for x in data["layers"]] == ["shared", "instruction"]


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN])
def test_unchanged_hidden_unless_all(fmt: OutputFormat) -> None:
    diff = diff_reports(*bytecode_pair())
    short = render_diff(diff, fmt)
    full = render_diff(diff, fmt, show_all=True)
    six_row = re.compile(r"^\|? *six ", re.MULTILINE)
    assert not six_row.search(short)
    assert six_row.search(full)
    assert "1 unchanged (hidden; --all lists them)" in short
    assert "(hidden" not in full
    assert "1 shared layer, 80.0 MB, unchanged" in short
    assert "shared layer" not in full


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN])
def test_shared_layer_with_shifted_attribution_is_not_collapsed(fmt: OutputFormat) -> None:
    from tests.diff_samples import cats, pkg

    a = report(
        "a",
        [layer(0, "s", "RUN pip install foo", 100, python=cats(source=100))],
        [pkg("foo", "1", cats(source=100), layer_index=0)],
    )
    b = report(
        "b",
        [
            layer(0, "s", "RUN pip install foo", 100, python=cats(source=60)),
            layer(1, "rm", "RUN rm foo/big.py", 0),
        ],
        [pkg("foo", "1", cats(source=60), layer_index=0)],
    )
    text = render_diff(diff_reports(a, b), fmt)
    assert "shared layer" not in text
    assert "-40 B" in text


def test_moved_distribution_shows_b_site_packages() -> None:
    text = render_diff(diff_reports(*moved_pair()), OutputFormat.TABLE)
    assert "/opt/venv/…/site-packages" in text
    assert "2 distributions moved: /usr/local/lib/python3.11/site-packages -> " in text


def test_markdown_escapes_image_text() -> None:
    evil = "RUN echo '<script>' | tee `a` # *b*"
    a = report("a<b>", [layer(0, "x", evil, 10)], [])
    b = report("b|c", [layer(0, "y", "RUN <b>x</b>", 20)], [])
    text = render_diff(diff_reports(a, b), OutputFormat.MARKDOWN)
    # Instructions sit in code spans (fenced past any backtick run, `|` escaped for GitHub).
    assert "A: ``RUN echo '<script>' \\| tee `a` # *b*``<br>B: `RUN <b>x</b>`" in text
    outside_code = re.sub(r"(`+).*?\1", "", text)
    assert "<script>" not in outside_code
    assert "<b>" not in outside_code
    assert "**A** `a<b>`" in text
    assert "**B** `b\\|c`" in text


def test_percent_cells() -> None:
    diff = diff_reports(*layers_pair())
    table = render_diff(diff, OutputFormat.TABLE)
    section = table.split("\nTotals\n", 1)[1].split("\n\n", 1)[0]
    lines = {line.split()[0]: line for line in section.splitlines()[2:]}
    assert lines["visible"].split()[-1] == "+6.2%"
    assert lines["dead"].split()[-1] == "-"
    assert lines["Python"].split()[-1] == "0.0%"


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN])
def test_compressed_row_only_when_both_images_know_it(fmt: OutputFormat) -> None:
    a, b = upgrade_pair()
    assert "compressed" not in render_diff(diff_reports(a, b), fmt)
    a.image.compressed_bytes, b.image.compressed_bytes = 40_000_000, 50_000_000
    lines = [
        line for line in render_diff(diff_reports(a, b), fmt).splitlines() if "compressed" in line
    ]
    assert len(lines) == 1
    assert "40.0 MB" in lines[0]
    assert "50.0 MB" in lines[0]
    assert "+10.0 MB" in lines[0]
    assert "+25.0%" in lines[0]
