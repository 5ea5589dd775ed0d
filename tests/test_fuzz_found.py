"""Failures the fuzzer found (tests/fuzz), each kept as a regular test.

1. A file name that is not UTF-8 (tar names are bytes) made `--format json` fail with exit 70
   and would have made any other format fail on a UTF-8 terminal: it is now shown with `\\xNN`
   escapes.
2. A manifest, index or image config whose parts have the wrong JSON type (a list where an
   object belongs, a number for a list, a descriptor without a digest) ended in exit 70
   (AttributeError, TypeError, KeyError, or a report that failed validation): it is now a
   one-line `error:` and exit 3, or, for optional parts, read as absent.
3. An index naming the same nested index many times at every level would take forever (an
   exponential walk): it is now refused past MAX_DESCRIPTORS.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures import File, Image, Layer, dist, write_docker_archive, write_oci_layout
from pyimgsize.report import InspectReport
from tests.fuzz.harness import Outcome, assert_clean, rewrite_member, run_cli
from tests.fuzz.strategies import SITE

ODD = "caf\udce9"  # b"caf\xe9": Latin-1, not UTF-8


def _odd_image() -> Image:
    files = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 10})
    odd = [File(f"opt/{ODD}/data", 100), File(f"{SITE}/pkg/{ODD}.py", 7)]
    return Image("odd/names:1", [Layer([*odd, *files], created_by=f"COPY {ODD} /opt")])


@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
def test_names_that_are_not_utf8(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "odd.tar"
    write_docker_archive(path, _odd_image())
    outcome = run_cli(tmp_path, "inspect", str(path), "--format", fmt)
    assert_clean(outcome)
    assert outcome.code == 0
    if fmt == "json":
        report = InspectReport.model_validate(json.loads(outcome.out))
        assert [p.name for p in report.packages] == ["pkg"]
        (site,) = report.site_packages
        assert site.unowned_bytes == 7  # the odd name is nobody's
        assert report.image.bytes == 100 + site.bytes
        assert report.layers[0].created_by == "COPY caf\\xe9 /opt"
    else:
        assert "caf\\xe9" in outcome.out


def test_lone_surrogates_in_an_image_config(tmp_path: Path) -> None:
    """JSON may escape a lone surrogate (`"\\ud800"`), which no UTF-8 output can hold."""
    outcome = _edit_docker(tmp_path, _set("history", 0, "created_by", value="RUN \ud800"), "config")
    assert_clean(outcome)
    assert outcome.code == 0
    report = InspectReport.model_validate(json.loads(outcome.out))
    assert report.layers[0].created_by == "RUN \\ud800"


# --- JSON documents with parts of the wrong type ------------------------------------------------


def _edit_docker(tmp: Path, change: Callable[[dict[str, Any]], None], member: str) -> Outcome:
    """A docker-archive whose `member` ('manifest' or 'config') was changed by `change`."""
    path = tmp / "image.tar"
    image = Image("x/y:1", [Layer([File("a", 5)])], history=[{"created_by": "RUN x"}])
    write_docker_archive(path, image)

    def edit(name: str, data: bytes) -> bytes:
        doc = json.loads(data)
        change(doc[0] if member == "manifest" else doc)
        return json.dumps(doc).encode()

    with tarfile.open(path) as tar:
        regular = [m.name for m in tar.getmembers() if m.isfile()]
    wanted = "manifest.json" if member == "manifest" else image.id.removeprefix("sha256:") + ".json"
    rewrite_member(path, regular.index(wanted), edit)
    return run_cli(tmp, "inspect", f"docker-archive:{path}", "--format", "json")


def _set(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("member", "change"),
    [
        ("manifest", _set("Layers", value=5)),
        ("manifest", _set("Layers", value=[["x"]])),
        ("manifest", _set("Config", value={"a": 1})),
        ("config", _set("rootfs", value=[])),
        ("config", _set("rootfs", "diff_ids", value=[7])),
    ],
    ids=["layers-number", "layers-nested", "config-object", "rootfs-list", "diff-id-number"],
)
def test_malformed_documents_are_format_errors(
    tmp_path: Path, member: str, change: Callable[[dict[str, Any]], None]
) -> None:
    outcome = _edit_docker(tmp_path, change, member)
    assert_clean(outcome)
    assert outcome.code == 3


@pytest.mark.parametrize(
    ("member", "change"),
    [
        ("manifest", _set("RepoTags", value=7)),
        ("config", _set("history", value={"a": 1})),
        ("config", _set("history", 0, "created_by", value=5)),
        ("config", _set("config", value=[])),
        ("config", _set("config", value={"Env": 3})),
    ],
    ids=["repotags-number", "history-object", "created-by-number", "config-list", "env-number"],
)
def test_malformed_optional_parts_are_absent(
    tmp_path: Path, member: str, change: Callable[[dict[str, Any]], None]
) -> None:
    outcome = _edit_docker(tmp_path, change, member)
    assert_clean(outcome)
    assert outcome.code == 0
    report = InspectReport.model_validate(json.loads(outcome.out))
    assert report.image.bytes == 5


def _layout(tmp: Path) -> Path:
    path = tmp / "layout"
    write_oci_layout(path, Image("x/y:1", [Layer([File("a", 5)])]))
    return path


@pytest.mark.parametrize(
    "change",
    [
        lambda index: index["manifests"][0].update(annotations=[]),
        lambda index: index["manifests"][0].update(mediaType=[]),
        lambda index: index["manifests"][0].update(digest=5),
    ],
    ids=["annotations-list", "media-type-list", "digest-number"],
)
def test_malformed_index_descriptors(tmp_path: Path, change: Callable[[Any], None]) -> None:
    layout = _layout(tmp_path)
    index = json.loads((layout / "index.json").read_text())
    change(index)
    (layout / "index.json").write_text(json.dumps(index))
    outcome = run_cli(tmp_path, "inspect", f"oci:{layout}", "--format", "json")
    assert_clean(outcome)


@pytest.mark.parametrize(
    "change",
    [
        lambda manifest: manifest["layers"].__setitem__(0, []),
        lambda manifest: manifest["config"].pop("digest"),
        lambda manifest: manifest.update(layers={"a": 1}),
    ],
    ids=["layer-list", "config-without-digest", "layers-object"],
)
def test_malformed_image_manifests(tmp_path: Path, change: Callable[[Any], None]) -> None:
    layout = _layout(tmp_path)
    index = json.loads((layout / "index.json").read_text())
    blob = layout / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads(blob.read_text())
    change(manifest)
    blob.write_text(json.dumps(manifest))
    outcome = run_cli(tmp_path, "inspect", f"oci:{layout}", "--format", "json")
    assert_clean(outcome)
    assert outcome.code == 3


def test_index_naming_one_nested_index_many_times(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    nested = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [],
    }
    data = json.dumps(nested).encode()
    digest = hashlib.sha256(data).hexdigest()
    # the nested index names itself 100 times: 100**9 visits without a bound
    nested["manifests"] = [
        {"mediaType": nested["mediaType"], "digest": f"sha256:{digest}", "size": 1}
    ] * 100
    (layout / "blobs" / "sha256" / digest).write_text(json.dumps(nested))
    (layout / "index.json").write_text(json.dumps(nested))
    outcome = run_cli(tmp_path, "inspect", f"oci:{layout}")
    assert_clean(outcome)
    assert outcome.code == 3
    assert "nested too deep" in outcome.err or "more than" in outcome.err
