"""`pyimgsize diff` through the real entry point (`cli.main`): formats, saved reports as A or B,
--all, --output, --image-a/--image-b, concurrency, exit codes; and an engine integration test."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tests.diff_images as img
from fixtures import File, write_docker_archive
from pyimgsize import api
from pyimgsize.cli.app import main
from pyimgsize.report import DiffReport, InspectReport
from tests.diff_images import write_pair


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_is_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, ref_b = write_pair(tmp_path, "bytecode")
    code, out, err = run(capsys, "diff", ref_a, ref_b)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(f"A  {ref_a}  (docker-archive · id ")
    assert lines[1].startswith(f"B  {ref_b}  (oci · id ")
    assert lines[3] == (
        "B is +5.2 kB (+2.9%): bytecode +5.2 kB across 1 distribution (UV_COMPILE_BYTECODE?), "
        "largest pandas +5.2 kB"
    )
    assert "Distributions: 1 changed, 1 unchanged (hidden; --all lists them)" in lines
    assert out.endswith("\n")


def test_json_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, ref_b = write_pair(tmp_path, "cache")
    code, out, err = run(capsys, "diff", ref_a, ref_b, "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    diff = DiffReport.model_validate(data)
    assert (diff.a.ref, diff.b.ref) == (ref_a, ref_b)
    assert data["totals"]["cache_bytes"] == {
        "a": 0,
        "b": 15_000,
        "delta": 15_000,
        "percent": None,
    }
    assert data["totals"]["bytes"]["delta"] == 15_000
    assert [(p["name"], p["status"]) for p in data["packages"]] == [
        ("pandas", "same"),
        ("six", "same"),
    ]
    assert [(x["a_index"], x["b_index"], x["match"]) for x in data["layers"]] == [
        (0, 0, "shared"),
        (1, 1, "position"),
    ]


@pytest.mark.parametrize("name", ["layers", "upgrade", "identical"])
def test_json_validates_against_the_committed_schema(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import jsonschema  # type: ignore[import-untyped]

    from pyimgsize import schema

    document = json.loads(schema.schema_path("diff").read_text(encoding="utf-8"))
    ref_a, ref_b = write_pair(tmp_path, name)
    code, out, _err = run(capsys, "diff", ref_a, ref_b, "-f", "json")
    assert code == 0
    jsonschema.Draft202012Validator(document).validate(json.loads(out))


def test_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, ref_b = write_pair(tmp_path, "upgrade")
    code, out, _err = run(capsys, "diff", ref_a, ref_b, "-f", "markdown")
    assert code == 0
    assert out.startswith("### pyimgsize diff: +3.0 kB (+1.6%)\n")
    assert "<details><summary>Distributions: 1 changed, 1 unchanged" in out
    assert "| pandas | 2.1.0 -\\> 2.2.0 | changed  |" in out  # `>` escaped for markdown


def test_all_lists_unchanged_and_shared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, ref_b = write_pair(tmp_path, "bytecode")
    _code, short, _err = run(capsys, "diff", ref_a, ref_b)
    code, full, _err = run(capsys, "diff", ref_a, ref_b, "--all")
    assert code == 0
    assert not any(line.startswith("six ") for line in short.splitlines())
    assert any(line.startswith("six ") and " same " in line for line in full.splitlines())
    assert "1 shared layer, 150.0 kB, unchanged" in short
    assert "shared layer," not in full


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, ref_b = write_pair(tmp_path, "layers")
    target = tmp_path / "diff.json"
    code, out, err = run(capsys, "diff", ref_a, ref_b, "-f", "json", "--output", str(target))
    assert (code, out, err) == (0, "", "")
    diff = DiffReport.model_validate_json(target.read_text(encoding="utf-8"))
    assert diff.totals.dead_bytes.delta == 15_000
    assert diff.totals.layer_bytes.delta == 20_020


def test_saved_reports_on_either_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, ref_b = write_pair(tmp_path, "upgrade")
    saved_a = tmp_path / "baseline.json"
    saved_b = tmp_path / "candidate.json"
    assert run(capsys, "inspect", ref_a, "-f", "json", "-o", str(saved_a))[0] == 0
    assert run(capsys, "inspect", ref_b, "-f", "json", "-o", str(saved_b))[0] == 0

    _code, live, _err = run(capsys, "diff", ref_a, ref_b, "-f", "json")
    expected = DiffReport.model_validate_json(live)
    for a, b in ((saved_a, ref_b), (ref_a, saved_b), (saved_a, saved_b)):
        code, out, err = run(capsys, "diff", str(a), str(b), "-f", "json")
        assert (code, err) == (0, "")
        diff = DiffReport.model_validate_json(out)
        # The same numbers; a side read from a report says so, keeping the image's ref and id.
        assert diff.totals == expected.totals
        assert diff.packages == expected.packages
        assert diff.layers == expected.layers
        assert diff.a.source == ("report" if a == saved_a else "docker-archive")
        assert diff.b.source == ("report" if b == saved_b else "oci")
        assert (diff.a.ref, diff.a.id) == (expected.a.ref, expected.a.id)
        assert (diff.b.ref, diff.b.id) == (expected.b.ref, expected.b.id)


def test_image_a_and_b_pick_from_one_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = img.bytecode_pair()
    both = tmp_path / "both.tar"
    write_docker_archive(both, [a, b])
    code, out, err = run(
        capsys,
        "diff",
        str(both),
        str(both),
        "-f",
        "json",
        "--image-a",
        "app:uv",
        "--image-b",
        "app:uv-bytecode",
    )
    assert (code, err) == (0, "")
    assert DiffReport.model_validate_json(out).totals.bytecode_bytes.delta == 5_200
    # --image applies to both sides; --image-b overrides it for B.
    code, out, _err = run(
        capsys, "diff", str(both), str(both), "-f", "json", "--image", "app:uv-bytecode",
        "--image-b", "app:uv",
    )  # fmt: skip
    assert code == 0
    assert DiffReport.model_validate_json(out).totals.bytecode_bytes.delta == -5_200
    # Without a choice the archive is ambiguous: a usage error.
    code, out, err = run(capsys, "diff", str(both), str(both))
    assert (code, out) == (2, "")
    assert err.startswith("error: ")
    assert len(err.splitlines()) == 1


def test_both_sides_are_read_concurrently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ref_a, ref_b = write_pair(tmp_path, "bytecode")
    real: Callable[..., InspectReport] = api.inspect
    barrier = threading.Barrier(2, timeout=10)
    seen: list[str] = []

    def inspect_together(ref: str, **kwargs: Any) -> InspectReport:
        seen.append(ref)
        barrier.wait()  # both reads must be in flight at once, or this times out
        return real(ref, **kwargs)

    monkeypatch.setattr(api, "inspect", inspect_together)
    code, out, err = run(capsys, "diff", ref_a, ref_b, "-f", "json")
    assert (code, err) == (0, "")
    assert sorted(seen) == sorted([ref_a, ref_b])
    assert DiffReport.model_validate_json(out).totals.bytes.delta == 5_200


# --- errors (design.md §5) ---------------------------------------------------------------------


def test_unreadable_image_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, _ref_b = write_pair(tmp_path, "bytecode")
    code, out, err = run(capsys, "diff", ref_a, f"docker-archive:{tmp_path}/missing.tar")
    assert (code, out) == (3, "")
    assert err.startswith("error: ")
    assert "missing.tar" in err
    assert len(err.splitlines()) == 1


def test_truncated_archive_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, _ref_b = write_pair(tmp_path, "bytecode")
    path = Path(ref_a.removeprefix("docker-archive:"))
    broken = tmp_path / "broken.tar"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, out, err = run(capsys, "diff", f"docker-archive:{broken}", ref_a)
    assert (code, out) == (3, "")
    assert err.startswith("error: ")


def test_bad_report_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref_a, _ref_b = write_pair(tmp_path, "bytecode")
    bad = tmp_path / "baseline.json"
    bad.write_text('{"schema_version": "1", "image": 5}', encoding="utf-8")
    code, out, err = run(capsys, "diff", str(bad), ref_a)
    assert (code, out) == (3, "")
    assert err.startswith(f"error: {bad} is not a usable inspect report: image should be an")


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "only-one"],
        ["diff", "a", "b", "--format", "xml"],
        ["diff", "a", "b", "--no-such-flag"],
    ],
    ids=["missing-B", "bad-format", "unknown-flag"],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ")
    assert "internal error" not in err


# --- the engine ---------------------------------------------------------------------------------

ENGINE_DOCKERFILE = """\
FROM {base}
COPY site/ {site}/
"""
ENGINE_CACHE_STEP = (
    "RUN mkdir -p /root/.cache/pip && head -c 12345 /dev/zero > /root/.cache/pip/blob\n"
)


@pytest.mark.engine
def test_engine_images_and_a_saved_archive(
    engine: Any,
    busybox_base: str,
    docker_build: Callable[..., str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries = img.pandas(pyc=True) + img.six()
    context = {
        "site/" + e.path.removeprefix(img.SITE + "/"): e.content
        for e in entries
        if isinstance(e, File)
    }
    dockerfile = ENGINE_DOCKERFILE.format(base=busybox_base, site=img.SITE)
    id_a = docker_build(dockerfile, context, name="diff-a")
    id_b = docker_build(dockerfile + ENGINE_CACHE_STEP, context, name="diff-b")

    code, out, err = run(capsys, "diff", f"docker:{id_a}", f"docker:{id_b}", "-f", "json")
    assert (code, err) == (0, "")
    diff = DiffReport.model_validate_json(out)
    assert (diff.a.source, diff.b.source) == ("docker", "docker")
    assert diff.totals.cache_bytes.delta == 12_345
    assert diff.totals.bytes.delta == 12_345
    assert diff.totals.python_bytes.delta == 0
    assert diff.totals.python_bytes.a == img.size_of(entries)
    assert [(p.name, p.status) for p in diff.packages] == [("pandas", "same"), ("six", "same")]
    # Every layer of A is shared with B (B was built on top of the same steps); B's RUN step
    # is the only extra one.
    assert all(row.match == "shared" for row in diff.layers[:-1])
    last = diff.layers[-1]
    assert (last.a_index, last.match, last.b_bytes, last.delta) == (None, "only-b", 12_345, 12_345)
    assert last.created_by_b is not None
    assert "head -c 12345" in last.created_by_b
    assert diff.explanation[0].startswith("B is +12.3 kB (+")
    assert diff.explanation[0].endswith(
        "caches and stray wheels +12.3 kB: pip cache /root/.cache/pip added +12.3 kB"
    )
    assert [(c.kind, c.bytes) for c in diff.causes] == [("caches", 12_345)]
    assert [(p.path, p.change) for p in diff.causes[0].paths] == [("/root/.cache/pip", "added")]

    # Mixed sources: the engine for A, a `docker save` archive of B.
    saved = tmp_path / "b.tar"
    with saved.open("wb") as fh:
        for chunk in engine.images.get(id_b).save(named=False):
            fh.write(chunk)
    code, out, err = run(capsys, "diff", f"docker:{id_a}", str(saved), "-f", "json")
    assert (code, err) == (0, "")
    mixed = DiffReport.model_validate_json(out)
    assert (mixed.a.source, mixed.b.source) == ("docker", "docker-archive")
    assert mixed.totals == diff.totals
    assert mixed.packages == diff.packages
    assert [(r.a_index, r.b_index, r.match, r.delta) for r in mixed.layers] == [
        (r.a_index, r.b_index, r.match, r.delta) for r in diff.layers
    ]
