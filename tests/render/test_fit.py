"""Fitting tables to a terminal (`render.common.fit_table`): never wider than the width, full
width when there is none, the least useful columns dropped first, paths elided in the middle,
long text wrapped."""

from __future__ import annotations

import random

import pytest

from pyimgsize.render import CheckFormat, OutputFormat, render_inspect
from pyimgsize.render.common import Column, elide_middle, fit_lines, fit_table, make_table
from tests.render.sample import many_problems_report, no_python_report, python_report

COLUMNS = [
    Column("name", shrink="cut", soft=10, hard=6),
    Column("bytes", right=True),
    Column("files", right=True, drop=1),
    Column("metadata", right=True, drop=0),
    Column("path", shrink="path", soft=20, hard=10),
    Column("message", shrink="wrap", soft=24, hard=12),
]
ROWS = [
    [
        "charset-normalizer",
        "380.7 kB",
        "1,234",
        "3.1 kB",
        "/opt/venv/lib/python3.11/site-packages/charset_normalizer/md.cpython-311.so",
        "RECORD row 118 has 2 fields, expected 3; row skipped",
    ],
    ["six", "34.0 kB", "3", "1.0 kB", "/usr/lib/python3/dist-packages/six.py", "-"],
]


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_without_a_width_it_is_make_table() -> None:
    full = fit_table(COLUMNS, ROWS, None)
    assert full == make_table([c.header for c in COLUMNS], ROWS, right=(1, 2, 3))
    assert widest(full) > 150


@pytest.mark.parametrize("width", [20, 40, 60, 80, 100, 120, 200])
def test_never_wider_than_the_width(width: int) -> None:
    assert widest(fit_table(COLUMNS, ROWS, width)) <= width


def test_a_table_that_fits_is_unchanged() -> None:
    full = fit_table(COLUMNS, ROWS, None)
    assert fit_table(COLUMNS, ROWS, widest(full)) == full


def test_shrinks_before_dropping_and_drops_least_useful_first() -> None:
    # narrowed to their soft widths, all six columns need 89 characters
    assert fit_table(COLUMNS, ROWS, 89).splitlines()[0].split() == [
        "name",
        "bytes",
        "files",
        "metadata",
        "path",
        "message",
    ]
    at_88 = fit_table(COLUMNS, ROWS, 88).splitlines()[0].split()
    assert at_88 == ["name", "bytes", "files", "path", "message"]  # drop=0 goes first
    at_76 = fit_table(COLUMNS, ROWS, 76).splitlines()[0].split()
    assert at_76 == ["name", "bytes", "path", "message"]  # then drop=1; the rest is kept
    at_50 = fit_table(COLUMNS, ROWS, 50).splitlines()[0].split()
    assert at_50 == ["name", "bytes", "path", "message"]  # narrowed to the hard widths


def test_paths_are_elided_in_the_middle_and_text_wrapped() -> None:
    lines = fit_table(COLUMNS, ROWS, 100).splitlines()
    assert "/opt/ven…cpython-311.so" in lines[2]  # a path keeps its start and its end
    assert lines[2].endswith("RECORD row 118 has 2")
    assert lines[3].strip() == "fields, expected 3; row"  # wrapped, not cut
    assert lines[4].strip() == "skipped"
    assert lines[5].startswith("six ")


def test_elide_middle() -> None:
    path = "/opt/venv/lib/python3.11/site-packages/numpy/core/_multiarray_umath.so"
    for width in range(1, len(path) + 5):
        out = elide_middle(path, width)
        assert len(out) == min(width, len(path))
    assert elide_middle(path, 30) == "/opt/venv/…multiarray_umath.so"
    assert elide_middle("short", 10) == "short"


def test_fit_lines_cuts_only_long_lines() -> None:
    assert fit_lines("abc\nabcdefgh", 5) == "abc\nabcd…"
    assert fit_lines("abc\nabcdefgh", None) == "abc\nabcdefgh"


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_fit(seed: int) -> None:
    rng = random.Random(seed)
    kinds = [None, "cut", "path", "wrap"]
    columns = [
        Column(
            f"col{i}" * rng.randint(1, 3),
            right=rng.random() < 0.5,
            shrink=rng.choice(kinds),  # type: ignore[arg-type]
            soft=rng.randint(4, 30),
            hard=rng.randint(1, 4),
            drop=rng.choice([None, *range(5)]),
        )
        for i in range(rng.randint(1, 9))
    ]
    words = ["/usr/lib/python3", "x", "a long message with words", "12.3 MB", "-", "…"]
    rows = [
        ["/".join(rng.choices(words, k=rng.randint(1, 6))) for _ in columns]
        for _ in range(rng.randint(0, 6))
    ]
    width = rng.randint(10, 160)
    assert widest(fit_table(columns, rows, width) or " ") <= width


@pytest.mark.parametrize("report", [python_report, no_python_report, many_problems_report])
@pytest.mark.parametrize("width", [40, 60, 80, 100, 120])
def test_inspect_tables_fit(report: object, width: int) -> None:
    text = render_inspect(report(), OutputFormat.TABLE, width=width)  # type: ignore[operator]
    assert widest(text) <= width
    full = render_inspect(report(), OutputFormat.TABLE)  # type: ignore[operator]
    if widest(full) <= width:
        assert text == full


def test_inspect_keeps_the_numbers_users_need_at_80() -> None:
    text = render_inspect(python_report(), OutputFormat.TABLE, width=80)
    dists = text.split("Distributions", 1)[1].split("\n\n", 1)[0].splitlines()
    header = dists[1].split()
    # two site-packages directories (pip is in both): the column that tells them apart stays
    assert header == ["name", "version", "bytes", "bytecode", "site-packages"]
    assert "/usr/loc…/…/site-packages" in text


def test_a_single_site_packages_column_goes_first() -> None:
    """With one site-packages directory the column repeats the site-packages table."""
    report = python_report()
    report.packages = [p for p in report.packages if p.site_packages.startswith("/opt/venv")]
    text = render_inspect(report, OutputFormat.TABLE, width=100)
    header = text.split("Distributions", 1)[1].splitlines()[1].split()
    assert "site-packages" not in header
    assert header[:4] == ["name", "version", "installer", "bytes"]
    assert {"bytecode", "native"} <= set(header)


# --- the same words everywhere (item 11) -------------------------------------------------------


def test_debian_packages_show_dpkg_as_installer() -> None:
    from pyimgsize.render.common import installer_cell

    report = python_report()
    package = report.packages[0]
    assert installer_cell(package) == package.installer
    debian = package.model_copy(update={"installer": None, "ownership": "dpkg"})
    assert installer_cell(debian) == "dpkg"
    unknown = package.model_copy(update={"installer": None, "ownership": "RECORD"})
    assert installer_cell(unknown) == "-"
    report.packages = [debian]
    for fmt in (OutputFormat.TABLE, OutputFormat.MARKDOWN):
        text = render_inspect(report, fmt)
        row = next(line for line in text.splitlines() if debian.name in line and "dpkg" in line)
        assert debian.version is None or debian.version in row


def test_the_dead_tags_are_explained() -> None:
    text = render_inspect(no_python_report(), OutputFormat.TABLE, width=80)
    assert "98.3 kB (other)" in text
    legend = text.split("98.3 kB (other)", 1)[1]
    assert "(other) files outside Python" in " ".join(legend.split())
    assert widest(text) <= 80


# --- diff and check fit too ------------------------------------------------------------------


DIFF_PAIRS = [
    "bytecode_pair",
    "cache_pair",
    "upgrade_pair",
    "rebased_pair",
    "layers_pair",
    "moved_pair",
    "added_removed_pair",
    "hardlinked_cache_pair",
    "dead_wheelhouse_pair",
]


@pytest.mark.parametrize("pair", DIFF_PAIRS)
@pytest.mark.parametrize("width", [60, 80, 100])
def test_diff_tables_fit(pair: str, width: int) -> None:
    from pyimgsize.diff import diff_reports
    from pyimgsize.render.diff import render_diff
    from tests import diff_samples

    report = diff_reports(*getattr(diff_samples, pair)())
    for show_all in (False, True):
        full = render_diff(report, OutputFormat.TABLE, show_all=show_all)
        text = render_diff(report, OutputFormat.TABLE, show_all=show_all, width=width)
        assert widest(text) <= width, text
        if widest(full) <= width:
            assert text == full
        # the explanation is wrapped, never cut: every word is still there
        first = full.split("\n\n")[1].split()
        assert text.split("\n\n")[1].split() == first


@pytest.mark.parametrize("width", [60, 80, 100])
def test_check_tables_fit_and_wrap_the_fixes(width: int) -> None:
    from pyimgsize.render.check import render_check
    from pyimgsize.render.check_words import word_check
    from pyimgsize.report import CheckReport
    from tests.render.test_check_render import failing_report

    report: CheckReport = failing_report()
    full = render_check(report, CheckFormat.TABLE)
    text = render_check(report, CheckFormat.TABLE, width=width)
    assert widest(full) > 200
    assert widest(text) <= width
    details = text.split("\n\n", 2)[2]
    for rule in word_check(report).rules:
        if rule.status == "fail" and rule.remedy:
            # a fix line keeps all its words, wrapped and indented under "fix:"
            assert " ".join(rule.remedy.split()) in " ".join(details.split())
    for line in details.splitlines():
        assert line.startswith(("FAIL ", "SKIP ", "  "))
