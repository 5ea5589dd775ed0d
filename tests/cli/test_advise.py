"""`pyimgsize advise` through the real entry point (`cli.main`): every format, the JSON
contract (validated against the committed schema), an image without Python, an image with
nothing to suggest (exit 0, said so), and bad input (one line, exit 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from conftest import Run  # the `run` fixture lives in tests/conftest.py
from fixtures import File, Image, Layer, Whiteout, dist, write_docker_archive
from pyimgsize import schema
from pyimgsize.render.advice import NOTHING

SITE = "usr/local/lib/python3.11/site-packages"
PYTHON = [File("usr/local/bin/python3.11", 15_000), File("usr/local/lib/python3.11/os.py", 900)]


def _archive(tmp_path: Path, layers: list[Layer]) -> str:
    path = tmp_path / "image.tar"
    write_docker_archive(path, Image(layers=layers))
    return f"docker-archive:{path}"


def pip_image(tmp_path: Path) -> str:
    six = dist(SITE, "six", "1.16.0", {"six.py": 34_000}, pyc_size=28_000)
    cache = [File("root/.cache/pip/http-v2/a/b/abc.body", 50_000)]
    return _archive(
        tmp_path,
        [
            Layer(PYTHON, created_by="ADD rootfs.tar /"),
            Layer([*cache, *six], created_by="/bin/sh -c pip install six"),
        ],
    )


def test_table_names_each_fix_and_the_total(tmp_path: Path, run: Run) -> None:
    code, out, err = run("advise", pip_image(tmp_path))
    assert (code, err) == (0, "")
    assert "2 suggestions save 78.0 kB together" in out
    assert "pip install --no-cache-dir" in out
    assert "pip install --no-compile" in out


def test_json_validates_and_adds_up(tmp_path: Path, run: Run) -> None:
    code, out, _err = run("advise", pip_image(tmp_path), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    jsonschema.Draft202012Validator(json.loads(schema.schema_path("advise").read_text())).validate(
        doc
    )
    got = {s["id"]: s["saves_bytes"] for s in doc["suggestions"]}
    assert got == {"pip-cache": 50_000, "bytecode": 28_000}
    assert doc["totals"] == {"saves_bytes": 78_000, "exact_bytes": 78_000, "heuristic_bytes": 0}
    # inspect carries the same suggestions (additive field)
    code, out, _err = run("inspect", pip_image(tmp_path), "--format", "json")
    assert json.loads(out)["suggestions"] == doc["suggestions"]


def test_markdown_and_output_file(tmp_path: Path, run: Run) -> None:
    target = tmp_path / "advice.md"
    code, out, _err = run("advise", pip_image(tmp_path), "-f", "markdown", "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text().startswith("### pyimgsize advise: ")


def test_image_without_python_gets_the_dead_bytes(tmp_path: Path, run: Run) -> None:
    ref = _archive(
        tmp_path,
        [
            Layer([File("srv/data.tar", 7_000)], created_by="/bin/sh -c fetch"),
            Layer([Whiteout("srv/data.tar")], created_by="/bin/sh -c rm /srv/data.tar"),
        ],
    )
    code, out, _err = run("advise", ref, "--format", "json")
    assert code == 0
    (only,) = json.loads(out)["suggestions"]
    assert (only["id"], only["saves_bytes"], only["fix"]["kind"]) == (
        "deleted-later",
        7_000,
        "delete-in-same-run",
    )
    assert only["fix"]["changed_by"] == [1]


def test_nothing_to_suggest_says_so_and_exits_0(tmp_path: Path, run: Run) -> None:
    code, out, err = run("advise", _archive(tmp_path, [Layer(PYTHON, created_by="ADD x /")]))
    assert (code, err) == (0, "")
    assert NOTHING in out


def test_a_missing_image_is_one_line_and_exit_3(tmp_path: Path, run: Run) -> None:
    code, out, err = run("advise", f"docker-archive:{tmp_path / 'missing.tar'}")
    assert code == 3
    assert out == ""
    assert err.startswith("error: ")
    assert err.count("\n") == 1


def test_html_page_has_the_suggestions_table(tmp_path: Path, run: Run) -> None:
    target = tmp_path / "advice.html"
    code, out, _err = run("advise", pip_image(tmp_path), "-f", "html", "-o", str(target))
    assert (code, out) == (0, "")
    page = target.read_text()
    assert 'id="t-suggestions"' in page
    assert "pip-cache" in page
    assert "pip install --no-cache-dir" in page


def test_no_cache_neither_reads_nor_fills_the_layer_cache(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyimgsize.layers.cache import LayerCache
    from pyimgsize.sources import store

    monkeypatch.setenv("PYIMGSIZE_CACHE_DIR", str(tmp_path / "cache"))
    reads: list[str] = []
    read_layer = store.read_layer

    def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(str(args[1]))
        return read_layer(*args, **kwargs)

    monkeypatch.setattr(store, "read_layer", counting)
    ref = pip_image(tmp_path)
    code, fresh, err = run("advise", ref, "--format", "json", "--no-cache")
    assert (code, err, len(reads)) == (0, "", 2)
    assert LayerCache().info().entries == 0  # nothing written
    code, filled, _err = run("advise", ref, "--format", "json")
    assert (code, len(reads), LayerCache().info().entries) == (0, 4, 2)
    code, cached, _err = run("advise", ref, "--format", "json")
    assert (code, len(reads)) == (0, 4)  # served from the cache
    code, again, _err = run("advise", ref, "--format", "json", "--no-cache")
    assert (code, len(reads)) == (0, 6)  # the full cache is not used
    assert json.loads(fresh) == json.loads(filled) == json.loads(cached) == json.loads(again)
