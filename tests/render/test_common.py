"""Shared rendering helpers (`pyimgsize.render.common`), used by inspect, diff and check."""

from __future__ import annotations

import pytest

from pyimgsize.render.common import (
    dead_cell,
    dominant_dead_category,
    layer_instruction,
    make_table,
    md_code,
    md_escape,
    more_packages_line,
    percent,
    short_created_by,
    short_id,
    short_site_packages,
    site_packages_labels,
    top_packages,
    truncate,
)
from pyimgsize.report import DeadCategories
from tests.render.sample import python_report


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        ('/bin/sh -c #(nop)  CMD ["python" "-m" "app"]', 'CMD ["python" "-m" "app"]'),
        ("/bin/sh -c #(nop)  ENV LANG=C.UTF-8", "ENV LANG=C.UTF-8"),
        (
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "RUN pip install -r requirements.txt",
        ),
        ("COPY . /app # buildkit", "COPY . /app"),
        ("WORKDIR /app", "WORKDIR /app"),
        (
            "/bin/sh -c apt-get update &&\t\tapt-get install -y   gcc\n",
            "RUN apt-get update && apt-get install -y gcc",
        ),
        ("RUN |2 A=1 B=2 /bin/sh -c make # buildkit", "RUN |2 A=1 B=2 make"),
        (
            "/bin/sh -c #(nop) ADD"
            " file:5d673d25da3a14ce1f6cf66e4c7fd4f4b85a3759a9d93efb3fd9ff852b5b56e4 in / ",
            "ADD file:5d673d25da3a… in /",
        ),
        ("", ""),
        (None, ""),
    ],
)
def test_short_created_by(created_by: str | None, expected: str) -> None:
    assert short_created_by(created_by) == expected


def test_short_created_by_truncates_with_ellipsis() -> None:
    long = "RUN /bin/sh -c " + " && ".join(f"step{i}" for i in range(40)) + " # buildkit"
    short = short_created_by(long, 60)
    assert len(short) == 60
    assert short.endswith("…")
    assert short.startswith("RUN step0 && step1")
    assert len(short_created_by(long, 20)) <= 20
    assert short_created_by("RUN echo hi", 60) == "RUN echo hi"


def test_truncate() -> None:
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdef", 5) == "abcd…"
    assert truncate("ab  cdef", 4) == "ab…"
    assert truncate("abc", 0) == ""


def test_short_id() -> None:
    assert short_id("sha256:" + "0123456789abcdef" * 4) == "0123456789ab"
    assert short_id("0123456789abcdef") == "0123456789ab"
    assert short_id("sha256:abc", 2) == "ab"


def test_site_packages_labels() -> None:
    assert (
        short_site_packages("/opt/venv/lib/python3.12/site-packages") == "/opt/venv/…/site-packages"
    )
    assert short_site_packages("/usr/lib/python3/dist-packages") == "/usr/…/dist-packages"
    assert short_site_packages("/usr/lib64/python3.11/site-packages") == "/usr/…/site-packages"
    assert short_site_packages("/app/vendor") == "/app/vendor"
    labels = site_packages_labels(
        [
            "/opt/venv/lib/python3.12/site-packages",
            "/usr/lib/python3.11/site-packages",
            "/usr/lib64/python3.11/site-packages",
            "/opt/venv/lib/python3.12/site-packages",
        ]
    )
    assert labels == {
        "/opt/venv/lib/python3.12/site-packages": "/opt/venv/…/site-packages",
        # Both would read /usr/…/site-packages: ambiguous, so they keep their full paths.
        "/usr/lib/python3.11/site-packages": "/usr/lib/python3.11/site-packages",
        "/usr/lib64/python3.11/site-packages": "/usr/lib64/python3.11/site-packages",
    }


def test_dead_cell_and_dominant_category() -> None:
    assert dominant_dead_category(DeadCategories()) is None
    assert dominant_dead_category(DeadCategories(bytecode=5, cache=9, other=9)) == "cache"
    assert dead_cell(12_100_000, DeadCategories(cache=12_000_000, other=100_000)) == (
        "12.1 MB (cache)"
    )
    assert dead_cell(0, DeadCategories()) == "0 B"


def test_percent_and_footer() -> None:
    assert percent(1, 3) == "33.3%"
    assert percent(5, 0) == ""
    assert more_packages_line(1, 17) == "… 1 more distribution, 17 B"
    assert more_packages_line(12, 4_100_000) == "… 12 more distributions, 4.1 MB"


def test_top_packages() -> None:
    packages = python_report().packages
    shown, hidden, hidden_bytes = top_packages(packages, 4)
    assert [p.name for p in shown] == ["pandas", "numpy", "pip", "pip"]
    assert hidden == len(packages) - 4
    assert hidden_bytes == sum(p.bytes for p in packages) - sum(p.bytes for p in shown)
    assert top_packages(packages, 0)[1:] == (0, 0)


def test_make_table_keeps_cells_verbatim() -> None:
    text = make_table(
        ["name", "version", "bytes"], [["a", "2.0", "1.0 MB"], ["bb", "1.10", "10 B"]], right=(2,)
    )
    header, rule, first, second = text.splitlines()
    assert first.split() == ["a", "2.0", "1.0", "MB"]
    assert second.split() == ["bb", "1.10", "10", "B"], "no number parsing: 1.10 stays 1.10"
    assert len(first) == len(second) == len(rule), "sizes are right-aligned"
    assert header.split() == ["name", "version", "bytes"]
    md = make_table(["x", "n"], [["a", "1"]], right=(1,), tablefmt="pipe")
    assert md.splitlines()[1] == "|:----|----:|"


def test_markdown_escaping() -> None:
    assert md_escape("typing_extensions") == "typing\\_extensions"
    assert md_escape("a|b <c> *d* [e]") == "a\\|b \\<c\\> \\*d\\* \\[e\\]"
    assert md_code("RUN a | b") == "`RUN a \\| b`"
    assert md_code("echo `x`") == "`` echo `x` ``"
    assert md_code("a``b") == "```a``b```"
    assert md_code("") == ""


@pytest.mark.parametrize(
    ("created_by", "comment", "expected"),
    [
        ("/bin/sh -c pip install x", "buildkit.dockerfile.v0", "RUN pip install x"),
        (None, "Imported from -", "(Imported from -)"),
        ("", "  two\n  lines ", "(two lines)"),
        (None, None, ""),
    ],
)
def test_layer_instruction_falls_back_to_the_comment(
    created_by: str | None, comment: str | None, expected: str
) -> None:
    assert layer_instruction(created_by, comment) == expected
