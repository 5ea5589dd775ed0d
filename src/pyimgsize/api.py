"""The library entry points: what the CLI (and other Python code) calls.

`inspect()` resolves an image reference (design.md §6) to a source, reads every layer in one
streaming pass, merges the layers and attributes the bytes; it returns the wire model. `diff()`
and `check()` read two images (or saved reports) at the same time and return their verdicts as
data; words are made by `pyimgsize.render`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pyimgsize.errors import ReportError
from pyimgsize.report import AdviseReport, CheckReport, DiffReport, InspectReport

if TYPE_CHECKING:
    from pyimgsize.check import Budget
    from pyimgsize.sources import LoadedImage
    from pyimgsize.tree import FileTree

ProgressCallback = Callable[[str, int], None]
"""Called with (what, bytes_read_so_far) while layers stream; for a progress indicator."""


def inspect(
    ref: str,
    *,
    image: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: ProgressCallback | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> InspectReport:
    """Inspect the image at `ref` (docker:REF, docker-archive:PATH, oci:PATH, registry:REF, a
    path, or a name).

    `image` picks one image from an archive or layout that holds several; `platform`
    (os/arch[/variant]) picks from a multi-platform index (default: this machine's); `pull`
    lets the engine source pull an image it does not have; `insecure_registries` names
    registry hosts that may be read over plain HTTP or with an unverified certificate;
    `cache=False` neither reads nor writes the per-layer result cache.
    """
    from pyimgsize.analyzers import analyze

    return analyze(_load(ref, image, platform, pull, progress, insecure_registries, cache))


def _load(
    ref: str,
    image: str | None,
    platform: str | None,
    pull: bool,
    progress: ProgressCallback | None,
    insecure_registries: Sequence[str],
    cache: bool = True,
) -> LoadedImage:
    """The image at `ref`, read by its source with the analyzers' content selector; `cache`
    uses (and fills) the per-layer result cache (`pyimgsize.layers.cache`)."""
    from pyimgsize.analyzers import CONTENT_WANTED
    from pyimgsize.layers.cache import LayerCache
    from pyimgsize.sources import open_source

    source = open_source(
        ref,
        image=image,
        platform=platform,
        pull=pull,
        insecure_registries=tuple(insecure_registries),
        cache=LayerCache() if cache else None,
    )
    return source.load(wants=CONTENT_WANTED, progress=progress)


def inspect_with_tree(
    ref: str,
    *,
    image: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: ProgressCallback | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> tuple[InspectReport, FileTree]:
    """`inspect()` plus the file-level tree of the image (`pyimgsize.tree.FileTree`: every
    visible and dead inode once, with its category, layer and owner), for the HTML report.
    One read and one analysis: the tree comes from the same context as the report."""
    from pyimgsize.analyzers import build_report, run_pipeline
    from pyimgsize.analyzers.file_tree import file_tree

    ctx = run_pipeline(_load(ref, image, platform, pull, progress, insecure_registries, cache))
    return build_report(ctx), file_tree(ctx)


def advise(
    ref: str,
    *,
    image: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: ProgressCallback | None = None,
    insecure_registries: Sequence[str] = (),
) -> AdviseReport:
    """What to change in the Dockerfile of the image at `ref`, each fix with its measured
    saving (design.md §8). Reads the image exactly as `inspect()` does (same references and
    options, no file contents beyond inspect's); the suggestions are data, worded by
    `pyimgsize.render.advice`."""
    report = inspect(
        ref,
        image=image,
        platform=platform,
        pull=pull,
        progress=progress,
        insecure_registries=insecure_registries,
    )
    return AdviseReport.from_inspect(report)


def load_report(path: Path) -> InspectReport:
    """Read a saved `inspect --format json` report (a diff/check baseline).

    Any key order and indentation (`jq -S` output included). A file that is not valid JSON,
    JSON that is not an inspect report, a newer schema_version and a field of the wrong type
    each raise ReportError naming the file, the field and the reason.
    """
    import json

    from pydantic import ValidationError

    from pyimgsize.render.validation import (
        describe_errors,
        describe_not_an_inspect_report,
        describe_schema_version,
    )

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read report {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path} is not a pyimgsize report: not UTF-8 text") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    not_a_report = describe_not_an_inspect_report(document)
    if not_a_report is not None:
        raise ReportError(f"{path} is JSON but not a pyimgsize inspect report: {not_a_report}")
    version_problem = describe_schema_version(document["schema_version"])
    if version_problem is not None:
        raise ReportError(f"{path}: {version_problem}")
    try:
        return InspectReport.model_validate(document)
    except ValidationError as exc:
        raise ReportError(
            f"{path} is not a usable inspect report: {describe_errors(exc.errors())}"
        ) from exc


def is_report_file(ref: str) -> bool:
    """A reference that names an existing JSON file (rather than an image): its first
    non-space byte is `{`. Whether it is a usable report is `load_report`'s to say."""
    p = Path(ref)
    if not p.is_file():
        return False
    try:
        with p.open("rb") as fh:
            while chunk := fh.read(4096):
                head = chunk.lstrip()
                if head:
                    return head.startswith(b"{")
    except OSError:
        return False  # the image reader reports the unreadable file
    return False


def inspect_or_load(
    ref: str,
    *,
    image: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: ProgressCallback | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> InspectReport:
    """A saved JSON report when `ref` names one (its image marked as source "report"), else
    `inspect(ref)` (for diff and check)."""
    if is_report_file(ref):
        report = load_report(Path(ref))
        report.image = report.image.model_copy(update={"source": "report"})
        return report
    return inspect(
        ref,
        image=image,
        platform=platform,
        pull=pull,
        progress=progress,
        insecure_registries=insecure_registries,
        cache=cache,
    )


SideProgress = Callable[[str, str, int], None]
"""Called with (side, what, bytes_read_so_far) while two images are read at once."""


def read_pair(
    first: tuple[str, str | None, str],
    second: tuple[str, str | None, str] | None,
    *,
    platform: str | None = None,
    pull: bool = False,
    progress: SideProgress | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> tuple[InspectReport, InspectReport | None]:
    """Read one or two images (or saved reports) at the same time, each given as
    `(ref, image_choice, side_label)`; returns them in order (None for a missing second).

    The first one's error wins when both fail, so the message does not depend on timing.
    """
    from concurrent.futures import ThreadPoolExecutor

    def read(ref: str, choice: str | None, side: str) -> InspectReport:
        def tick(what: str, done: int) -> None:
            if progress is not None:
                progress(side, what, done)

        return inspect_or_load(
            ref,
            image=choice,
            platform=platform,
            pull=pull,
            progress=tick,
            insecure_registries=insecure_registries,
            cache=cache,
        )

    if second is None:
        return read(*first), None
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pyimgsize-read") as pool:
        futures = [pool.submit(read, *spec) for spec in (first, second)]
        a, b = (future.result() for future in futures)
    return a, b


def diff(
    ref_a: str,
    ref_b: str,
    *,
    image_a: str | None = None,
    image_b: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: SideProgress | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> DiffReport:
    """Compare A (the baseline) with B (the candidate): each an image reference or a saved
    `inspect --format json` report, read at the same time (`read_pair`; progress sides are
    "A" and "B"). `image_a`/`image_b` pick one image from an archive or layout that holds
    several. The verdict is data (`DiffReport.causes`); `pyimgsize.render.diff` words it.
    """
    report, _a, _b = diff_sides(
        ref_a,
        ref_b,
        image_a=image_a,
        image_b=image_b,
        platform=platform,
        pull=pull,
        progress=progress,
        insecure_registries=insecure_registries,
        cache=cache,
    )
    return report


def diff_sides(
    ref_a: str,
    ref_b: str,
    *,
    image_a: str | None = None,
    image_b: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: SideProgress | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> tuple[DiffReport, InspectReport, InspectReport]:
    """`diff()`, plus the inspect reports of A and B it compared (the HTML diff draws each
    distribution's categories from them)."""
    from pyimgsize.diff import diff_reports

    a, b = read_pair(
        (ref_a, image_a, "A"),
        (ref_b, image_b, "B"),
        platform=platform,
        pull=pull,
        progress=progress,
        insecure_registries=insecure_registries,
        cache=cache,
    )
    assert b is not None
    return diff_reports(a, b), a, b


def check(
    ref: str,
    budget: Budget,
    *,
    baseline: str | None = None,
    image: str | None = None,
    platform: str | None = None,
    pull: bool = False,
    progress: SideProgress | None = None,
    insecure_registries: Sequence[str] = (),
    cache: bool = True,
) -> CheckReport:
    """Gate the image (or saved report) at `ref` on `budget` (see `pyimgsize.check.load_budget`),
    measuring growth against `baseline` when given; both are read at the same time.

    The verdict is data; `pyimgsize.render.check` words it.
    """
    from pyimgsize.check import evaluate

    report, base = read_pair(
        (ref, image, "image"),
        (baseline, image, "baseline") if baseline is not None else None,
        platform=platform,
        pull=pull,
        progress=progress,
        insecure_registries=insecure_registries,
        cache=cache,
    )
    return evaluate(report, budget, base)
