"""Words for the problems found while reading or analysing an image (`Problem.code` + `facts`).

The analysis records what it found as data (`findings.Finding`); every format words it here, and
the JSON renderer fills each problem's `message` with the same text. A problem from a report
written before codes existed keeps the message it was saved with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pyimgsize.report import InspectReport, Problem

Facts = Mapping[str, str | int | list[str] | None]


def _no_record(f: Facts) -> str:
    label = f"{f.get('name') or ''} {f.get('version') or ''}".strip()
    return f"{label}: no RECORD; only its metadata directory is attributed"


def _foreign(f: Facts) -> str:
    interpreters = f.get("interpreters") or []
    shown = ", ".join(interpreters) if isinstance(interpreters, list) else str(interpreters)
    return (
        f"{f['files']} .pyc file(s) ({f['bytes']} bytes) were compiled for an interpreter the "
        f"image does not have (image has: {shown})"
    )


_WORDS: dict[str, Callable[[Facts], str]] = {
    "name-outside-root": lambda f: (
        f"tar entry name {f['name']!r} points outside the root; read as {f['read_as']}"
    ),
    "more-outside-root": lambda f: (
        f"... and {f['count']} more entries pointing outside the root in this layer (absolute "
        "or climbing names or link targets, as `tar -P` writes)"
    ),
    "bare-whiteout": lambda f: "bare '.wh.' whiteout entry ignored",
    "hardlink-outside-root": lambda f: (
        f"hardlink target {f['link']!r} is outside the root; read as {f['read_as']}"
    ),
    "hardlink-missing": lambda f: (
        f"hardlink target {f['target']} does not exist; read as an empty file"
    ),
    "write-below-symlink": lambda f: (
        f"layer writes below {f['dir']}, a symlink to {f['target']!r} from layer "
        f"{f['symlink_layer']}; the Docker Engine keeps the literal path (the symlink becomes a "
        "directory), containerd would follow the link"
    ),
    "metadata-too-large": lambda f: f"metadata file larger than {f['limit']} bytes not read",
    "history-mismatch": lambda f: (
        f"image history has {f['entries']} non-empty entries for {f['layers']} layers; layers "
        "without a matching entry show no instruction"
    ),
    "no-record": _no_record,
    "record-unparsable": lambda f: f"RECORD cannot be parsed: {f['error']}",
    "record-unreadable": lambda f: "RECORD could not be read",
    "listed-outside-root": lambda f: (
        f"{f['name']}: {f['count']} path(s) in its {f['listing']} point outside the image root "
        f"(e.g. {f['example']!r}); read as paths inside the image"
    ),
    "listed-missing": lambda f: (
        f"{f['name']}: {f['count']} file(s) listed in its {f['listing']} are not in the image"
    ),
    "listed-twice": lambda f: (
        f"{f['count']} file(s) are listed by more than one distribution (counted in each), "
        f"e.g. {f['example']}"
    ),
    "foreign-bytecode": _foreign,
    "orphan-bytecode": lambda f: (
        f"{f['files']} __pycache__ .pyc file(s) ({f['bytes']} bytes) have no source and can "
        "never be imported"
    ),
    "missing-bytecode": lambda f: (
        f"{f['files']} .py file(s) in site-packages that otherwise ship bytecode have no .pyc "
        "(compiled at first import, in every container)"
    ),
    "no-python": lambda f: "no Python site-packages or distributions found in this image",
}


def problem_text(problem: Problem) -> str:
    """One problem in words: from its code and facts, else the message it was saved with."""
    words = _WORDS.get(problem.code or "")
    if words is None:
        return problem.message
    try:
        return words(problem.facts)
    except KeyError:  # a saved report whose facts lack a detail: keep what it said
        return problem.message


def worded(report: InspectReport) -> InspectReport:
    """`report` with every problem's `message` filled in (for the JSON output)."""
    if not report.problems:
        return report
    problems = [p.model_copy(update={"message": problem_text(p)}) for p in report.problems]
    return report.model_copy(update={"problems": problems})
