"""Inspect renderers: the format factory, golden files, --top/--sort, JSON round trip.

Golden files live in `tests/render/golden/`; run with `PYIMGSIZE_UPDATE_GOLDEN=1` to rewrite
them after an intended change, then review the diff.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable

import pytest

from pyimgsize.render import OutputFormat, SortKey, render_inspect
from pyimgsize.render.common import sort_packages
from pyimgsize.render.markdown import render_inspect_markdown
from pyimgsize.render.table import NO_PYTHON, render_inspect_table
from pyimgsize.report import CATEGORIES, InspectReport, Package
from pyimgsize.tree import FileTree
from pyimgsize.units import format_bytes
from tests.render.golden import check_golden
from tests.render.sample import many_problems_report, no_python_report, python_report

# --- factory ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_renders(fmt: OutputFormat) -> None:
    for report in (python_report(), no_python_report()):
        text = render_inspect(report, fmt, tree=FileTree())
        assert text
        assert text == text.rstrip("\n"), "renderers return text without a trailing newline"
        assert report.image.ref in text or fmt is OutputFormat.JSON


def test_output_format_is_closed() -> None:
    assert [f.value for f in OutputFormat] == ["table", "json", "markdown", "html"]
    assert OutputFormat("markdown") is OutputFormat.MARKDOWN


def test_html_needs_the_file_tree() -> None:
    with pytest.raises(ValueError, match="file tree"):
        render_inspect(python_report(), OutputFormat.HTML)


def test_sort_keys() -> None:
    assert [k.value for k in SortKey] == ["bytes", "name", "files", *CATEGORIES]


# --- golden files ----------------------------------------------------------------------------

Case = tuple[str, Callable[[], InspectReport], OutputFormat, dict[str, object]]
CASES: list[Case] = [
    ("inspect.txt", python_report, OutputFormat.TABLE, {}),
    ("inspect.md", python_report, OutputFormat.MARKDOWN, {}),
    ("inspect_no_python.txt", no_python_report, OutputFormat.TABLE, {}),
    ("inspect_no_python.md", no_python_report, OutputFormat.MARKDOWN, {}),
    ("inspect_top5_native.txt", python_report, OutputFormat.TABLE, {"top": 5, "sort": "native"}),
    ("inspect_top5_native.md", python_report, OutputFormat.MARKDOWN, {"top": 5, "sort": "native"}),
]


@pytest.mark.parametrize(("name", "build", "fmt", "options"), CASES, ids=[c[0] for c in CASES])
def test_golden(
    name: str, build: Callable[[], InspectReport], fmt: OutputFormat, options: dict[str, object]
) -> None:
    top = int(str(options.get("top", 20)))
    sort = SortKey(str(options.get("sort", "bytes")))
    check_golden(name, render_inspect(build(), fmt, top=top, sort=sort))


# --- table sections --------------------------------------------------------------------------


def _section_titles(text: str) -> list[str]:
    return [block.splitlines()[0] for block in text.split("\n\n")]


def test_table_sections_in_order() -> None:
    titles = _section_titles(render_inspect_table(python_report()))
    assert [t.split(" (")[0].split(" ")[0] for t in titles] == [
        "Image",
        "Site-packages",
        "Distributions",
        "Caches",
        "Layers",
        "Bytecode",
        "Problems",
    ]


def test_table_summary_numbers() -> None:
    report = python_report()
    text = render_inspect_table(report)
    summary = text.split("\n\n")[0]
    assert "visible     347.6 MB" in summary
    assert "shipped     395.0 MB" in summary
    assert "dead         47.4 MB  12.0% of shipped" in summary
    assert "compressed  161.4 MB" in summary
    assert "id 3f3f3f3f3f3f" in summary
    assert NO_PYTHON not in text


def test_no_python_line_and_layers() -> None:
    text = render_inspect_table(no_python_report())
    assert NO_PYTHON in text
    assert "Layers (2)" in text
    assert "Distributions" not in text
    assert "Site-packages" not in text
    assert " compressed" not in text, "no compressed column or line when the source lacks it"
    assert "Bytecode health" not in text, "bytecode health only when something is non-zero"
    assert "Problems" not in text


def test_dead_cell_names_dominant_category() -> None:
    text = render_inspect_table(python_report())
    assert "46.2 MB (cache)" in text
    assert "1.2 MB (other)" in text


def test_markdown_structure() -> None:
    text = render_inspect_markdown(python_report())
    assert text.startswith("### pyimgsize: `oci:build/app-oci.tar`\n")
    summary = text.split("\n\n")[1]
    for word in ("visible", "shipped", "dead", "Python", "bytecode", "cache"):
        assert f"**{word}**" in summary
    for title in ("Site-packages (2)", "Caches and stray wheels (2): 9.9 MB", "Problems (4)"):
        assert f"<details><summary>{title}</summary>\n\n" in text
    assert text.count("<details>") == text.count("</details>") == 4
    # `|` inside an instruction cell is escaped so the table keeps its columns.
    assert "`RUN \\|1 EXTRA=http uv pip install" in text


# --- --top and --sort ------------------------------------------------------------------------


def _listed_names(text: str) -> list[str]:
    block = next(b for b in text.split("\n\n") if b.startswith("Distributions"))
    rows = block.splitlines()[3:]
    return [row.split()[0] for row in rows if not row.startswith("…")]


def test_top_truncates_with_footer() -> None:
    report = python_report()
    text = render_inspect_table(report, top=3)
    assert "Distributions (top 3 of 19, by bytes)" in text
    assert _listed_names(text) == ["pandas", "numpy", "pip"]
    hidden = sorted(report.packages, key=lambda p: (-p.bytes, p.name))[3:]
    footer = f"… 16 more distributions, {format_bytes(sum(p.bytes for p in hidden))}"
    assert footer in text
    md = render_inspect_markdown(report, top=3)
    assert footer in md


def test_top_singular_footer_and_all() -> None:
    report = python_report()
    assert "… 1 more distribution, 7.3 kB" in render_inspect_table(report, top=18)
    for top in (0, -1, 19, 100):
        text = render_inspect_table(report, top=top)
        assert "more distribution" not in text
        assert len(_listed_names(text)) == 19


def _primary(package: Package, key: SortKey) -> int:
    if key is SortKey.FILES:
        return package.files
    if key is SortKey.BYTES:
        return package.bytes
    return int(getattr(package.categories, key.value))


@pytest.mark.parametrize("key", list(SortKey))
def test_every_sort_key_orders_rows(key: SortKey) -> None:
    report = python_report()
    ordered = sort_packages(report.packages, key)
    assert sorted(map(id, ordered)) == sorted(map(id, report.packages))
    for a, b in itertools.pairwise(ordered):
        if key is SortKey.NAME:
            assert (a.name.casefold(), a.site_packages) < (b.name.casefold(), b.site_packages)
            continue
        assert _primary(a, key) >= _primary(b, key)
        if _primary(a, key) == _primary(b, key):
            assert (-a.bytes, a.name.casefold()) <= (-b.bytes, b.name.casefold())
    text = render_inspect_table(report, top=0, sort=key)
    assert f"by {key.value})" in text
    assert _listed_names(text) == [p.name for p in ordered]
    md = render_inspect_markdown(report, top=0, sort=key)
    assert f"by {key.value})" in md


def test_sort_orders_spot_checks() -> None:
    report = python_report()
    assert _listed_names(render_inspect_table(report, top=3, sort=SortKey.NAME)) == [
        "anyio",
        "certifi",
        "charset-normalizer",
    ]
    assert _listed_names(render_inspect_table(report, top=2, sort=SortKey.NATIVE)) == [
        "numpy",
        "pandas",
    ]
    assert _listed_names(render_inspect_table(report, top=1, sort=SortKey.DATA)) == ["pandas"]
    assert _listed_names(render_inspect_table(report, top=1, sort=SortKey.FILES)) == ["pandas"]
    assert _listed_names(render_inspect_table(report, top=1, sort=SortKey.METADATA)) == ["pandas"]
    assert _listed_names(render_inspect_table(report, top=2, sort=SortKey.SOURCE)) == [
        "pandas",
        "numpy",
    ]
    # Equal bytecode (0 B for every uv install): ties go to bytes, then name.
    by_bytecode = _listed_names(render_inspect_table(report, top=0, sort=SortKey.BYTECODE))
    assert by_bytecode[-5:] == ["httpx", "anyio", "httpcore", "h11", "sniffio"]


# --- problems --------------------------------------------------------------------------------


def test_problems_are_capped() -> None:
    report = many_problems_report(27)
    text = render_inspect_table(report)
    assert "Problems (27)" in text
    assert "… and 7 more" in text
    assert "cannot parse RECORD row 19" in text
    assert "cannot parse RECORD row 20" not in text
    assert "… and 2 more" in render_inspect_table(report, max_problems=25)
    assert "more" not in render_inspect_table(report, max_problems=0).split("Problems")[1]
    md = render_inspect_markdown(report)
    assert "… and 7 more" in md


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [python_report, no_python_report])
def test_json_parses_and_equals_model(build: Callable[[], InspectReport]) -> None:
    report = build()
    text = render_inspect(report, OutputFormat.JSON)
    data = json.loads(text)
    assert data["schema_version"] == "1"
    assert InspectReport.model_validate(data) == report
    assert InspectReport.model_validate_json(text) == report
    assert data == json.loads(report.model_dump_json())


def test_json_ignores_top_and_sort() -> None:
    report = python_report()
    full = render_inspect(report, OutputFormat.JSON)
    assert render_inspect(report, OutputFormat.JSON, top=2, sort=SortKey.NAME) == full
    names = [p["name"] for p in json.loads(full)["packages"]]
    assert len(names) == len(report.packages) == 19
    sizes = [p["bytes"] for p in json.loads(full)["packages"]]
    assert sizes == sorted(sizes, reverse=True)


def test_json_is_one_document() -> None:
    text = render_inspect(python_report(), OutputFormat.JSON)
    decoder = json.JSONDecoder()
    _, end = decoder.raw_decode(text)
    assert text[end:].strip() == ""
    assert re.match(r"^\{\n  \"schema_version\": \"1\",", text)


def test_unknown_created_by_and_partly_known_compressed_sizes() -> None:
    report = python_report()
    layers = [
        report.layers[0].model_copy(update={"created_by": None, "compressed_bytes": None}),
        *report.layers[1:],
    ]
    report = report.model_copy(update={"layers": layers})
    for text in (render_inspect_table(report), render_inspect_markdown(report)):
        block = text[text.index("Layers (8)") :]
        header = next(line for line in block.splitlines() if "created by" in line)
        assert header.rstrip(" |").endswith("compressed")
        first = next(line for line in block.splitlines() if line.lstrip("| ").startswith("0 "))
        assert "ADD" not in first
        assert first.rstrip(" |").endswith("-"), "an unknown compressed size is a dash"


@pytest.mark.parametrize(
    ("read_via", "words"),
    [
        ("export", "docker (read from its image export)"),
        ("layer-storage", "docker (read from its layer storage in place)"),
        ("content-store", "docker (read from its containerd content store in place)"),
    ],
)
def test_the_source_line_says_how_an_engine_image_was_read(read_via: str, words: str) -> None:
    report = python_report()
    image = report.image.model_copy(update={"source": "docker", "read_via": read_via})
    report = report.model_copy(update={"image": image})
    assert words in render_inspect_table(report)
    assert words in render_inspect_markdown(report)
