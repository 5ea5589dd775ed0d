"""`advise` as a terminal table or markdown (inspect's "Suggestions" section is in
`render.table` / `render.markdown`, from the same rows).

The advise report: one summary line (how many suggestions, what they save together, of the
shipped bytes, exact and heuristic parts), a table (saving, confidence, what, layers), then one
paragraph per suggestion: the fix for its installer and layers, the trade-off, the
distributions and the largest files. `inspect` shows the top 5 rows of the same table. The
suggestions add up (no byte is claimed twice), so the total is their sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, assert_never

from pyimgsize.render.advice_words import (
    ROW_COLUMNS,
    ROW_HEADERS,
    describe,
    fix,
    rows,
    title,
    tradeoff,
)
from pyimgsize.render.common import (
    ELLIPSIS,
    count,
    fit_lines,
    fit_table,
    layer_label,
    make_table,
    md_code,
    md_escape,
    percent,
    truncate,
    wrap_lines,
)
from pyimgsize.render.options import OutputFormat
from pyimgsize.report import AdviseReport, InspectReport, Layer, Suggestion
from pyimgsize.units import format_bytes

if TYPE_CHECKING:
    from pyimgsize.tree import FileTree

NOTHING = "Nothing to suggest: no cache, stray wheel, dead byte or removable file found"
MAX_PACKAGES = 8
MAX_EVIDENCE = 3


def _summary(suggestions: Sequence[Suggestion], layer_bytes: int) -> str:
    total = sum(s.saves_bytes for s in suggestions)
    exact = sum(s.saves_bytes for s in suggestions if s.confidence == "exact")
    share = percent(total, layer_bytes)
    noun = "suggestion" if len(suggestions) == 1 else "suggestions"
    of = f" ({share} of {format_bytes(layer_bytes)} shipped)" if share else ""
    return (
        f"{len(suggestions)} {noun} save {format_bytes(total)} together{of}: "
        f"{format_bytes(exact)} exact, {format_bytes(total - exact)} heuristic"
    )


def _files(s: Suggestion, code: Callable[[str], str]) -> str:
    shown = [
        f"{code(truncate(e.path, 90))} {format_bytes(e.bytes)} (layer {e.layer})"
        for e in s.evidence[:MAX_EVIDENCE]
    ]
    more = s.files - len(shown)
    if not shown:
        return f"{count(s.files)} files"
    if more > 0:
        shown.append(f"{ELLIPSIS} {count(more)} more")
    return "; ".join(shown)


def _detail_lines(
    s: Suggestion, layers: Sequence[Layer], code: Callable[[str], str]
) -> list[tuple[str, str]]:
    where = [int(i) for i in s.layers]

    def name(i: int) -> str:
        if 0 <= i < len(layers):
            return layer_label(i, layers[i].created_by, layers[i].comment, 50)
        return f"layer {i}"

    lines = [("fix", fix(s.fix, where=where, name=name, code=code))]
    if s.files:
        lines.append(("files", f"{count(s.files)} in {_layers_word(s)}"))
    cost = tradeoff(s)
    if cost is not None:
        lines.append(("trade-off", cost))
    if s.packages:
        names = s.packages[:MAX_PACKAGES]
        extra = len(s.packages) - len(names)
        more = f" {ELLIPSIS} {extra} more" if extra else ""
        lines.append(("packages", ", ".join(names) + more))
    if s.evidence:
        lines.append(("largest", _files(s, code)))
    return lines


def _layers_word(s: Suggestion) -> str:
    noun = "layer" if len(s.layers) == 1 else "layers"
    return f"{noun} {', '.join(s.layers)}"


def render_advice_table(report: AdviseReport, width: int | None = None) -> str:
    """The advice as terminal text; `width` fits it to a terminal (None: full width)."""
    head = f"Advice for {report.image.ref}"
    if not report.suggestions:
        return fit_lines(f"{head}\n  {NOTHING}.", width)
    summary = wrap_lines(f"  {_summary(report.suggestions, report.image.layer_bytes)}", width)
    parts = [
        fit_lines(f"{head}\n{summary}", width),
        fit_table(ROW_COLUMNS, rows(report.suggestions), width),
    ]
    for n, s in enumerate(report.suggestions, 1):
        first = f"{n}. {title(s)} [{s.id}]: saves {format_bytes(s.saves_bytes)} ({s.confidence})"
        lines = [wrap_lines(first, width, indent="   ")]
        lines += [
            wrap_lines(f"   {label}: {text}", width, indent="  ")
            for label, text in _detail_lines(s, report.layers, str)
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render_advice_markdown(report: AdviseReport) -> str:
    head = f"### pyimgsize advise: {md_code(report.image.ref)}"
    if not report.suggestions:
        return f"{head}\n\n{md_escape(NOTHING)}."
    summary = md_escape(_summary(report.suggestions, report.image.layer_bytes))
    cells = [[*r[:3], md_code(r[3]), md_escape(r[4]), r[5]] for r in rows(report.suggestions)]
    parts = [head, summary, make_table(ROW_HEADERS, cells, right=(0, 1), tablefmt="pipe")]
    for n, s in enumerate(report.suggestions, 1):
        lines = [
            f"**{n}. {md_escape(title(s))}** ({md_code(s.id)}): saves "
            f"{format_bytes(s.saves_bytes)}, {s.confidence}",
            "",
        ]
        for label, text in _detail_lines(s, report.layers, md_code):
            words = label in ("fix", "trade-off", "largest")  # our own words, code spans kept
            lines.append(f"- {label}: {text if words else md_escape(text)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render_advice(
    report: AdviseReport,
    fmt: OutputFormat,
    *,
    inspected: InspectReport | None = None,
    tree: FileTree | None = None,
    width: int | None = None,
) -> str:
    """The advise report as `fmt` (JSON: the wire model). HTML is the inspect page with the
    suggestions table, so it needs the inspect report and its file tree
    (`api.inspect_with_tree`). `width` fits the table format to a terminal."""
    match fmt:
        case OutputFormat.TABLE:
            return render_advice_table(report, width)
        case OutputFormat.MARKDOWN:
            return render_advice_markdown(report)
        case OutputFormat.JSON:
            from pyimgsize.render.json import render_json

            return render_json(report)
        case OutputFormat.HTML:
            from pyimgsize.render.html import render_inspect_html

            if inspected is None or tree is None:
                raise ValueError("the HTML advice page draws the file tree: pass inspected=, tree=")
            return render_inspect_html(
                inspected, tree, suggestions=report.suggestions, describe=describe
            )
        case _:
            assert_never(fmt)
