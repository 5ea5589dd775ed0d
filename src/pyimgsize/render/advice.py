"""`advise` as a terminal table or markdown, and the "Suggestions" section of `inspect`.

The advise report: one summary line (how many suggestions, what they save together, of the
shipped bytes, exact and heuristic parts), a table (saving, confidence, what, layers), then one
paragraph per suggestion: the fix for its installer and layers, the trade-off, the
distributions and the largest files. `inspect` shows the top 5 rows of the same table. The
suggestions add up (no byte is claimed twice), so the total is their sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import assert_never

from pyimgsize.render import OutputFormat
from pyimgsize.render.advice_words import fix, title, tradeoff
from pyimgsize.render.common import ELLIPSIS, make_table, md_code, md_escape, percent, truncate
from pyimgsize.report import AdviseReport, Layer, Suggestion
from pyimgsize.units import format_bytes

NOTHING = "Nothing to suggest: no cache, stray wheel, dead byte or removable file found"
INSPECT_TOP = 5
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


def _layers_cell(s: Suggestion) -> str:
    return ", ".join(s.layers)


def _rows(suggestions: Sequence[Suggestion]) -> list[list[str]]:
    return [
        [
            str(n),
            format_bytes(s.saves_bytes),
            s.confidence,
            s.id,
            title(s),
            _layers_cell(s),
        ]
        for n, s in enumerate(suggestions, 1)
    ]


_HEADERS = ["#", "saves", "confidence", "id", "what", "layers"]


def _files(s: Suggestion, code: Callable[[str], str]) -> str:
    shown = [
        f"{code(truncate(e.path, 90))} {format_bytes(e.bytes)} (layer {e.layer})"
        for e in s.evidence[:MAX_EVIDENCE]
    ]
    more = s.files - len(shown)
    if more > 0:
        shown.append(f"{ELLIPSIS} {more} more")
    return "; ".join(shown)


def _detail_lines(
    s: Suggestion, layers: Sequence[Layer], code: Callable[[str], str]
) -> list[tuple[str, str]]:
    where = [int(i) for i in s.layers]
    lines = [("fix", fix(s.fix, layers, where=where, code=code))]
    cost = tradeoff(s)
    if cost is not None:
        lines.append(("trade-off", cost))
    if s.packages:
        names = s.packages[:MAX_PACKAGES]
        extra = len(s.packages) - len(names)
        more = f" {ELLIPSIS} {extra} more" if extra else ""
        lines.append(("packages", ", ".join(names) + more))
    if s.files:
        lines.append(("largest", _files(s, code)))
    return lines


def suggestions_table(suggestions: Sequence[Suggestion], *, top: int = INSPECT_TOP) -> str:
    """inspect's "Suggestions" section: the top rows and the total of all of them."""
    if not suggestions:
        return f"Suggestions: none ({NOTHING[len('Nothing to suggest: ') :]})"
    shown = suggestions[:top] if top > 0 else suggestions
    scope = f"top {len(shown)} of " if len(shown) < len(suggestions) else ""
    title_line = f"Suggestions ({scope}{len(suggestions)}; `pyimgsize advise` words each fix)"
    table = make_table(_HEADERS, _rows(shown), right=(0, 1))
    total = format_bytes(sum(s.saves_bytes for s in suggestions))
    return f"{title_line}\n{table}\n  together: {total}"


def suggestions_markdown(suggestions: Sequence[Suggestion], *, top: int = INSPECT_TOP) -> str:
    if not suggestions:
        return f"**Suggestions:** none. {md_escape(NOTHING)}."
    shown = suggestions[:top] if top > 0 else suggestions
    rows = [[*r[:3], md_code(r[3]), md_escape(r[4]), r[5]] for r in _rows(shown)]
    table = make_table(_HEADERS, rows, right=(0, 1), tablefmt="pipe")
    total = format_bytes(sum(s.saves_bytes for s in suggestions))
    scope = f"top {len(shown)} of {len(suggestions)}" if len(shown) < len(suggestions) else ""
    head = f"#### Suggestions{f' ({scope})' if scope else ''}: {total} together"
    return f"{head}\n\n{table}\n\n<sub>`pyimgsize advise` words each fix.</sub>"


def render_advice_table(report: AdviseReport) -> str:
    head = f"Advice for {report.image.ref}"
    if not report.suggestions:
        return f"{head}\n  {NOTHING}."
    parts = [
        f"{head}\n  {_summary(report.suggestions, report.image.layer_bytes)}",
        make_table(_HEADERS, _rows(report.suggestions), right=(0, 1)),
    ]
    for n, s in enumerate(report.suggestions, 1):
        lines = [f"{n}. {title(s)} [{s.id}]: saves {format_bytes(s.saves_bytes)} ({s.confidence})"]
        lines += [f"   {label}: {text}" for label, text in _detail_lines(s, report.layers, str)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render_advice_markdown(report: AdviseReport) -> str:
    head = f"### pyimgsize advise: {md_code(report.image.ref)}"
    if not report.suggestions:
        return f"{head}\n\n{md_escape(NOTHING)}."
    summary = md_escape(_summary(report.suggestions, report.image.layer_bytes))
    rows = [[*r[:3], md_code(r[3]), md_escape(r[4]), r[5]] for r in _rows(report.suggestions)]
    parts = [head, summary, make_table(_HEADERS, rows, right=(0, 1), tablefmt="pipe")]
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


def render_advice(report: AdviseReport, fmt: OutputFormat) -> str:
    """The advise report as `fmt` (JSON: the wire model)."""
    match fmt:
        case OutputFormat.TABLE:
            return render_advice_table(report)
        case OutputFormat.MARKDOWN:
            return render_advice_markdown(report)
        case OutputFormat.JSON:
            from pyimgsize.render.json import render_json

            return render_json(report)
        case _:
            assert_never(fmt)
