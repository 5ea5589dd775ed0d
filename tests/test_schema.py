"""The committed JSON Schemas: no drift from the models; real reports validate; broken ones don't.

Fix a drift failure by running `python -m pyimgsize.schema` and committing the result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from pyimgsize import schema
from pyimgsize.report import (
    SCHEMA_VERSION,
    AdviseReport,
    CheckReport,
    Contributor,
    DiffReport,
    DiffTotals,
    ImageRef,
    LayerDelta,
    PackageDelta,
    RuleResult,
)
from pyimgsize.report import CategoryDelta as CatDelta
from pyimgsize.report import Delta as D
from tests.render.sample import advised_report, no_python_report, python_report

DRIFT = "committed schema {name} is stale: run `python -m pyimgsize.schema` and commit the result"


def _validator(name: str) -> jsonschema.protocols.Validator:
    document = json.loads(schema.schema_path(name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def _ref(name: str, size: int) -> ImageRef:
    return ImageRef(
        ref=f"docker:{name}",
        source="docker",
        id="sha256:" + "ab" * 32,
        bytes=size,
        layer_bytes=size,
    )


def diff_report() -> DiffReport:
    return DiffReport(
        a=_ref("app:1.3", 300_000_000),
        b=_ref("app:1.4", 347_600_000),
        totals=DiffTotals(
            bytes=D(a=300_000_000, b=347_600_000, delta=47_600_000, percent=15.9),
            layer_bytes=D(a=310_000_000, b=395_000_000, delta=85_000_000, percent=27.4),
            python_bytes=D(a=100_000_000, b=150_800_000, delta=50_800_000, percent=50.8),
            bytecode_bytes=D(a=60_000_000, b=65_400_000, delta=5_400_000, percent=9.0),
            cache_bytes=D(a=0, b=9_852_325, delta=9_852_325),
            dead_bytes=D(a=1_204_331, b=47_415_102, delta=46_210_771, percent=3837.1),
        ),
        categories=[CatDelta(category="native", a=20_000_000, b=60_300_000, delta=40_300_000)],
        packages=[
            PackageDelta(
                name="numpy",
                site_packages="/opt/venv/lib/python3.12/site-packages",
                a=None,
                b=57_290_000,
                delta=57_290_000,
                status="added",
                categories={"native": 38_110_520},
                version_b="1.26.4",
            )
        ],
        layers=[
            LayerDelta(
                a_index=2,
                b_index=2,
                match="instruction",
                created_by_a="RUN pip install -r requirements.txt",
                created_by_b="RUN pip install -r requirements.txt",
                a_bytes=90_000_000,
                b_bytes=183_700_000,
                delta=93_700_000,
                categories={"native": 40_300_000},
            ),
            LayerDelta(
                a_index=None,
                b_index=6,
                match="only-b",
                created_by_a=None,
                created_by_b="COPY dist/app.whl /tmp/",
                a_bytes=0,
                b_bytes=48_213,
                delta=48_213,
                categories={},
            ),
        ],
        explanation=["numpy 1.26.4 was added (+57.3 MB)"],
    )


def check_report() -> CheckReport:
    return CheckReport(
        passed=False,
        image=_ref("app:1.4", 347_600_000),
        rules=[
            RuleResult(
                rule="max_cache",
                status="fail",
                actual=9_852_325,
                limit=0,
                message="cache-bytes=9852325 > limit=0",
                remedy="add --no-cache-dir, or remove /root/.cache/uv in the same layer",
                contributors=[Contributor(name="/root/.cache/uv", bytes=9_804_112)],
            ),
            RuleResult(
                rule="max_growth_percent",
                status="skip",
                actual=None,
                limit=5.0,
                message="needs --baseline",
            ),
        ],
    )


# --- drift -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(schema.MODELS))
def test_committed_schema_matches_models(name: str) -> None:
    path = schema.schema_path(name)
    assert path.is_file(), DRIFT.format(name=path)
    committed = path.read_text(encoding="utf-8")
    assert committed == schema.dumps(schema.generate()[name]), DRIFT.format(name=path)


def test_generated_schema_header() -> None:
    generated = schema.generate()
    assert set(generated) == {"inspect", "diff", "check", "advise"}
    for name, document in generated.items():
        assert document["$id"] == f"urn:pyimgsize:schema:{name}:{SCHEMA_VERSION}"
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["schema_version"] == SCHEMA_VERSION
        assert name in document["title"]
        assert document["properties"]["schema_version"]["const"] == SCHEMA_VERSION
        assert document["required"][0] == "schema_version"


def test_check_mode_detects_drift(tmp_path: Path) -> None:
    assert schema.stale_files(tmp_path) == [schema.schema_path(n, tmp_path) for n in schema.MODELS]
    written = schema.write(tmp_path)
    assert schema.stale_files(tmp_path) == []
    assert schema.main(["--check", "--dir", str(tmp_path)]) == 0
    written[0].write_text(written[0].read_text(encoding="utf-8").replace('"1"', '"2"'))
    assert schema.stale_files(tmp_path) == [written[0]]
    assert schema.main(["--check", "--dir", str(tmp_path)]) == 1


def test_module_entry_point_checks_committed_files() -> None:
    # Run the very pyimgsize under test, whatever else the environment has installed.
    src = str(Path(schema.__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
    result = subprocess.run(
        [sys.executable, "-m", "pyimgsize.schema", "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": pythonpath},
    )
    assert result.returncode == 0, result.stderr


# --- validation ------------------------------------------------------------------------------


def _examples() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("inspect", json.loads(python_report().model_dump_json())),
        ("inspect", json.loads(no_python_report().model_dump_json())),
        ("diff", json.loads(diff_report().model_dump_json())),
        ("check", json.loads(check_report().model_dump_json())),
        ("inspect", json.loads(advised_report().model_dump_json())),
        ("advise", json.loads(AdviseReport.from_inspect(advised_report()).model_dump_json())),
    ]


@pytest.mark.parametrize(
    ("name", "document"),
    _examples(),
    ids=["inspect", "no-python", "diff", "check", "inspect-suggestions", "advise"],
)
def test_example_reports_validate(name: str, document: dict[str, Any]) -> None:
    _validator(name).validate(document)


@pytest.mark.parametrize(
    ("name", "drop"),
    [
        ("inspect", ("image",)),
        ("inspect", ("totals", "dead_bytes")),
        ("inspect", ("layers", 0, "diff_id")),
        ("inspect", ("packages", 0, "categories")),
        ("inspect", ("schema_version",)),
        ("diff", ("totals", "python_bytes")),
        ("diff", ("layers", 0, "match")),
        ("check", ("passed",)),
        ("check", ("rules", 0, "status")),
        ("advise", ("suggestions", 0, "saves_bytes")),
        ("advise", ("suggestions", 0, "fix", "kind")),
    ],
)
def test_missing_required_field_does_not_validate(name: str, drop: tuple[str | int, ...]) -> None:
    document = next(doc for n, doc in _examples() if n == name)
    parent: Any = document
    for key in drop[:-1]:
        parent = parent[key]
    del parent[drop[-1]]
    errors = list(_validator(name).iter_errors(document))
    assert errors, f"a {name} report without {'.'.join(map(str, drop))} must not validate"
    assert any(repr(drop[-1]) in e.message and "required" in e.message for e in errors)


def test_wrong_types_do_not_validate() -> None:
    document = json.loads(python_report().model_dump_json())
    document["image"]["bytes"] = "347.6 MB"
    document["caches"][0]["kind"] = "conda"
    document["schema_version"] = "2"
    messages = sorted(e.message for e in _validator("inspect").iter_errors(document))
    assert len(messages) == 3, messages


def test_optional_fields_may_be_absent() -> None:
    """A v1 report from an older pyimgsize, before optional fields were added, still validates."""
    document = json.loads(python_report().model_dump_json())
    for key in ("bytecode", "python_found"):
        del document[key]
    del document["image"]["files"]
    del document["layers"][0]["tar_bytes"]
    _validator("inspect").validate(document)
