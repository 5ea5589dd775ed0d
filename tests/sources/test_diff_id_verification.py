"""Compressed layers are checked against their diff_id (every byte is decompressed anyway), which
catches damage the compression format cannot: zstd frames without a content checksum decode
damaged data without complaint. Plain tars are not hashed, so their contents can be skipped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fixtures import File, Image, Layer, write_oci_layout
from pyimgsize.api import inspect
from pyimgsize.cli.app import main
from pyimgsize.errors import CorruptLayer

IMAGE = Image(
    "verify/x:1",
    layers=[
        Layer([File("a/one", 3000)], created_by="one"),
        Layer([File("b/two", 5000)], created_by="two"),
    ],
)


def _config_path(layout: Path) -> Path:
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    return layout / "blobs" / "sha256" / manifest["config"]["digest"].split(":", 1)[1]


def _claim_other_content(layout: Path, layer: int) -> None:
    """Rewrite the config so that layer `layer`'s diff_id names other content."""
    path = _config_path(layout)
    config = json.loads(path.read_bytes())
    config["rootfs"]["diff_ids"][layer] = "sha256:" + hashlib.sha256(b"other").hexdigest()
    path.write_bytes(json.dumps(config).encode())


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_compressed_layer_not_matching_its_diff_id_is_corrupt(
    tmp_path: Path, compression: str, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "layout"
    write_oci_layout(layout, IMAGE, compression=compression)
    assert inspect(f"oci:{layout}").image.bytes == 8000  # intact: verified and read
    _claim_other_content(layout, 1)
    with pytest.raises(CorruptLayer, match=r"^layer 1 \(sha256:.*is not its diff_id"):
        inspect(f"oci:{layout}")
    assert main(["inspect", f"oci:{layout}"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: layer 1 (sha256:")
    assert len(captured.err.strip().splitlines()) == 1


def test_plain_layers_are_not_hashed(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    write_oci_layout(layout, IMAGE, compression="none")
    _claim_other_content(layout, 1)
    report = inspect(f"oci:{layout}")
    assert report.image.bytes == 8000
    assert report.layers[1].diff_id == "sha256:" + hashlib.sha256(b"other").hexdigest()
