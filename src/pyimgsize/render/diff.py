"""Renderers for `pyimgsize diff`: a `DiffReport` as a table, JSON, markdown or HTML.

`render_diff(report, fmt, show_all=...)` picks the renderer; it only dispatches. JSON is the
wire model itself (every distribution and layer, `same` ones included: the contract lists
everything) with `explanation` filled from `causes` (`diff_words`); table and markdown hide
unchanged distributions and collapse shared layers into one line unless `show_all`.
"""

from __future__ import annotations

from typing import assert_never

from pyimgsize.render.diff_markdown import render_diff_markdown
from pyimgsize.render.diff_table import render_diff_table
from pyimgsize.render.diff_words import explanation
from pyimgsize.render.json import render_json
from pyimgsize.render.options import OutputFormat
from pyimgsize.report import DiffReport, InspectReport

__all__ = ["render_diff"]


def render_diff(
    report: DiffReport,
    fmt: OutputFormat,
    *,
    show_all: bool = False,
    sides: tuple[InspectReport, InspectReport] | None = None,
    width: int | None = None,
) -> str:
    """Render a diff as `fmt`; `show_all` lists unchanged distributions and shared layers.
    HTML draws each distribution's categories when given the inspect reports of A and B
    (`sides`, from `api.diff_sides`); `width` fits a table to a terminal (None: full width;
    other formats ignore it)."""
    match fmt:
        case OutputFormat.TABLE:
            return render_diff_table(report, show_all=show_all, width=width)
        case OutputFormat.JSON:
            return render_json(report.model_copy(update={"explanation": explanation(report)}))
        case OutputFormat.MARKDOWN:
            return render_diff_markdown(report, show_all=show_all)
        case OutputFormat.HTML:
            from pyimgsize.render.html import render_diff_html

            a, b = sides if sides is not None else (None, None)
            return render_diff_html(report, a=a, b=b)
        case _:
            assert_never(fmt)
