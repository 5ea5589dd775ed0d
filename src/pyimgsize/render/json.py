"""JSON output: exactly one JSON document, the wire model itself (design.md §4).

`--top` and `--sort` never apply here: the contract lists everything, in the report's order
(bytes descending, then name). The schema lives in `pyimgsize/schema/*.schema.json`.
"""

from __future__ import annotations

from pydantic import BaseModel


def render_json(report: BaseModel) -> str:
    """Any report model (inspect, diff, check) as one indented JSON document."""
    return report.model_dump_json(indent=2)
