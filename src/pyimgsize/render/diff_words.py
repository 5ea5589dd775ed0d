"""The diff's verdict in words: `explanation(report)` words `report.causes` (largest first),
moved distributions and how the layers aligned.

The first line is the headline: the visible (and, when it differs, shipped) delta, led by the
dominant cause. Every renderer (table, markdown, and JSON's `explanation` field) uses these
lines, so the same diff reads the same everywhere. Layers are named with
`render.common.layer_label`, as in inspect and check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import assert_never

from pyimgsize.render.common import layer_label
from pyimgsize.report import (
    CauseCategory,
    CauseLayer,
    CausePackage,
    CausePath,
    Delta,
    DiffCause,
    DiffReport,
)
from pyimgsize.units import format_bytes

__all__ = ["cause_text", "explanation"]

_DEAD_MEANING = "written by a layer, deleted or overwritten by a later one: shipped, never visible"


def _signed(n: int) -> str:
    return format_bytes(n, signed=True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _largest(items: Iterable[tuple[str, int]], limit: int = 3) -> list[tuple[str, int]]:
    """The `limit` non-zero items of largest absolute size (ties by label)."""
    return sorted((i for i in items if i[1] != 0), key=lambda i: (-abs(i[1]), i[0]))[:limit]


def _listing(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{label} {_signed(n)}" for label, n in items)


def _versioned_label(p: CausePackage) -> str:
    """ "pandas 2.2.0" (the side that has it)."""
    version = p.version_b if p.version_b is not None else p.version_a
    return f"{p.name} {version}" if version else p.name


def _layer_text(layer: CauseLayer) -> str:
    """ "B layer 3: RUN pip install -r requirements.txt"."""
    return f"{layer.side.upper()} {layer_label(layer.index, layer.created_by, layer.comment)}"


def _largest_layer(layer: CauseLayer | None) -> str:
    return f", largest {_layer_text(layer)} {_signed(layer.bytes)}" if layer else ""


def _mostly(category: CauseCategory | None) -> str:
    """ ", all metadata" / ", mostly data +3.0 MB"; "" when no category changed."""
    if category is None:
        return ""
    if category.only:
        return f", all {category.category}"
    return f", mostly {category.category} {_signed(category.bytes)}"


def _bytecode_hint(cause: DiffCause) -> str:
    growing = cause.bytes > 0
    match cause.hint:
        case "uv-compile-bytecode":
            return " (UV_COMPILE_BYTECODE?)" if growing else " (UV_COMPILE_BYTECODE off?)"
        case "no-compile":
            return (
                " (A installed with --no-compile?)"
                if growing
                else " (--no-compile, or .pyc deleted?)"
            )
        case _:
            return ""


def _path_label(path: CausePath) -> str:
    what = f"wheel {path.path}" if path.kind == "wheel" else f"{path.kind} cache {path.path}"
    return what if path.change == "changed" else f"{what} {path.change}"


def cause_text(cause: DiffCause) -> str:
    """One cause as a phrase (lower case first letter: it may follow the headline)."""
    total = _signed(cause.bytes)
    packages = cause.packages
    match cause.kind:
        case "added":
            top = _largest((_versioned_label(p), p.bytes) for p in packages)
            text = f"{_plural(len(packages), 'new distribution')} {total}"
            return text + (f" ({_listing(top)})" if top else "")
        case "removed":
            top = _largest((_versioned_label(p), p.bytes) for p in packages)
            text = f"{_plural(len(packages), 'distribution')} removed {total}"
            return text + (f" ({_listing(top)})" if top else "")
        case "bytecode":
            text = (
                f"bytecode {total} across {_plural(len(packages), 'distribution')}"
                f"{_bytecode_hint(cause) if cause.bytes else ''}"
            )
            top = _largest(((p.name, p.bytes) for p in packages), limit=1)
            return text + (f", largest {_listing(top)}" if top else "")
        case "versions":
            labels = [(f"{p.name} {p.version_a} -> {p.version_b}", p.bytes) for p in packages]
            top = _largest(labels) or sorted(labels)[:1]
            return (
                f"{_plural(len(packages), 'distribution')} changed version {total}"
                + (" besides bytecode" if cause.besides_bytecode else "")
                + _mostly(cause.category)
                + f" ({_listing(top)})"
            )
        case "rebuilt":
            top = _largest((p.name, p.bytes) for p in packages)
            return (
                f"{_plural(len(packages), 'distribution')} changed without a version change "
                f"{total}{_mostly(cause.category)} ({_listing(top)})"
            )
        case "unowned":
            return f"site-packages files no distribution owns {total}"
        case "caches":
            text = f"caches and stray wheels {total}"
            if cause.cache_bytes is not None and cause.cache_bytes != cause.bytes:
                text += (
                    f" (of {_signed(cause.cache_bytes)} cache bytes; the rest are hardlinks "
                    "that other files keep)"
                )
            top = _largest((_path_label(p), p.bytes) for p in cause.paths)
            return text + (f": {_listing(top)}" if top else "")
        case "outside":
            if cause.hint == "no-layer-shared":
                where = " (no layer is shared: a different base image?)"
            elif cause.hint == "first-layer-differs":
                where = " (the first layer differs: a different base image?)"
            else:
                where = _largest_layer(cause.layer)
            return f"outside Python {total}{where}"
        case "dead":
            text = f"dead bytes {total} ({_DEAD_MEANING}){_largest_layer(cause.layer)}"
            if cause.category is not None:
                text += f", mostly {cause.category.category} {_signed(cause.category.bytes)}"
            return text
        case _:
            assert_never(cause.kind)


def _percent_text(d: Delta) -> str:
    return "" if d.a == 0 else f" ({d.delta / d.a * 100:+.1f}%)"


def _headline(report: DiffReport) -> str:
    visible, shipped = report.totals.bytes, report.totals.layer_bytes
    same_id = bool(report.a.id) and report.a.id == report.b.id
    if same_id:
        head = "A and B are the same image (same image ID)"
    elif visible.delta == 0:
        head = f"B has the same visible size as A ({format_bytes(visible.b)})"
    else:
        head = f"B is {_signed(visible.delta)}{_percent_text(visible)}"
    if shipped.delta != visible.delta:
        head += f", {_signed(shipped.delta)} shipped{_percent_text(shipped)}"
    if report.causes:
        head += f": {cause_text(report.causes[0])}"
    elif not same_id:
        changed = any(p.status != "same" for p in report.packages)
        head += ": no total or category differs" + ("" if changed else ", nor any distribution")
    return head


_MATCH_WORDS = (
    ("shared", "shared"),
    ("instruction", "paired by instruction"),
    ("position", "paired by position"),
    ("only-a", "only in A"),
    ("only-b", "only in B"),
)


def explanation(report: DiffReport) -> list[str]:
    """The explanation in words: a headline led by the dominant cause, then the other causes
    (largest first), moved distributions, and how the layers aligned."""
    lines = [_headline(report)]
    for cause in report.causes[1:]:
        text = cause_text(cause)
        lines.append(text[0].upper() + text[1:])

    movers = [p for p in report.packages if p.moved_from is not None]
    if movers:
        where = "; ".join(
            f"{x} -> {y}" for x, y in sorted({(p.moved_from, p.site_packages) for p in movers})
        )
        lines.append(f"{_plural(len(movers), 'distribution')} moved: {where}")

    counts: dict[str, int] = defaultdict(int)
    for row in report.layers:
        counts[row.match] += 1
    parts = [f"{counts[m]} {words}" for m, words in _MATCH_WORDS if counts[m]]
    if parts:
        count_a = sum(1 for row in report.layers if row.a_index is not None)
        count_b = sum(1 for row in report.layers if row.b_index is not None)
        lines.append(f"Layers: A has {count_a}, B has {count_b}; {', '.join(parts)}")
    return lines
