"""Words for a saved report that cannot be used: which field, and why.

pydantic's own wording ("1 validation error for InspectReport", "Input should be ...") is for
developers; a user gets the field's path as it appears in the JSON (`packages[3].bytes`) and the
reason in a few words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pyimgsize.report import SCHEMA_VERSION

_KINDS: dict[str, str] = {
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "string_type": "should be a string",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "list_type": "should be a list",
    "tuple_type": "should be a list",
    "dict_type": "should be an object",
    "model_type": "should be an object",
    "model_attributes_type": "should be an object",
    "none_required": "should be null",
}


def field_path(loc: Sequence[int | str]) -> str:
    """`("packages", 3, "bytes")` -> `packages[3].bytes`: the field as a JSON reader finds it."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "the document"


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_error(error: Mapping[str, Any]) -> str:
    """One validation error as `FIELD REASON` (e.g. `image.bytes should be a whole number, not
    "12 MB"`)."""
    loc = tuple(error.get("loc", ()))
    where = field_path(loc)
    kind = str(error.get("type", ""))
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"{where} is missing"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        return f"{where} should be {expected}, not {_shown(given)}"
    if kind in _KINDS:
        return f"{where} {_KINDS[kind]}, not {_shown(given)}"
    if kind == "value_error" and ctx.get("error") is not None:
        return f"{where}: {ctx['error']}"
    return f"{where} has an unusable value {_shown(given)}"


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first problem in words, and how many more there are."""
    if not errors:
        return "it does not match the report format"
    first = describe_error(errors[0])
    more = len(errors) - 1
    if more:
        first += f" (and {more} more problem{'s' if more > 1 else ''})"
    return first


def describe_schema_version(version: object) -> str | None:
    """Why a report's `schema_version` cannot be read, or None when it can."""
    if version == SCHEMA_VERSION:
        return None
    if isinstance(version, str) and version.isdigit() and int(version) > int(SCHEMA_VERSION):
        return (
            f'schema_version "{version}" is newer than this tool (it reads "{SCHEMA_VERSION}"): '
            "upgrade pyimgsize, or write the report with the pyimgsize that reads it"
        )
    return f'schema_version {_shown(version)} is not one this tool reads ("{SCHEMA_VERSION}")'


def describe_not_an_inspect_report(document: object) -> str | None:
    """Why a JSON document is not an inspect report, or None when it looks like one."""
    reads = "diff and check read `inspect --format json` reports"
    if not isinstance(document, dict):
        return f"it is not a JSON object ({reads})"
    if "passed" in document and "rules" in document:
        return f"it is a `check` report ({reads})"
    if "a" in document and "b" in document and "totals" in document:
        return f"it is a `diff` report ({reads})"
    if "schema_version" not in document:
        return f"it has no schema_version ({reads})"
    return None
