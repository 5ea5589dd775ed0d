"""Fuzzing: generated images, then mutated bytes, through the real CLI (tests/fuzz/harness.py).

`make test` runs a bounded number of examples per target (PYIMGSIZE_FUZZ_EXAMPLES, default 60);
`make fuzz` runs for PYIMGSIZE_FUZZ_SECONDS and keeps failing examples in `.fuzz/`. Every
failure found becomes a regular test (tests/test_fuzz_found.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

from fixtures import Image, Layer
from pyimgsize.render import OutputFormat, render_inspect
from pyimgsize.report import DiffReport, InspectReport
from tests.fuzz.harness import (
    assert_clean,
    check_diff,
    check_inspect,
    fresh_dir,
    fuzz_target,
    inspect_json,
    ref_of,
    rewrite_member,
    run_cli,
    write,
)
from tests.fuzz.strategies import (
    HeaderMutation,
    JsonMutation,
    Mutation,
    Writer,
    apply_header_mutations,
    apply_json_mutations,
    header_mutations,
    image,
    json_mutations,
    mutations,
    writers,
)


def _mutate(data: bytes, muts: list[Mutation]) -> bytes:
    buf = bytearray(data)
    for m in muts:
        m.apply(buf)
    return bytes(buf)


@fuzz_target(img=image(), writer=writers)
def test_valid_images(img: Image, writer: Writer) -> None:
    """A valid image: exit 0, exact layer bytes from the spec, every invariant; every renderer
    copes with the names."""
    with fresh_dir() as name:
        tmp = Path(name)
        ref = ref_of(write(tmp, img, writer), writer)
        outcome, report = inspect_json(tmp, ref)
        assert outcome.code == 0, outcome.err
        assert report is not None
        check_inspect(report, img)
        for fmt in (OutputFormat.TABLE, OutputFormat.MARKDOWN):
            assert render_inspect(report, fmt)


@fuzz_target(
    img=image(),
    writer=writers,
    pick=st.integers(min_value=0, max_value=10),
    header=header_mutations,
    raw=mutations,
    how=st.sampled_from(["header", "header", "bytes"]),
)
def test_mutated_layer_tars(
    img: Image,
    writer: Writer,
    pick: int,
    header: list[HeaderMutation],
    raw: list[Mutation],
    how: str,
) -> None:
    """A layer tar with damaged headers or bytes, its diff_id made to match the damage (so that
    the tar reader, not the digest check, meets it): exit 0 or 3, one line, nothing written."""
    index = pick % len(img.layers)
    tar = img.layers[index].tar
    damaged = apply_header_mutations(tar, header) if how == "header" else _mutate(tar, raw)
    layers = list(img.layers)
    layers[index] = Layer(raw=damaged, created_by=layers[index].created_by)
    bad = Image(img.name, layers, env=img.env, history=img.history)
    with fresh_dir() as name:
        tmp = Path(name)
        _, report = inspect_json(tmp, ref_of(write(tmp, bad, writer), writer))
        if report is not None:
            check_invariants_only(report)


@fuzz_target(
    img=image(),
    writer=writers,
    pick=st.integers(min_value=0, max_value=40),
    json_muts=json_mutations,
    raw=mutations,
    header=header_mutations,
)
def test_mutated_archive_members(
    img: Image,
    writer: Writer,
    pick: int,
    json_muts: list[JsonMutation],
    raw: list[Mutation],
    header: list[HeaderMutation],
) -> None:
    """One file of the archive or layout changed: a JSON document (manifest.json, index.json,
    a manifest, a config) with a node replaced, a tar blob's header, or any bytes (gzip and zstd
    frames included): exit 0 or 3, one line, nothing written."""

    def change(_: str, data: bytes) -> bytes:
        head = data.lstrip()[:1]
        if head in (b"{", b"[") and pick % 3:
            return apply_json_mutations(data, json_muts)
        if len(data) >= 512 and data[257:262] == b"ustar" and pick % 2:
            return apply_header_mutations(data, header)
        return _mutate(data, raw)

    with fresh_dir() as name:
        tmp = Path(name)
        path = write(tmp, img, writer)
        rewrite_member(path, pick, change)
        _, report = inspect_json(tmp, ref_of(path, writer))
        if report is not None:
            check_invariants_only(report)


@fuzz_target(img=image(), writer=writers, raw=mutations)
def test_mutated_files(img: Image, writer: Writer, raw: list[Mutation]) -> None:
    """The written archive itself damaged (outer tar headers, outer gzip, truncation), or for a
    layout directory its index.json: exit 0 or 3, one line, nothing written."""
    with fresh_dir() as name:
        tmp = Path(name)
        path = write(tmp, img, writer)
        target = path / "index.json" if path.is_dir() else path
        target.write_bytes(_mutate(target.read_bytes(), raw))
        _, report = inspect_json(tmp, ref_of(path, writer))
        if report is not None:
            check_invariants_only(report)


@fuzz_target(a=image(), b=image(), writer=writers)
def test_valid_diffs(a: Image, b: Image, writer: Writer) -> None:
    """Two valid images: `diff` exits 0 and its deltas are B minus A and add up."""
    with fresh_dir() as name:
        tmp = Path(name)
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        ref_a = ref_of(write(tmp / "a", a, writer), writer)
        ref_b = ref_of(write(tmp / "b", b, writer), writer)
        out_a, report_a = inspect_json(tmp, ref_a)
        out_b, report_b = inspect_json(tmp, ref_b)
        assert report_a is not None, out_a.err
        assert report_b is not None, out_b.err
        outcome = run_cli(tmp, "diff", ref_a, ref_b, "--format", "json")
        assert_clean(outcome)
        assert outcome.code == 0
        check_diff(DiffReport.model_validate(json.loads(outcome.out)), report_a, report_b)


def check_invariants_only(report: InspectReport) -> None:
    """A damaged input that still reads is a valid image of some other content: the
    invariants hold (layer bytes cannot be predicted from the original spec)."""
    check_inspect(report)
