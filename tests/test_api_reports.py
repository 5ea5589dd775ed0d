"""Saved reports and missing files, as a user meets them through the CLI: a path-like reference
that does not exist is a missing file (never an engine lookup); a saved report is recognised by
its content (any key order, `jq -S` included); JSON that is not an inspect report says what it is;
an unusable report names the field and the reason, never pydantic's own words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures import File, Image, Layer, dist, write_docker_archive
from pyimgsize.cli.app import main
from pyimgsize.report import DiffReport
from pyimgsize.sources import SourceKindOption, parse_ref

SITE = "usr/local/lib/python3.11/site-packages"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A saved `inspect --format json` report of a small Python image."""
    archive = tmp_path / "app.tar"
    entries = [File("bin/sh", 1_000), *dist(SITE, "six", "1.16.0", {"six.py": 30_000})]
    for n in range(12):  # enough packages that sorted keys put schema_version past 4 kB
        entries += dist(SITE, f"pkg{n:02d}", "1.0", {f"pkg{n:02d}/__init__.py": 1_000 + n})
    write_docker_archive(archive, Image("app:1", [Layer(entries, created_by="RUN pip")]))
    out = tmp_path / "app.json"
    code, _out, err = run(capsys, "inspect", str(archive), "-f", "json", "-o", str(out))
    assert (code, err) == (0, "")
    return out


# --- item 3: a missing path-like reference is a missing file -----------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "nosuch.json",
        "base.tar",
        "image.tar.gz",
        "image.TGZ",
        "out/app.tar.zst",
        "build/Layout",
        "a//b",
    ],
)
def test_path_like_references_are_paths(ref: str) -> None:
    assert parse_ref(ref) == (SourceKindOption.PATH, ref)


@pytest.mark.parametrize(
    "ref",
    [
        "python:3.11-slim",
        "acme/app",
        "acme/app:1.0",
        "ghcr.io/acme/app:1.0",
        "localhost:5000/a/b",
        "localhost/app",
        "registry.example:443/team/app@sha256:" + "a" * 64,
        "[::1]:5000/app:1",
        "0123456789ab",
    ],
)
def test_engine_references_stay_engine_references(ref: str) -> None:
    assert parse_ref(ref) == (SourceKindOption.DOCKER, ref)


def test_check_with_a_missing_baseline_file_says_missing_file(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", str(saved), "--baseline", "nosuch.json", "--max-image", "1GB"
    )
    assert (code, out) == (3, "")
    assert err == "error: nosuch.json: no such file or directory\n"
    assert "engine" not in err


def test_diff_with_a_missing_file_in_a_directory(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "diff", str(saved), "reports/Base.json")
    assert (code, out) == (3, "")
    assert err == "error: reports/Base.json: no such file or directory\n"


# --- item 4: saved reports are recognised by content ---------------------------------------------


def test_a_jq_sorted_report_is_read(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(saved.read_text())
    # what `jq -S .` writes: keys sorted at every level, two-space indent, "schema_version"
    # far past the first 4 kB; plus leading blank lines
    sorted_copy = tmp_path / "sorted.report"
    sorted_copy.write_text("\n\n  " + json.dumps(document, sort_keys=True, indent=2) + "\n")
    assert sorted_copy.read_text().index('"schema_version"') > 4096
    code, out, err = run(capsys, "diff", str(saved), str(sorted_copy), "-f", "json")
    assert (code, err) == (0, "")
    diff = DiffReport.model_validate_json(out)
    assert diff.a.source == diff.b.source == "report"
    assert diff.totals.layer_bytes.delta == 0
    assert all(p.status == "same" for p in diff.packages)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"name": "my-app", "version": "1.0"}', "it has no schema_version"),
        ('{"schema_version": "1", "passed": true, "rules": []}', "it is a `check` report"),
        ('{"schema_version": "1", "a": {}, "b": {}, "totals": {}}', "it is a `diff` report"),
    ],
)
def test_json_that_is_not_an_inspect_report_says_so(
    content: str, reason: str, saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.json"
    other.write_text(content)
    code, out, err = run(capsys, "diff", str(saved), str(other))
    assert (code, out) == (3, "")
    assert err.startswith(f"error: {other} is JSON but not a pyimgsize inspect report: {reason}")
    assert err.count("\n") == 1


def test_broken_json_names_line_and_column(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "schema_version": "1",\n  "image": \n')
    code, _out, err = run(capsys, "diff", str(saved), str(broken))
    assert code == 3
    assert err.startswith(f"error: {broken} is not valid JSON (line 4, column 1: ")


def test_inspect_of_a_json_file_says_it_is_not_an_image(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "inspect", str(saved))
    assert (code, out) == (3, "")
    assert err.startswith(f"error: {saved}: a JSON file, not an image (diff and check read")


# --- item 5: validation errors name the field and the reason --------------------------------------


def _edited(saved: Path, tmp_path: Path, edit: object) -> Path:
    document = json.loads(saved.read_text())
    edit(document)  # type: ignore[operator]
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(document))
    return out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d.update(schema_version="2"),
            'schema_version "2" is newer than this tool (it reads "1"): upgrade pyimgsize',
        ),
        (
            lambda d: d.update(schema_version="one"),
            'schema_version "one" is not one this tool reads ("1")',
        ),
        (
            lambda d: d["image"].update(bytes="12 MB"),
            'is not a usable inspect report: image.bytes should be a whole number, not "12 MB"',
        ),
        (
            lambda d: d["packages"][0].pop("name"),
            "is not a usable inspect report: packages[0].name is missing",
        ),
        (
            lambda d: d["image"].update(source="ftp"),
            "is not a usable inspect report: image.source should be "
            '"docker", "docker-archive", "oci", "registry" or "report", not "ftp"',
        ),
        (
            lambda d: (d["image"].update(bytes=None), d["layers"][0].update(bytes="x")),
            "image.bytes should be a whole number, not null (and 1 more problem)",
        ),
    ],
)
def test_an_unusable_report_names_field_and_reason(
    edit: object, message: str, saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _edited(saved, tmp_path, edit)
    code, out, err = run(capsys, "check", str(bad), "--max-image", "1GB")
    assert (code, out) == (3, "")
    assert message in err
    assert err.startswith(f"error: {bad}")
    assert err.count("\n") == 1
    for pydantic_words in ("validation error", "Input should", "Value error", "InspectReport"):
        assert pydantic_words not in err
