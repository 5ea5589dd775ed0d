"""One self-contained HTML file: a zoomable treemap beside sortable tables (inspect and diff).

The page holds its data as embedded JSON and its hand-written JS and CSS inline
(`render/assets/`); it loads nothing (a Content-Security-Policy allows no network request and
only the page's own script and style, by hash), so it works from `file://` and as a CI
artifact. The tables carry every number on their own; the treemap is the picture.

Everything that comes from the image (paths, names, versions, `created_by`) is untrusted: in
markup it is escaped with `esc()`, in the JSON block `<`, `>` and `&` are written as `\\u003c`
escapes so nothing can close the script element, and the script only ever puts strings into
the page through `textContent` or DOM properties.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Protocol

from pyimgsize.render.common import count, layer_instruction, layer_label, percent, short_id
from pyimgsize.render.problems import problem_text
from pyimgsize.report import (
    CATEGORIES,
    DiffReport,
    InspectReport,
    LayerDelta,
    Package,
    PackageDelta,
)
from pyimgsize.tree import TREE_CATEGORIES, FileTree
from pyimgsize.units import format_bytes

# Tables here wrap: a layer's whole instruction is shown, read as every format reads it.
FULL_WIDTH = 100_000

__all__ = ["SuggestionLike", "render_diff_html", "render_inspect_html"]

TREEMAP_HELP = (
    "treemap: Tab to a box, Enter to zoom in, Escape to zoom out; "
    "the tables beside it carry every number"
)
MAX_TREE_FILES = 12_000
"""Files drawn individually; the smaller rest is grouped per directory ("(n small files)")."""

CATEGORY_WORDS: Mapping[str, tuple[str, str]] = {
    "bytecode": ("bytecode", ".pyc / .pyo"),
    "source": ("source", ".py, .pyi, .pyx, .pxd"),
    "native": ("native", "shared objects, *.libs/"),
    "metadata": ("metadata", "*.dist-info, *.egg-info"),
    "data": ("data", "other files of a distribution or site-packages"),
    "cache": ("cache", "pip / uv / poetry caches, stray wheels"),
    "dead": ("dead", "stored in a layer, not visible: deleted or overwritten later"),
    "other": ("non-Python", "everything outside Python"),
}
DELTA_WORDS: Mapping[str, tuple[str, str]] = {
    "new": ("new", "only in B"),
    "grew": ("grew", "bigger in B"),
    "same": ("same", "unchanged"),
    "shrank": ("shrank", "smaller in B"),
    "gone": ("gone", "only in A (area: its bytes in A)"),
}
_WORDS: Mapping[str, Any] = {
    "small_files": "({n} small files)",
    "files": "files",
    "category": "category",
    "layer": "layer",
    "owner": "owner",
    "no_owner": "none (outside Python)",
    "unowned": "unowned",
    "outside": "outside Python",
    "caches": "caches and stray wheels",
    "dead_bytes": "dead bytes",
    "matches": "{n} matching files, {bytes}",
    "click_to_zoom": "click to zoom in",
    "cats": {k: v[0] for k, v in CATEGORY_WORDS.items()},
}


class SuggestionLike(Protocol):
    """What the suggestions table reads of a suggestion (design.md §8)."""

    @property
    def id(self) -> str: ...

    @property
    def saves_bytes(self) -> int: ...

    @property
    def confidence(self) -> str: ...

    @property
    def packages(self) -> Sequence[str]: ...


# --- building blocks ---------------------------------------------------------------------------


def esc(text: object) -> str:
    """`text` as HTML text or attribute value: `& < > " '` escaped; unpaired surrogates
    (undecodable bytes in a tar name) written as `\\udcXX` so the file stays valid UTF-8."""
    s = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(s, quote=True)


def json_for_script(data: object) -> str:
    """JSON that is safe inside `<script type="application/json">`: no `<`, `>` or `&` (so no
    `</script>` or `<!--`), and ASCII only (U+2028/2029, lone surrogates escaped)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _asset(name: str) -> str:
    return resources.files("pyimgsize.render").joinpath("assets", name).read_text("utf-8")


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


class Cell:
    """A table cell: its text (escaped on output) and, for numbers, the value sorted by."""

    __slots__ = ("code", "num", "text", "wrap")

    def __init__(
        self, text: str, num: float | None = None, *, code: bool = False, wrap: bool = False
    ) -> None:
        self.text = text
        self.num = num
        self.code = code
        self.wrap = wrap


def size_cell(n: int, *, signed: bool = False) -> Cell:
    return Cell(format_bytes(n, signed=signed), n)


def count_cell(n: int) -> Cell:
    return Cell(count(n), n)


def table(
    caption: str,
    headers: Sequence[tuple[str, bool]],
    rows: Iterable[Sequence[Cell]],
    *,
    table_id: str,
    empty: str = "none",
) -> str:
    """A sortable table; `headers` are (title, numeric). Numeric cells carry `data-v`."""
    body = []
    for row in rows:
        cells = []
        for cell, (_title, numeric) in zip(row, headers, strict=True):
            attrs = ' class="n"' if numeric else ' class="wrap"' if cell.wrap else ""
            if cell.num is not None:
                attrs += f' data-v="{cell.num}"'
            text = esc(cell.text)
            cells.append(f"<td{attrs}>{f'<code>{text}</code>' if cell.code else text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        return f'<h2 id="{table_id}">{esc(caption)}</h2>\n<p class="note">{esc(empty)}</p>'
    head = "".join(
        f'<th scope="col"{" class=" + chr(34) + "n" + chr(34) if numeric else ""}>{esc(title)}</th>'
        for title, numeric in headers
    )
    return (
        f'<h2 id="{table_id}">{esc(caption)}</h2>\n'
        f'<table class="sortable" aria-labelledby="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def legend(words: Mapping[str, tuple[str, str]], keys: Iterable[str]) -> str:
    items = "".join(
        f'<li><span class="swatch c-{k}" aria-hidden="true"></span>'
        f"<b>{esc(words[k][0])}</b>: {esc(words[k][1])}</li>"
        for k in keys
    )
    return f'<ul class="legend" aria-label="legend">{items}</ul>'


def page(
    *,
    title: str,
    facts: str,
    views: Sequence[tuple[str, str]],
    legend_html: str,
    area_note: str,
    tables: str,
    data: Mapping[str, Any],
) -> str:
    """The whole document; `views` are (value, label) of the view switch, the first checked."""
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"script-src '{_hash(js)}'; style-src '{_hash(css)}'; "
        "img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
    radios = "".join(
        f'<label><input type="radio" name="view" value="{esc(value)}"'
        f"{' checked' if i == 0 else ''}> {esc(label)}</label>"
        for i, (value, label) in enumerate(views)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pyimgsize">
<title>{esc(title)}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>{esc(title)}</h1>
<p class="facts">{facts}</p>
</header>
<div class="layout">
<section class="picture" aria-label="treemap">
<div class="controls">
<fieldset><legend>view</legend>{radios}</fieldset>
<label>search <input id="search" type="search" placeholder="path or name" autocomplete="off">
</label><span id="search-status" role="status"></span>
</div>
{legend_html}
<p class="note">{esc(area_note)}</p>
<nav id="crumbs" aria-label="zoom path"></nav>
<div id="treemap" tabindex="-1" aria-label="{esc(TREEMAP_HELP)}"></div>
<div id="tip" hidden></div>
</section>
<section class="tables" aria-label="tables">
{tables}
</section>
</div>
<script type="application/json" id="pyimgsize-data">{json_for_script(data)}</script>
<script>{js}</script>
</body>
</html>"""


# --- inspect -----------------------------------------------------------------------------------


def _layer_labels(report: InspectReport) -> list[str]:
    return [layer_label(layer.index, layer.created_by, layer.comment) for layer in report.layers]


def _inspect_tables(
    report: InspectReport,
    suggestions: Sequence[SuggestionLike] | None,
    describe: Callable[[Any], str] | None,
) -> str:
    image, totals = report.image, report.totals
    summary = [
        [Cell("visible (final view)"), size_cell(image.bytes)],
        [Cell("shipped (all layers, uncompressed)"), size_cell(image.layer_bytes)],
        [Cell("dead (shipped, not visible)"), size_cell(totals.dead_bytes)],
        [Cell("Python"), size_cell(totals.python_bytes)],
        [Cell("bytecode (.pyc/.pyo)"), size_cell(totals.bytecode_bytes)],
        [Cell("caches and stray wheels"), size_cell(totals.cache_bytes)],
        [Cell("visible files"), count_cell(image.files)],
        [Cell("layers"), count_cell(len(report.layers))],
        [Cell("distributions"), count_cell(len(report.packages))],
    ]
    if image.compressed_bytes is not None:
        summary.append([Cell("compressed layers"), size_cell(image.compressed_bytes)])
    parts = [table("Summary", [("what", False), ("value", True)], summary, table_id="t-summary")]
    if suggestions is not None:
        sugg_rows = [
            [
                Cell(s.id, code=True),
                size_cell(s.saves_bytes),
                Cell(s.confidence),
                Cell(", ".join(s.packages) or "-"),
                Cell(describe(s) if describe is not None else "", wrap=True),
            ]
            for s in suggestions
        ]
        parts.append(
            table(
                f"Suggestions ({len(sugg_rows)})",
                [
                    ("suggestion", False),
                    ("saves", True),
                    ("confidence", False),
                    ("distributions", False),
                    ("fix", False),
                ],
                sugg_rows,
                table_id="t-suggestions",
            )
        )
    parts.append(
        table(
            f"Distributions ({len(report.packages)})",
            [
                ("name", False),
                ("version", False),
                ("installer", False),
                ("bytes", True),
                ("files", True),
                *((c, True) for c in CATEGORIES),
                ("site-packages", False),
            ],
            (
                [
                    Cell(p.name),
                    Cell(p.version or "-"),
                    Cell(p.installer or "-"),
                    size_cell(p.bytes),
                    count_cell(p.files),
                    *(size_cell(int(getattr(p.categories, c))) for c in CATEGORIES),
                    Cell(p.site_packages, code=True),
                ]
                for p in report.packages
            ),
            table_id="t-distributions",
        )
    )
    parts.append(
        table(
            f"Layers ({len(report.layers)})",
            [
                ("#", True),
                ("created by", False),
                ("bytes", True),
                ("Python", True),
                ("dead", True),
                ("dead %", True),
                ("compressed", True),
            ],
            (
                [
                    count_cell(layer.index),
                    Cell(
                        layer_instruction(layer.created_by, layer.comment, FULL_WIDTH),
                        code=True,
                        wrap=True,
                    ),
                    size_cell(layer.bytes),
                    size_cell(layer.python_bytes),
                    size_cell(layer.dead_bytes),
                    Cell(
                        percent(layer.dead_bytes, layer.bytes),
                        layer.dead_bytes / layer.bytes if layer.bytes else 0,
                    ),
                    Cell("-")
                    if layer.compressed_bytes is None
                    else size_cell(layer.compressed_bytes),
                ]
                for layer in report.layers
            ),
            table_id="t-layers",
        )
    )
    parts.append(
        table(
            f"Site-packages ({len(report.site_packages)})",
            [("path", False), ("kind", False), ("bytes", True), ("unowned", True), ("files", True)],
            (
                [
                    Cell(sp.path, code=True),
                    Cell(sp.kind),
                    size_cell(sp.bytes),
                    size_cell(sp.unowned_bytes),
                    count_cell(sp.files),
                ]
                for sp in report.site_packages
            ),
            table_id="t-site-packages",
        )
    )
    parts.append(
        table(
            f"Caches and stray wheels ({len(report.caches)})",
            [("path", False), ("kind", False), ("bytes", True), ("exclusive", True)],
            (
                [
                    Cell(c.path, code=True),
                    Cell(c.kind),
                    size_cell(c.bytes),
                    size_cell(c.exclusive_bytes),
                ]
                for c in report.caches
            ),
            table_id="t-caches",
        )
    )
    parts.append(
        table(
            f"Problems ({len(report.problems)})",
            [("kind", False), ("message", False), ("path", False), ("layer", True)],
            (
                [
                    Cell(p.kind),
                    Cell(problem_text(p), wrap=True),
                    Cell(p.path or "-", code=p.path is not None),
                    Cell("-") if p.layer is None else count_cell(p.layer),
                ]
                for p in report.problems
            ),
            table_id="t-problems",
        )
    )
    return "\n".join(parts)


def _facts(ref: str, parts: Sequence[str]) -> str:
    return " · ".join(esc(p) for p in parts) if parts else esc(ref)


def render_inspect_html(
    report: InspectReport,
    tree: FileTree,
    *,
    suggestions: Sequence[SuggestionLike] | None = None,
    describe: Callable[[Any], str] | None = None,
    max_files: int = MAX_TREE_FILES,
) -> str:
    """The inspect report as one HTML page; `tree` is the image's file tree (`api.inspect_with_
    tree`). `suggestions` (with `describe`, their words) adds the suggestions table."""
    image = report.image
    facts = _facts(
        image.ref,
        [
            image.source,
            f"id {short_id(image.id)}",
            image.platform or "platform unknown",
            f"visible {format_bytes(image.bytes)}",
            f"shipped {format_bytes(image.layer_bytes)}",
            f"{count(image.files)} files",
        ],
    )
    data = {
        "kind": "inspect",
        "title": image.ref,
        "default_view": "dist",
        "words": _WORDS,
        "layers": _layer_labels(report),
        "tree": tree.grouped(max_files).to_data(),
    }
    return page(
        title=f"pyimgsize: {image.ref}",
        facts=facts,
        views=[("dist", "by distribution"), ("layer", "by layer"), ("category", "by category")],
        legend_html=legend(CATEGORY_WORDS, TREE_CATEGORIES),
        area_note="Area: bytes. By distribution: the final view (what a container sees); by "
        "layer and by category: everything shipped, dead bytes included. Click a box to zoom "
        "in, the path above to zoom out.",
        tables=_inspect_tables(report, suggestions, describe),
        data=data,
    )


# --- diff --------------------------------------------------------------------------------------

Spec = list[Any]
"""A prebuilt treemap node: [name, size, colour, info lines, children, kind, dist name]."""


def _status(a: int | None, b: int | None, delta: int) -> str:
    if a is None or (a == 0 and b):
        return "new"
    if b is None or (b == 0 and a):
        return "gone"
    return "grew" if delta > 0 else "shrank" if delta < 0 else "same"


def _delta_line(a: int | None, b: int | None, delta: int) -> str:
    return (
        f"A {'-' if a is None else format_bytes(a)} → B {'-' if b is None else format_bytes(b)}"
        f" ({format_bytes(delta, signed=True)})"
    )


def _category_specs(p: PackageDelta, shown: Package) -> list[Spec]:
    """The categories of a distribution as boxes: sized by `shown` (B's distribution, A's for
    one that is gone), coloured by their own change."""
    gone = p.b is None
    kids: list[Spec] = []
    for c in CATEGORIES:
        size = int(getattr(shown.categories, c))
        delta = p.categories.get(c, 0)
        a, b = (size, None) if gone else (size - delta, size)
        if not size and not delta:
            continue
        status = _status(a or None, b, delta)
        kids.append([c, size, status, [f"{p.name}: {c}", _delta_line(a, b, delta)], [], "category"])
    return kids


def _package_spec(p: PackageDelta, shown: Package | None, causes: Sequence[str]) -> Spec:
    status = _status(p.a, p.b, p.delta)
    versions = f"{p.version_a or '-'} → {p.version_b or '-'}"
    changes = ", ".join(f"{c} {format_bytes(v, signed=True)}" for c, v in p.categories.items() if v)
    info = [p.name, _delta_line(p.a, p.b, p.delta), f"version {versions}", DELTA_WORDS[status][0]]
    if changes:
        info.append(changes)
    info.append(f"site-packages {p.site_packages}")
    info.extend(causes)
    size = p.b if p.b else (p.a or 0)
    kids = _category_specs(p, shown) if shown is not None and shown.bytes == size else []
    return [
        f"{p.name} {format_bytes(p.delta, signed=True)}",
        size,
        status,
        info,
        kids,
        "dist",
        p.name,
    ]


def _layer_spec(d: LayerDelta) -> Spec:
    a = d.a_bytes if d.a_index is not None else None
    b = d.b_bytes if d.b_index is not None else None
    status = _status(a, b, d.delta)
    index = d.b_index if d.b_index is not None else d.a_index
    label = layer_label(index or 0, d.created_by_b or d.created_by_a)
    changes = ", ".join(f"{c} {format_bytes(v, signed=True)}" for c, v in d.categories.items() if v)
    info = [label, _delta_line(a, b, d.delta), f"aligned by {d.match}"]
    if changes:
        info.append(changes)
    size = d.b_bytes if b else d.a_bytes
    return [f"{label} {format_bytes(d.delta, signed=True)}", size, status, info, [], "layer"]


def _diff_views(
    report: DiffReport, a: InspectReport | None, b: InspectReport | None
) -> dict[str, Spec]:
    def index(side: InspectReport | None) -> dict[tuple[str, str], Package]:
        return {(p.name, p.site_packages): p for p in side.packages} if side is not None else {}

    a_pkgs, b_pkgs = index(a), index(b)
    causes: dict[tuple[str, str], list[str]] = {}
    for cause in report.causes:
        for cp in cause.packages:
            causes.setdefault((cp.name, cp.site_packages), []).append(
                f"cause: {cause.kind} {format_bytes(cp.bytes, signed=True)}"
            )
    a_by_name = {name: p for (name, _site), p in a_pkgs.items()}
    by_site: dict[str, list[Spec]] = {}
    for p in report.packages:
        key = (p.name, p.site_packages)
        shown = b_pkgs.get(key) if p.b is not None else a_pkgs.get(key, a_by_name.get(p.name))
        by_site.setdefault(p.site_packages, []).append(_package_spec(p, shown, causes.get(key, [])))
    sites = [
        [site, sum(k[1] for k in kids), "same", [site], kids, "site"]
        for site, kids in sorted(by_site.items())
    ]
    layers = [_layer_spec(d) for d in report.layers]
    title = f"{report.a.ref} → {report.b.ref}"
    return {
        "dist": [title, sum(s[1] for s in sites), "same", [title], sites, "image"],
        "layer": [title, sum(s[1] for s in layers), "same", [title], layers, "image"],
    }


def render_diff_html(
    report: DiffReport,
    *,
    a: InspectReport | None = None,
    b: InspectReport | None = None,
) -> str:
    """A diff as one HTML page: the distributions and aligned layers as treemaps sized by B
    and coloured by their change, beside the totals, causes, distributions and layers tables.
    With the two inspect reports `a` and `b`, each distribution's box holds its categories.
    The causes (`report.causes`, worded by `diff_words`) get their own table, the explanation
    leads the page, and each distribution's box names the causes it takes part in."""
    from pyimgsize.render.diff_words import cause_text, explanation

    words = explanation(report)
    t = report.totals
    total_rows = [
        [
            Cell(label),
            size_cell(d.a),
            size_cell(d.b),
            size_cell(d.delta, signed=True),
            Cell("-" if d.percent is None else f"{d.percent:+.1f}%", d.percent or 0),
        ]
        for label, d in (
            ("visible", t.bytes),
            ("shipped", t.layer_bytes),
            ("Python", t.python_bytes),
            ("bytecode", t.bytecode_bytes),
            ("cache", t.cache_bytes),
            ("dead", t.dead_bytes),
        )
    ]
    parts = [
        table(
            "Totals (B minus A)",
            [("what", False), ("A", True), ("B", True), ("delta", True), ("%", True)],
            total_rows,
            table_id="t-totals",
        ),
        '<h2 id="t-words">In words</h2>\n<ul class="words">'
        + "".join(f"<li>{esc(line)}</li>" for line in words)
        + "</ul>",
        table(
            f"Causes ({len(report.causes)}; they add up to the shipped delta)",
            [("#", True), ("cause", False), ("bytes", True), ("what", False)],
            (
                [
                    count_cell(i + 1),
                    Cell(c.kind),
                    size_cell(c.bytes, signed=True),
                    Cell(cause_text(c), wrap=True),
                ]
                for i, c in enumerate(report.causes)
            ),
            table_id="t-causes",
        ),
        table(
            "Categories",
            [("category", False), ("A", True), ("B", True), ("delta", True)],
            (
                [Cell(c.category), size_cell(c.a), size_cell(c.b), size_cell(c.delta, signed=True)]
                for c in report.categories
            ),
            table_id="t-categories",
        ),
        table(
            f"Distributions ({len(report.packages)})",
            [
                ("name", False),
                ("status", False),
                ("version A", False),
                ("version B", False),
                ("A", True),
                ("B", True),
                ("delta", True),
                ("site-packages", False),
            ],
            (
                [
                    Cell(p.name),
                    Cell(p.status),
                    Cell(p.version_a or "-"),
                    Cell(p.version_b or "-"),
                    Cell("-") if p.a is None else size_cell(p.a),
                    Cell("-") if p.b is None else size_cell(p.b),
                    size_cell(p.delta, signed=True),
                    Cell(p.site_packages, code=True),
                ]
                for p in report.packages
            ),
            table_id="t-distributions",
        ),
        table(
            f"Layers ({len(report.layers)})",
            [
                ("A #", True),
                ("B #", True),
                ("match", False),
                ("created by (B, else A)", False),
                ("A", True),
                ("B", True),
                ("delta", True),
            ],
            (
                [
                    Cell("-") if d.a_index is None else count_cell(d.a_index),
                    Cell("-") if d.b_index is None else count_cell(d.b_index),
                    Cell(d.match),
                    Cell(
                        layer_instruction(d.created_by_b or d.created_by_a, None, FULL_WIDTH),
                        code=True,
                        wrap=True,
                    ),
                    size_cell(d.a_bytes),
                    size_cell(d.b_bytes),
                    size_cell(d.delta, signed=True),
                ]
                for d in report.layers
            ),
            table_id="t-layers",
        ),
    ]
    facts = _facts(
        report.b.ref,
        [
            f"A {report.a.ref} ({format_bytes(t.bytes.a)})",
            f"B {report.b.ref} ({format_bytes(t.bytes.b)})",
            f"visible {format_bytes(t.bytes.delta, signed=True)}",
            f"shipped {format_bytes(t.layer_bytes.delta, signed=True)}",
        ],
    )
    data = {
        "kind": "diff",
        "title": f"{report.a.ref} → {report.b.ref}",
        "default_view": "dist",
        "words": _WORDS,
        "views": _diff_views(report, a, b),
    }
    return page(
        title=f"pyimgsize diff: {report.a.ref} → {report.b.ref}",
        facts=facts,
        views=[("dist", "by distribution"), ("layer", "by layer")],
        legend_html=legend(DELTA_WORDS, DELTA_WORDS),
        area_note="Area: bytes in B (gone boxes: bytes in A); colour: the change from A to B. "
        "Click a box to zoom in, the path above to zoom out.",
        tables="\n".join(parts),
        data=data,
    )
