"""The HTML report of real images, opened in headless Chromium (one browser for the session).

`uv-bytecode` (UV_COMPILE_BYTECODE=1) is rendered through the CLI as a user runs it; the page
must load nothing, log no error, draw one box per distribution sized exactly as the JSON report
(itself checked against the in-container truth by test_e2e.py), and look like something: the
screenshot is kept in the artifacts directory (CI uploads it) and must not be blank. The diff
page of `uv` -> `uv-bytecode` colours every distribution that gained bytecode as grown.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ARTIFACTS_DIR
from tests.browser import Browser
from tests.e2e.harness import E2E

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

VARIANT = "uv-bytecode"


def _pyimgsize(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pyimgsize", *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_inspect_page_of_a_real_image(e2e: E2E, browser: Browser) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS_DIR / f"inspect-{VARIANT}.html"
    _pyimgsize("inspect", f"docker:{e2e.tags[VARIANT]}", "--format", "html", "-o", str(out))
    assert out.stat().st_size < 2_000_000
    report = e2e.report(VARIANT, "docker")
    page = browser.new_page()
    try:
        page.open(out.as_uri())
        assert page.errors() == []
        assert page.requests == [out.as_uri()]
        boxes = page.evaluate(
            "[...document.querySelectorAll('.box[data-kind=dist]')]"
            ".map(e => [e.dataset.name, +e.dataset.bytes])"
        )
        assert sorted(map(tuple, boxes)) == sorted(
            (p["name"], p["bytes"]) for p in report["packages"]
        )
        crumbs = page.evaluate(
            "[...document.querySelectorAll('#crumbs button')].map(b => +b.dataset.bytes)"
        )
        assert crumbs == [report["image"]["bytes"]]
        png = page.screenshot(ARTIFACTS_DIR / f"inspect-{VARIANT}.png")
        stats = browser.png_stats(png)
        assert stats["colours"] >= 8
        assert stats["non_white"] > 0.3
        # the biggest distribution, zoomed
        biggest = max(report["packages"], key=lambda p: p["bytes"])
        page.click(f".box[data-kind=dist][data-name={biggest['name']}] > .label")
        assert (
            page.evaluate(
                "[...document.querySelectorAll('#crumbs button')].map(b => +b.dataset.bytes)"
            )[-1]
            == biggest["bytes"]
        )
        page.screenshot(ARTIFACTS_DIR / f"inspect-{VARIANT}-{biggest['name']}.png")
        assert page.errors() == []
    finally:
        page.close()


def test_diff_page_of_real_images(e2e: E2E, browser: Browser) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS_DIR / f"diff-uv-{VARIANT}.html"
    _pyimgsize(
        "diff",
        f"docker:{e2e.tags['uv']}",
        f"docker:{e2e.tags[VARIANT]}",
        "--format",
        "html",
        "-o",
        str(out),
    )
    page = browser.new_page()
    try:
        page.open(out.as_uri())
        assert page.errors() == []
        assert page.requests == [out.as_uri()]
        colours = page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('.box[data-kind=dist]')]"
            ".map(e => [e.dataset.name, e.dataset.colour]))"
        )
        # uv-bytecode only adds bytecode: every distribution grew or (pip, setuptools and wheel
        # of the base image's Debian packages) stayed the same; none is new, gone or smaller
        assert set(colours.values()) <= {"grew", "same"}, colours
        assert colours["numpy"] == colours["pandas"] == "grew"
        page.screenshot(ARTIFACTS_DIR / f"diff-uv-{VARIANT}.png")
    finally:
        page.close()
