"""Renderers: turn a report model into text. They return strings and never print.

Only the CLI decides where the text goes (stdout or `--output FILE`). The returned text has no
trailing newline; the writer adds one. One module per output format (`table`, `markdown`,
`json`); shared helpers that diff and check renderers may reuse live in `render.common`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from pyimgsize.render.options import CheckFormat, OutputFormat, SortKey

if TYPE_CHECKING:
    from pyimgsize.report import InspectReport
    from pyimgsize.tree import FileTree

__all__ = ["CheckFormat", "OutputFormat", "SortKey", "render_inspect"]


def render_inspect(
    report: InspectReport,
    fmt: OutputFormat,
    *,
    top: int = 20,
    sort: SortKey = SortKey.BYTES,
    tree: FileTree | None = None,
    width: int | None = None,
) -> str:
    """Render an inspect report as `fmt`.

    `top` limits the distributions listed by table and markdown (`top <= 0` lists all);
    `sort` orders them. JSON and HTML ignore both: they list every distribution in report
    order (bytes descending, then name). HTML draws `tree`, the image's file tree
    (`api.inspect_with_tree`), and needs it. `width` fits a table to a terminal (None: full
    width; other formats ignore it).
    """
    match fmt:
        case OutputFormat.TABLE:
            from pyimgsize.render.table import render_inspect_table

            return render_inspect_table(report, top=top, sort=sort, width=width)
        case OutputFormat.JSON:
            from pyimgsize.render.json import render_json
            from pyimgsize.render.problems import worded

            return render_json(worded(report))
        case OutputFormat.MARKDOWN:
            from pyimgsize.render.markdown import render_inspect_markdown

            return render_inspect_markdown(report, top=top, sort=sort)
        case OutputFormat.HTML:
            from pyimgsize.render.html import render_inspect_html

            if tree is None:
                raise ValueError("the HTML report draws the file tree: pass tree=")
            from pyimgsize.render.advice_words import describe

            return render_inspect_html(
                report, tree, suggestions=report.suggestions or None, describe=describe
            )
        case _:
            assert_never(fmt)
