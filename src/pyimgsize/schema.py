"""The JSON Schemas of the wire contract (design.md §4), generated from the pydantic models.

`generate()` builds one schema per report (`inspect`, `diff`, `check`, `advise`) from
`model_json_schema(mode="serialization")`, i.e. the shape `--format json` writes. The
generated files are committed as package data in `pyimgsize/schema/<name>.schema.json`, so
consumers can validate reports without pyimgsize; `tests/test_schema.py` fails when the
committed files drift from the models.

    python -m pyimgsize.schema            # rewrite the committed files
    python -m pyimgsize.schema --check    # exit 1 (listing the files) when they are stale

Fields that have a default are optional in the schema (except `schema_version`, which every
report carries): a report written by an older pyimgsize with the same schema_version, which
may lack fields added since, still validates.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pyimgsize.report import SCHEMA_VERSION, AdviseReport, CheckReport, DiffReport, InspectReport

SCHEMA_DIR = Path(__file__).with_name("schema")
"""Where the committed schema files live (package data: `schema/*.json`)."""

DIALECT = "https://json-schema.org/draft/2020-12/schema"

MODELS: dict[str, type[BaseModel]] = {
    "inspect": InspectReport,
    "diff": DiffReport,
    "check": CheckReport,
    "advise": AdviseReport,
}
"""Report name (the command that writes it) -> wire model."""

_COMMANDS = {
    "inspect": "pyimgsize inspect IMAGE --format json",
    "diff": "pyimgsize diff A B --format json",
    "check": "pyimgsize check IMAGE --budget FILE --format json",
    "advise": "pyimgsize advise IMAGE --format json",
}


def schema_id(name: str) -> str:
    """The `$id` of a report's schema: a URN naming the report and the schema_version."""
    return f"urn:pyimgsize:schema:{name}:{SCHEMA_VERSION}"


def schema_path(name: str, directory: Path = SCHEMA_DIR) -> Path:
    """The committed file of a report's schema: `<directory>/<name>.schema.json`."""
    return directory / f"{name}.schema.json"


def generate() -> dict[str, dict[str, Any]]:
    """Schema documents by report name ("inspect", "diff", "check"), in a stable key order."""
    result: dict[str, dict[str, Any]] = {}
    for name, model in MODELS.items():
        body = model.model_json_schema(mode="serialization")
        body.pop("title", None)
        body.pop("description", None)
        # Every report carries its schema_version (a document without one is not a report).
        body["required"] = ["schema_version", *body.get("required", [])]
        if name == "check":
            _describe_rules(body)
        result[name] = {
            "$schema": DIALECT,
            "$id": schema_id(name),
            "title": f"pyimgsize {name} report (schema_version {SCHEMA_VERSION})",
            "description": f"The document `{_COMMANDS[name]}` writes (design.md §4).",
            "schema_version": SCHEMA_VERSION,
            **body,
        }
    return result


def _describe_rules(body: dict[str, Any]) -> None:
    """The check report's `rule` field names the rules of the rule table (and their units)."""
    from pyimgsize.check.table import PACKAGES_KEY, RULES

    rule = body["$defs"]["RuleResult"]["properties"]["rule"]
    listed = ", ".join(f"{r.name} ({r.unit})" for r in RULES)
    rule["description"] = (
        f"The budget key of the rule: {listed}; or {PACKAGES_KEY}.NAME (bytes), the cap on "
        "one distribution by normalised name."
    )
    rule["examples"] = [r.name for r in RULES]


def dumps(schema: dict[str, Any]) -> str:
    """A schema as committed: indented JSON, non-ASCII kept, ending in a newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale_files(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Committed schema files that are missing or differ from `generate()`."""
    stale: list[Path] = []
    for name, schema in generate().items():
        path = schema_path(name, directory)
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != dumps(schema):
            stale.append(path)
    return stale


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file into `directory`; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, schema in generate().items():
        path = schema_path(name, directory)
        path.write_text(dumps(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m pyimgsize.schema [--check] [--dir DIR]`; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m pyimgsize.schema",
        description="Write (or check) the committed JSON Schemas of pyimgsize's reports.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 when a committed schema differs from the models",
    )
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema directory")
    args = parser.parse_args(argv)
    directory: Path = args.dir
    if args.check:
        stale = stale_files(directory)
        for path in stale:
            print(
                f"error: {path} is out of date with pyimgsize.report; "
                "run `python -m pyimgsize.schema` and commit the result",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path in write(directory):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
