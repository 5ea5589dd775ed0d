"""JSON output: exactly one JSON document, the wire model itself (design.md §4).

`--top` and `--sort` never apply here: the contract lists everything, in the report's order
(bytes descending, then name). The schema lives in `pyimgsize/schema/*.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from pyimgsize.render.text import printable


def render_json(report: BaseModel) -> str:
    """Any report model (inspect, diff, check) as one indented JSON document.

    A name that is not UTF-8 (tar names are bytes) is written with `\\xNN` escapes for its
    odd bytes (`printable`): JSON text is UTF-8.
    """
    try:
        return report.model_dump_json(indent=2)
    except PydanticSerializationError:
        return json.dumps(_printable(report.model_dump(mode="json")), indent=2, ensure_ascii=False)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value
