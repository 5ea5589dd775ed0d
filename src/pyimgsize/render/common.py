"""Helpers shared by every renderer (inspect, diff, check; table and markdown).

Everything here is pure: strings in, strings out. Sizes are always shown with
`units.format_bytes` (decimal units), so every table uses one unit system.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, assert_never

from tabulate import tabulate

from pyimgsize.render.options import SortKey
from pyimgsize.report import DEAD_CATEGORIES, DeadCategories, Layer, Package
from pyimgsize.units import format_bytes

ELLIPSIS = "…"

_SHELL_PREFIX = re.compile(r"/bin/(?:ba)?sh -c ")
_NOP_PREFIX = re.compile(r"^/bin/(?:ba)?sh -c #\(nop\)\s*")
_SHELL_START = re.compile(r"^/bin/(?:ba)?sh -c ")
_BUILDKIT = re.compile(r"\s*# buildkit\s*$")
_WHITESPACE = re.compile(r"\s+")
_LONG_DIGEST = re.compile(r"\b((?:file|dir|multi|sha256):)([0-9a-f]{12})[0-9a-f]{20,}\b")
_SITE_TAIL = re.compile(r"/lib(?:64)?/python[0-9][0-9.]*/(site|dist)-packages$")


def truncate(text: str, width: int) -> str:
    """`text` cut to at most `width` characters, ending in an ellipsis when cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + ELLIPSIS


def short_created_by(created_by: str | None, width: int = 60) -> str:
    """A layer's `created_by` history entry as the Dockerfile instruction, in one table cell.

    The classic builder writes `/bin/sh -c #(nop) ENV X=1` for metadata instructions and
    `/bin/sh -c pip install ...` for RUN; BuildKit writes `RUN /bin/sh -c pip install ... #
    buildkit`. All of them read as the instruction: `ENV X=1`, `RUN pip install ...`. Long
    content digests are cut to 12 hex digits (`ADD file:5d673d25da3a… in /`), whitespace is
    collapsed and the text truncated to `width` characters with an ellipsis. An unknown
    instruction renders as "".
    """
    if not created_by:
        return ""
    text = _BUILDKIT.sub("", created_by)
    text = _WHITESPACE.sub(" ", text).strip()
    if _NOP_PREFIX.match(text):
        text = _NOP_PREFIX.sub("", text)
    elif _SHELL_START.match(text):
        text = "RUN " + _SHELL_START.sub("", text)
    text = _SHELL_PREFIX.sub("", text)
    text = _LONG_DIGEST.sub(lambda m: f"{m.group(1)}{m.group(2)}{ELLIPSIS}", text)
    return truncate(text, width)


def layer_instruction(created_by: str | None, comment: str | None, width: int = 60) -> str:
    """`short_created_by`, or the history comment in parentheses when there is no instruction
    (`docker import` layers: "(Imported from -)")."""
    if created_by:
        return short_created_by(created_by, width)
    if comment:
        return truncate(f"({_WHITESPACE.sub(' ', comment).strip()})", width)
    return ""


def layer_label(
    index: int, created_by: str | None, comment: str | None = None, width: int = 60
) -> str:
    """How every command and format names a layer in prose: `layer 3: RUN pip install …`
    (`layer 3` alone when the layer has neither an instruction nor a comment)."""
    instruction = layer_instruction(created_by, comment, width)
    return f"layer {index}: {instruction}" if instruction else f"layer {index}"


def short_id(image_id: str, length: int = 12) -> str:
    """An image or layer digest without its algorithm prefix, cut to `length` hex digits.

    `sha256:3f1c0e...` becomes `3f1c0e9a7b2d`; an id without a prefix is just cut.
    """
    _, _, digest = image_id.rpartition(":")
    return digest[:length]


def short_site_packages(path: str) -> str:
    """`/opt/venv/lib/python3.12/site-packages` as `/opt/venv/…/site-packages`.

    Keeps the prefix that tells environments apart (a venv, `/usr/local`, `/usr`) and drops
    the `lib/pythonX.Y` part; other paths are returned unchanged.
    """
    return _SITE_TAIL.sub(lambda m: f"/{ELLIPSIS}/{m.group(1)}-packages", path)


def site_packages_labels(paths: Iterable[str]) -> dict[str, str]:
    """Short, unambiguous labels for site-packages paths (see `short_site_packages`).

    A path whose short form would collide with another's keeps its full path.
    """
    unique = sorted(set(paths))
    shorts = {p: short_site_packages(p) for p in unique}
    counts: dict[str, int] = {}
    for short in shorts.values():
        counts[short] = counts.get(short, 0) + 1
    return {p: (s if counts[s] == 1 else p) for p, s in shorts.items()}


def percent(part: int, whole: int) -> str:
    """`part` as a percentage of `whole` with one decimal ("9.4%"); "" when `whole` is 0."""
    if whole == 0:
        return ""
    return f"{part / whole * 100:.1f}%"


def count(n: int) -> str:
    """A file or item count with thousands separators: 12,345."""
    return f"{n:,}"


def dominant_dead_category(dead: DeadCategories) -> str | None:
    """The category holding most of a layer's dead bytes; ties go to the first in
    `DEAD_CATEGORIES` order. None when the layer has no dead bytes."""
    best: str | None = None
    best_bytes = 0
    for name in DEAD_CATEGORIES:
        value = int(getattr(dead, name))
        if value > best_bytes:
            best, best_bytes = name, value
    return best


def dead_cell(dead_bytes: int, dead: DeadCategories) -> str:
    """A layer's dead bytes with its dominant category: "12.1 MB (cache)"; "0 B" when none."""
    category = dominant_dead_category(dead)
    if dead_bytes <= 0 or category is None:
        return format_bytes(dead_bytes)
    return f"{format_bytes(dead_bytes)} ({category})"


_DEAD_TAGS = {
    "cache": "pip/uv/poetry caches, stray wheels",
    "other": "files outside Python (OS packages, apt lists, ...)",
}


def dead_legend(layers: Iterable[Layer]) -> str | None:
    """What the tags of the "dead" column mean, for the tags the table shows: "(other)" is not
    self-explanatory. None when no layer has dead bytes."""
    tags = {
        tag
        for layer in layers
        if layer.dead_bytes > 0 and (tag := dominant_dead_category(layer.dead_categories))
    }
    if not tags:
        return None
    parts = [
        f"({tag}) {_DEAD_TAGS[tag]}" for tag in DEAD_CATEGORIES if tag in tags and tag in _DEAD_TAGS
    ]
    text = "dead: shipped by a layer, deleted or hidden by a later one; tagged by its largest part"
    return text + ("; " + "; ".join(parts) if parts else "")


def installer_cell(package: Package) -> str:
    """Who installed a distribution: INSTALLER's word (`pip`, `uv`, ...), `dpkg` for a Debian
    package's distribution (no INSTALLER file; dpkg's file lists own it), else "-"."""
    if package.installer:
        return package.installer
    return "dpkg" if package.ownership == "dpkg" else "-"


def _name_key(package: Package) -> tuple[str, str]:
    return (package.name.casefold(), package.site_packages)


def sort_packages(packages: Iterable[Package], key: SortKey = SortKey.BYTES) -> list[Package]:
    """Distributions ordered by `key`: `name` ascending (case-insensitive); every other key
    descending, ties broken by bytes descending, then name. Deterministic for equal keys."""
    items = list(packages)
    match key:
        case SortKey.NAME:
            return sorted(items, key=lambda p: (*_name_key(p), -p.bytes))
        case SortKey.BYTES:
            return sorted(items, key=lambda p: (-p.bytes, *_name_key(p)))
        case SortKey.FILES:
            return sorted(items, key=lambda p: (-p.files, -p.bytes, *_name_key(p)))
        case SortKey.BYTECODE | SortKey.SOURCE | SortKey.NATIVE | SortKey.METADATA | SortKey.DATA:
            category = key.value
            return sorted(
                items,
                key=lambda p: (-int(getattr(p.categories, category)), -p.bytes, *_name_key(p)),
            )
        case _:
            assert_never(key)


def top_packages(
    packages: Sequence[Package], top: int, key: SortKey = SortKey.BYTES
) -> tuple[list[Package], int, int]:
    """The first `top` distributions by `key` (all when `top <= 0`), plus how many were left
    out and their bytes, for a "… N more distributions, X" footer."""
    ordered = sort_packages(packages, key)
    if top <= 0 or len(ordered) <= top:
        return ordered, 0, 0
    rest = ordered[top:]
    return ordered[:top], len(rest), sum(p.bytes for p in rest)


def more_packages_line(hidden: int, hidden_bytes: int) -> str:
    """Footer for a truncated distribution list: "… 12 more distributions, 4.1 MB"."""
    noun = "distribution" if hidden == 1 else "distributions"
    return f"{ELLIPSIS} {hidden} more {noun}, {format_bytes(hidden_bytes)}"


def or_dash(value: str | None) -> str:
    """A cell for an optional value: the value, or "-" when it is unknown or empty."""
    return value if value else "-"


def bytes_or_dash(value: int | None) -> str:
    """A cell for an optional size: `format_bytes(value)`, or "-" when unknown."""
    return "-" if value is None else format_bytes(value)


def make_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    right: Iterable[int] = (),
    tablefmt: str = "simple",
) -> str:
    """A `tabulate` table of pre-formatted cells in a fixed column order.

    Columns whose indexes are in `right` (sizes, counts) are right-aligned, the rest left.
    Number parsing is off, so cells such as a version "2.0" are printed exactly as given.
    Use `tablefmt="pipe"` for GitHub-flavoured markdown (it keeps the alignment colons).
    """
    right_set = set(right)
    colalign = tuple("right" if i in right_set else "left" for i in range(len(headers)))
    return tabulate(
        [list(r) for r in rows],
        headers=list(headers),
        tablefmt=tablefmt,
        colalign=colalign,
        disable_numparse=True,
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&])")
_BACKTICKS = re.compile(r"`+")


def md_escape(text: str) -> str:
    """`text` as literal CommonMark/GitHub markdown: backslash-escapes the characters that
    could start emphasis, code, links, HTML, headings or a table cell (`|`)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(text: str) -> str:
    """`text` as an inline code span that is also safe inside a GitHub table cell.

    The fence is one backtick longer than the longest backtick run inside, and `|` is written
    `\\|` (GitHub tables split cells on `|` even inside code spans). "" stays "".
    """
    if not text:
        return ""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


READ_VIA = {
    "export": "its image export",
    "layer-storage": "its layer storage in place",
    "content-store": "its containerd content store in place",
}


def source_label(source: str, read_via: str | None) -> str:
    """`docker`, or `docker (read from its layer storage in place)`: how an engine image
    was read, where the source says."""
    return f"{source} (read from {READ_VIA[read_via]})" if read_via in READ_VIA else source


# --- fitting tables to the terminal --------------------------------------------------------------

Shrink = Literal["cut", "path", "wrap"]
"""How a column's cells may be narrowed: `cut` the end (…), elide a `path` in the middle, or
`wrap` the text onto more lines."""

_GAP = 2  # the "simple" table format puts two spaces between columns
_HEADER_PAD = 2  # and makes a column at least as wide as its header plus two (MIN_PADDING)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table that can fit a terminal's width (see `fit_table`).

    `shrink` says how its cells may be narrowed, first to `soft` characters (before any column is
    dropped), then down to `hard` (when nothing droppable is left). `drop` ranks the column
    among those that may be left out, the least useful first (lower drops first); None keeps it.
    """

    header: str
    right: bool = False
    shrink: Shrink | None = None
    soft: int = 16
    hard: int = 8
    drop: int | None = None


def elide_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters, its middle replaced by an ellipsis: a path keeps
    where it starts and, longer, where it ends (`/opt/venv/li…/numpy/core/_multiarray.so`)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    tail = (width - 1) * 2 // 3
    head = width - 1 - tail
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def _narrowed(text: str, width: int, how: Shrink | None) -> str:
    lines = text.split("\n")
    if all(len(line) <= width for line in lines):
        return text
    match how:
        case "path":
            return "\n".join(elide_middle(line, width) for line in lines)
        case "wrap":
            return "\n".join(
                "\n".join(textwrap.wrap(line, width, break_on_hyphens=False) or [""])
                for line in lines
            )
        case "cut" | None:
            return "\n".join(truncate(line, width) for line in lines)
        case _:
            assert_never(how)


def _natural(header: str, cells: Iterable[str]) -> int:
    lines = (len(line) for cell in cells for line in cell.split("\n"))
    return max([len(header) + _HEADER_PAD, *lines])


def _squeeze(widths: dict[int, int], floors: dict[int, int], excess: int) -> int:
    """Narrow the widest columns (down to their floors) until `excess` characters are saved;
    returns what is still in excess."""
    while excess > 0:
        room = [i for i in widths if widths[i] > floors.get(i, widths[i])]
        if not room:
            break
        widest = max(room, key=lambda i: (widths[i], -i))
        widths[widest] -= 1
        excess -= 1
    return excess


def fit_table(
    columns: Sequence[Column], rows: Iterable[Sequence[str]], width: int | None = None
) -> str:
    """A table of pre-formatted cells (`make_table`), fitted to `width` characters.

    `width` None keeps every column at full width (pipes and files). Otherwise: narrow the
    shrinkable columns to their `soft` widths; if that is not enough, leave out droppable
    columns, least useful first; then narrow down to the `hard` widths; a line still too long
    (a terminal narrower than any sensible table) is cut. No line is ever wider than `width`.
    """
    table_rows = [list(row) for row in rows]
    if width is None:
        return make_table(
            [c.header for c in columns],
            table_rows,
            right=[i for i, c in enumerate(columns) if c.right],
        )
    natural = {i: _natural(c.header, (row[i] for row in table_rows)) for i, c in enumerate(columns)}
    kept = list(range(len(columns)))

    def fitted(floor: str) -> tuple[dict[int, int], int]:
        widths = {i: natural[i] for i in kept}
        floors = {
            i: min(natural[i], getattr(columns[i], floor))
            for i in kept
            if columns[i].shrink is not None
        }
        total = sum(widths.values()) + _GAP * (len(kept) - 1)
        return widths, _squeeze(widths, floors, total - width)

    widths, excess = fitted("soft")
    droppable = sorted(
        (i for i, c in enumerate(columns) if c.drop is not None),
        key=lambda i: (columns[i].drop, i),
    )
    while excess > 0 and droppable:
        kept.remove(droppable.pop(0))
        widths, excess = fitted("soft")
    if excess > 0:
        widths, excess = fitted("hard")
    shown = [columns[i] for i in kept]
    text = make_table(
        [truncate(columns[i].header, max(widths[i] - _HEADER_PAD, 1)) for i in kept],
        [[_narrowed(row[i], widths[i], columns[i].shrink) for i in kept] for row in table_rows],
        right=[n for n, c in enumerate(shown) if c.right],
    )
    return fit_lines(text, width)


def fit_lines(text: str, width: int | None) -> str:
    """Every line of `text` cut to `width` characters (None: unchanged): the last resort that
    keeps any output inside the terminal."""
    if width is None:
        return text
    return "\n".join(
        truncate(line, width) if len(line) > width else line for line in text.split("\n")
    )


def wrap_lines(text: str, width: int | None, indent: str = "") -> str:
    """A line of prose wrapped to `width`, continuation lines indented by `indent` (None: one
    line, as for pipes and files). A word longer than the width is broken."""
    if width is None or len(text) <= width:
        return text
    lead = text[: len(text) - len(text.lstrip(" "))]
    lines = textwrap.wrap(
        text.strip(),
        width,
        initial_indent=lead,
        subsequent_indent=lead + indent if len(lead + indent) < width // 2 else "",
        break_on_hyphens=False,
    )
    return "\n".join(lines) or text[:width]
