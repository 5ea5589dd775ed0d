"""The HTML report: one self-contained file, escaped, every number in its tables, and a treemap
that works in a real browser (headless Chromium, tests/browser.py).

The browser tests load the page from `file://` with every network scheme blocked and assert
that the page made no request but its own, logged no console error, no exception and no CSP
violation; then they read the treemap's boxes (DOM elements carrying their bytes) and compare
them with the JSON report of the same generated image.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import ARTIFACTS_DIR
from fixtures import Image, Layer, dist, write_docker_archive
from fixtures.demo import demo_image
from fixtures.markup import (
    CREATED_BY,
    DIST_NAME,
    DIST_VERSION,
    FILE_ATTRIBUTE,
    FILE_SCRIPT,
    INSTALLER,
    MODULE,
    PAYLOADS,
    markup_image,
)
from pyimgsize.api import inspect_with_tree
from pyimgsize.diff import diff_reports
from pyimgsize.render.common import layer_instruction
from pyimgsize.render.html import MAX_TREE_FILES, render_diff_html, render_inspect_html
from pyimgsize.render.problems import problem_text
from pyimgsize.report import DiffReport, InspectReport
from pyimgsize.tree import FileTree, Owner, TreeBuilder
from tests.browser import Browser, Page, embedded_data
from tests.render.sample import python_report

SITE = "usr/local/lib/python3.11/site-packages"


@dataclass
class Rendered:
    report: InspectReport
    tree: FileTree
    html: str
    path: Path


def _render(directory: Path, image: Image, name: str) -> Rendered:
    archive = directory / f"{name}.tar"
    write_docker_archive(archive, image)
    report, tree = inspect_with_tree(f"docker-archive:{archive}")
    text = render_inspect_html(report, tree)
    path = directory / f"{name}.html"
    path.write_text(text, encoding="utf-8")
    return Rendered(report, tree, text, path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render(tmp_path_factory.mktemp("html"), demo_image(), "demo")


@pytest.fixture(scope="module")
def markup(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render(tmp_path_factory.mktemp("html"), markup_image(), "markup")


# --- the document --------------------------------------------------------------------------------


def test_nothing_is_loaded_from_elsewhere(demo: Rendered) -> None:
    text = demo.html
    assert not re.search(r"<(link|img|iframe|object|embed|base)\b", text)
    assert not re.search(r"\b(src|href)\s*=", text)
    assert "url(" not in text
    assert "@import" not in text
    assert "@font-face" not in text
    # exactly two script elements: the data (not executable) and the page's own script
    assert len(re.findall(r"<script\b", text)) == 2


def test_the_csp_allows_exactly_the_inline_script_and_style(demo: Rendered) -> None:
    text = demo.html
    csp = html.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)[1]
    )  # type: ignore[index]
    script = re.search(r"<script>(.*?)</script>", text, re.S)[1]  # type: ignore[index]
    style = re.search(r"<style>(.*?)</style>", text, re.S)[1]  # type: ignore[index]

    def sha(s: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()

    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'{sha(script)}'"
    assert directives["style-src"] == f"'{sha(style)}'"
    assert directives["connect-src"] == "'none'"


def test_every_image_string_is_escaped(markup: Rendered) -> None:
    text = markup.html
    # no payload appears raw anywhere: not in the markup, not in the JSON block
    for fragment in ("<script>window", "<img src", "<svg", "<b ", '"onmouseover="'):
        assert sum(fragment in p for p in PAYLOADS) >= 1, fragment
        assert fragment not in text, fragment
    # in the tables they are escaped text
    for shown in (DIST_NAME, DIST_VERSION, INSTALLER, layer_instruction(CREATED_BY, None, 999)):
        assert html.escape(shown, quote=True) in text
    # in the JSON block they survive exactly
    data = embedded_data(text)
    assert data["tree"]["owners"][0][2:] == [DIST_NAME, DIST_VERSION]
    paths = {f"{data['tree']['dirs'][r[0]]}/{r[1]}" for r in data["tree"]["files"]}
    assert f"srv/{FILE_SCRIPT}" in paths
    assert f"srv/{FILE_ATTRIBUTE}.txt" in paths
    assert f"{SITE}/evil/{MODULE}" in paths
    assert any("window.__pwned=6</script>" in label for label in data["layers"])


def test_undecodable_names_stay_valid_utf8() -> None:
    b = TreeBuilder()
    b.add("srv/caf\udce9.txt", 10, "other", 0)
    text = render_inspect_html(python_report(), b.build())
    text.encode("utf-8")
    assert "caf\\udce9.txt" in text


def test_tables_carry_every_number() -> None:
    report = python_report()
    text = render_inspect_html(report, FileTree())
    for p in report.packages:
        assert f'data-v="{p.bytes}"' in text
        for value in p.categories.model_dump().values():
            assert f'data-v="{value}"' in text
    for layer in report.layers:
        assert f'data-v="{layer.dead_bytes}"' in text
    for sp in report.site_packages:
        assert f'data-v="{sp.unowned_bytes}"' in text
    for c in report.caches:
        assert f'data-v="{c.exclusive_bytes}"' in text
    for problem in report.problems:
        assert html.escape(problem_text(problem)) in text
    assert "Suggestions" not in text


@dataclass
class _Suggestion:
    id: str
    saves_bytes: int
    confidence: str
    packages: list[str] = field(default_factory=list)


def test_suggestions_get_their_own_table() -> None:
    suggestions = [
        _Suggestion("pip-cache", 123_456_789, "exact"),
        _Suggestion("bytecode", 42, "heuristic", ["<x>"]),
    ]
    text = render_inspect_html(
        python_report(), FileTree(), suggestions=suggestions, describe=lambda s: f"fix {s.id} <now>"
    )
    assert 'id="t-suggestions"' in text
    assert 'data-v="123456789"' in text
    assert "fix pip-cache &lt;now&gt;" in text
    assert "&lt;x&gt;" in text


def test_a_40k_file_image_stays_under_2_mb() -> None:
    """The paths and sizes of bench/bench.py's image (41,000 files), as a tree."""
    b = TreeBuilder()
    for i in range(4000):
        b.add(f"usr/lib/python3.11/pkg{i // 100}/mod{i}.py", 6000, "other", 0)
        b.add(
            f"usr/lib/python3.11/pkg{i // 100}/__pycache__/mod{i}.cpython-311.pyc", 5000, "other", 0
        )
    for i in range(400):
        b.add(f"usr/lib/x86_64-linux-gnu/lib{i}.so.1", 150_000, "other", 0)
    site = "opt/venv/lib/python3.11/site-packages"
    for d in range(50):
        owner = Owner("dist", f"/{site}", f"dist{d}", f"1.{d}.0")
        for m in range(250):
            b.add(f"{site}/pkg{d}/sub{m // 50}/mod{m}.py", 9000 + m, "source", 1, owner)
            b.add(
                f"{site}/pkg{d}/sub{m // 50}/__pycache__/mod{m}.cpython-311.pyc",
                7000,
                "bytecode",
                1,
                owner,
            )
        for s in range(12):
            b.add(
                f"{site}/pkg{d}/_native{s}.cpython-311-x86_64-linux-gnu.so",
                400_000,
                "native",
                1,
                owner,
            )
        for k in range(30):
            b.add(f"{site}/pkg{d}/data/table{k}.json", 3000, "data", 1, owner)
    for i in range(2500):
        b.add(f"root/.cache/pip/http-v2/{i % 16:x}/{i}/body", 24_000, "dead", 2, dead=True)
    for i in range(3000):
        b.add(f"opt/venv2/lib/python3.11/site-packages/pkguv/m{i}.py", 7000, "data", 3)
    tree = b.build()
    assert len(tree.files) > 40_000
    text = render_inspect_html(python_report(), tree)
    size = len(text.encode("utf-8"))
    assert size <= 2_000_000, size
    rows = embedded_data(text)["tree"]["files"]
    assert len(rows) < len(tree.files)
    assert sum(r[2] for r in rows) == tree.stored_bytes()
    assert sum(r[7] for r in rows) == len(tree.files)
    assert sum(1 for r in rows if r[7] == 1) >= MAX_TREE_FILES - 1


# --- in the browser ------------------------------------------------------------------------------


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


def _boxes(page: Page, selector: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = page.evaluate(
        f"[...document.querySelectorAll({json.dumps(selector)})].map(e => ({{...e.dataset, "
        "label: e.querySelector('.label').textContent, cls: e.className}))"
    )
    return found


def _crumbs(page: Page) -> list[int]:
    found: list[int] = page.evaluate(
        "[...document.querySelectorAll('#crumbs button')].map(b => +b.dataset.bytes)"
    )
    return found


def _open(page: Page, rendered: Rendered | Path) -> None:
    path = rendered.path if isinstance(rendered, Rendered) else rendered
    page.open(path.as_uri())
    assert page.errors() == []
    assert page.requests == [path.as_uri()]


def test_one_box_per_distribution_sized_as_the_report(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    boxes = _boxes(page, ".box[data-kind=dist]")
    assert sorted((b["name"], int(b["bytes"])) for b in boxes) == sorted(
        (p.name, p.bytes) for p in demo.report.packages
    )
    # the top level is the final view: site-packages, caches, the rest
    assert _crumbs(page) == [demo.report.image.bytes]
    top = _boxes(page, "#treemap > .box")
    for site in demo.report.site_packages:
        # a site-packages box: its distributions (with their files elsewhere, such as console
        # scripts) and its unowned files
        owned = sum(p.bytes for p in demo.report.packages if p.site_packages == site.path)
        box = next(b for b in top if b["label"].startswith(f"{site.path} "))
        assert int(box["bytes"]) == owned + site.unowned_bytes


def test_clicking_a_distribution_zooms_into_it(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    numpy = next(p for p in demo.report.packages if p.name == "numpy")
    page.click(".box[data-kind=dist][data-name=numpy] > .label")
    crumbs = page.evaluate(
        "[...document.querySelectorAll('#crumbs button')].map(b => b.textContent)"
    )
    assert crumbs[-1].startswith(f"numpy {numpy.version}")
    assert _crumbs(page)[-1] == numpy.bytes
    top = _boxes(page, "#treemap > .box")
    # every box big enough to see is drawn (3 px and up): nearly all of the bytes
    assert 0.99 * numpy.bytes <= sum(int(b["bytes"]) for b in top) <= numpy.bytes
    assert not _boxes(page, ".box[data-kind=dist]")
    # the breadcrumb zooms out again
    page.click("#crumbs button")
    assert len(_boxes(page, ".box[data-kind=dist]")) == len(demo.report.packages)
    assert page.errors() == []


def test_hover_names_the_file(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    page.click(".box[data-kind=dist][data-name=numpy] > .label")
    page.hover("#treemap .box[data-kind=file]")
    tip = page.evaluate("[...document.querySelectorAll('#tip div')].map(d => d.textContent)")
    assert tip[0].startswith("/opt/venv/lib/python3.11/site-packages/numpy")
    assert any(line.startswith("category: ") for line in tip)
    assert any(line.startswith("layer: layer ") for line in tip)
    assert "owner: numpy 1.26.4" in tip
    assert page.evaluate("document.getElementById('tip').hidden") is False


def test_search_highlights(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    page.click("#search")
    page.type_text("yaml")
    hits = {b["name"] for b in _boxes(page, ".box.hit[data-kind=dist]")}
    assert hits == {"PyYAML"}
    status = page.evaluate("document.getElementById('search-status').textContent")
    expected = sum(
        1 for f in demo.tree.files if not f.dead and "yaml" in f"/{f.dir}/{f.name}".lower()
    )
    assert status.startswith(f"{expected} matching files")
    page.evaluate(
        "(() => { const s = document.getElementById('search'); s.value = '';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert not _boxes(page, ".box.hit")


def test_layer_view_draws_dead_bytes_as_their_own_boxes(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    page.click("input[value=layer]")
    layers = _boxes(page, "#treemap > .box[data-kind=layer]")
    assert {int(b["layer"]): int(b["bytes"]) for b in layers} == {
        layer.index: layer.bytes for layer in demo.report.layers if layer.bytes
    }
    dead = _boxes(page, ".box[data-kind=dead]")
    assert dead
    by_layer = {layer.index: layer.dead_bytes for layer in demo.report.layers}
    for box in dead:
        parent = page.evaluate(
            f"document.querySelector('.box[data-id=\"{box['id']}\"]').parentElement.dataset.layer"
        )
        assert int(box["bytes"]) == by_layer[int(parent)]
    assert sum(int(b["bytes"]) for b in dead) == demo.report.totals.dead_bytes


def test_category_view(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    page.click("input[value=category]")
    cats = {b["label"].split(" ")[0]: int(b["bytes"]) for b in _boxes(page, "#treemap > .box")}
    assert cats["dead"] == demo.report.totals.dead_bytes
    assert sum(cats.values()) == demo.report.image.layer_bytes
    python = demo.report.site_packages
    assert cats["native"] >= sum(p.categories.native for p in demo.report.packages)
    assert python


def test_tables_sort(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    header = "#t-distributions + table thead th:nth-child(4)"
    page.click(header)
    values = page.evaluate(
        "[...document.querySelectorAll('#t-distributions + table tbody tr')]"
        ".map(r => +r.cells[3].dataset.v)"
    )
    assert values == sorted(p.bytes for p in demo.report.packages)
    page.click(header)
    values = page.evaluate(
        "[...document.querySelectorAll('#t-distributions + table tbody tr')]"
        ".map(r => +r.cells[3].dataset.v)"
    )
    assert values == sorted((p.bytes for p in demo.report.packages), reverse=True)


def test_no_script_from_the_image_runs(page: Page, markup: Rendered) -> None:
    _open(page, markup)
    for view in ("dist", "layer", "category"):
        page.click(f"input[value={view}]")
        for box_id in page.evaluate(
            "[...document.querySelectorAll('.box')].map(b => b.dataset.id)"
        ):
            page.hover(f'.box[data-id="{box_id}"]')
        page.click("#search")
        page.type_text("<")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.errors() == []
    assert page.requests == [markup.path.as_uri()]
    assert page.evaluate("document.scripts.length") == 2
    injected = page.evaluate(
        "[...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => "
        "a.name.startsWith('on'))).length + document.querySelectorAll('svg, img').length"
    )
    assert injected == 0
    # the payloads are on the page as text
    text = page.evaluate("document.body.innerText")
    for shown in (DIST_NAME, DIST_VERSION, INSTALLER):
        assert shown in text
    page.click("input[value=dist]")
    labels = " ".join(b["label"] for b in _boxes(page, ".box"))
    assert "onerror=window.__pwned=3" in labels


def _diff_pair(directory: Path) -> tuple[DiffReport, InspectReport, InspectReport]:
    def image(name: str, dists: list[Any]) -> Image:
        return Image(name=name, layers=[Layer(dists, created_by="RUN /bin/sh -c pip install")])

    common = dist(SITE, "six", "1.16.0", {"six.py": 30_000})
    a = image(
        "app:1",
        common
        + dist(SITE, "pandas", "2.1.0", {"pandas/core.py": 70_000})
        + dist(SITE, "tiny", "1.0", {"tiny.py": 500_000})
        + dist(SITE, "oldlib", "1.0", {"oldlib.py": 40_000}),
    )
    b = image(
        "app:2",
        common
        + dist(SITE, "pandas", "2.2.0", {"pandas/core.py": 90_000})
        + dist(SITE, "tiny", "1.1", {"tiny.py": 200_000})
        + dist(SITE, "newlib", "1.0", {"newlib.py": 50_000}),
    )
    reports = []
    for side, img in (("a", a), ("b", b)):
        path = directory / f"{side}.tar"
        write_docker_archive(path, img)
        reports.append(inspect_with_tree(f"docker-archive:{path}")[0])
    return diff_reports(reports[0], reports[1]), reports[0], reports[1]


def test_diff_boxes_are_coloured_by_their_change(page: Page, tmp_path: Path) -> None:
    report, a, b = _diff_pair(tmp_path)
    path = tmp_path / "diff.html"
    path.write_text(render_diff_html(report, a=a, b=b), encoding="utf-8")
    _open(page, path)
    boxes = {b["name"]: b for b in _boxes(page, ".box[data-kind=dist]")}
    expected = {
        "six": "same",
        "pandas": "grew",
        "tiny": "shrank",
        "oldlib": "gone",
        "newlib": "new",
    }
    assert {name: b["colour"] for name, b in boxes.items()} == expected
    by_name = {p.name: p for p in report.packages}
    for name, box in boxes.items():
        p = by_name[name]
        assert int(box["bytes"]) == (p.b if p.b else p.a)
    legend = page.evaluate("document.querySelector('.legend').innerText")
    for word in ("new", "grew", "same", "shrank", "gone"):
        assert word in legend
    # the causes: one row each, adding up to the shipped delta; a box names its causes
    rows = page.evaluate(
        "[...document.querySelectorAll('#t-causes + table tbody tr')]"
        ".map(r => +r.cells[2].dataset.v)"
    )
    assert rows == [c.bytes for c in report.causes]
    assert sum(rows) == report.totals.layer_bytes.delta
    page.hover(".box[data-kind=dist][data-name=newlib] > .label")
    tip = page.evaluate("[...document.querySelectorAll('#tip div')].map(d => d.textContent)")
    assert any(line.startswith("cause: added +") for line in tip), tip
    # inside a distribution, its categories: sized by B, coloured by their own change
    page.click(".box[data-kind=dist][data-name=pandas] > .label")
    cats = {b["label"].split(" ")[0]: b for b in _boxes(page, "#treemap > .box")}
    pandas_b = next(p for p in b.packages if p.name == "pandas")
    assert _crumbs(page)[-1] == pandas_b.bytes
    assert {"source", "bytecode"} <= set(cats)
    for c, box in cats.items():  # (boxes under 3 px, such as 372 bytes of metadata, are not drawn)
        assert int(box["bytes"]) == getattr(pandas_b.categories, c)
    assert cats["source"]["colour"] == "grew"
    page.click("input[value=layer]")
    assert _boxes(page, ".box[data-kind=layer]")
    assert page.errors() == []


def test_demo_screenshot_is_not_blank(browser: Browser, page: Page, demo: Rendered) -> None:
    _open(page, demo)
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(ARTIFACTS_DIR / "demo-inspect.png")
    stats = browser.png_stats(png)
    assert (stats["width"], stats["height"]) == (1400, 900)
    assert stats["colours"] >= 8
    assert stats["non_white"] > 0.3


def test_an_empty_tree_renders_without_error(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text(render_inspect_html(python_report(), FileTree()), encoding="utf-8")
    _open(page, path)
    for view in ("layer", "category", "dist"):
        page.click(f"input[value={view}]")
        assert not _boxes(page, ".box")
    assert _crumbs(page) == [0]
    assert page.errors() == []


def test_the_keyboard_zooms(page: Page, demo: Rendered) -> None:
    _open(page, demo)
    page.evaluate("document.querySelector('#treemap > .box').focus()")
    page.send(
        "Input.dispatchKeyEvent",
        type="keyDown",
        key="Enter",
        code="Enter",
        windowsVirtualKeyCode=13,
    )
    assert len(_crumbs(page)) == 2
    page.send(
        "Input.dispatchKeyEvent",
        type="keyDown",
        key="Escape",
        code="Escape",
        windowsVirtualKeyCode=27,
    )
    assert _crumbs(page) == [demo.report.image.bytes]
    assert page.errors() == []
