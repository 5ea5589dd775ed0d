"""`pyimgsize check` through the real entry point (`cli.main`) on generated images: budget
discovery, flag overrides, baselines from an image and from a saved report, every format, exit
codes (0 within budget, 1 over, 2 invalid budget or flags, 3 unreadable image); and an engine
integration test. Expected numbers come from the fixture entries, never from pyimgsize."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from conftest import config_digest
from fixtures import Entry, File, Image, Layer, dist, write_docker_archive, write_oci_layout
from pyimgsize.cli.app import main
from pyimgsize.report import CheckReport, RuleResult

SITE = "/usr/local/lib/python3.11/site-packages"
BASE_CREATED_BY = "/bin/sh -c #(nop) ADD file:" + "3" * 64 + " in / "
PIP_INSTALL = "/bin/sh -c pip install pandas six"
BASE_FILES = [File("/bin/busybox", size=100_000), File("/lib/libc.so.6", size=50_000)]
CACHE_FILES = [
    File("/root/.cache/pip/http-v2/a/b/c/0123456789abcdef", size=12_000),
    File("/root/.cache/pip/wheels/ab/cd/six-1.16.0-py2.py3-none-any.whl", size=3_000),
]


def pandas() -> list[Entry]:
    files = {"pandas/__init__.py": 3_000, "pandas/core.py": 7_000, "pandas/_lib.so": 20_000}
    return list(dist(SITE, "pandas", "2.2.0", files, installer="pip", pyc=True))


def six() -> list[Entry]:
    return list(dist(SITE, "six", "1.16.0", {"six.py": 1_000}, installer="pip", pyc=True))


def size_of(entries: Iterable[Entry], test: Callable[[str], bool] = lambda _p: True) -> int:
    return sum(e.size for e in entries if isinstance(e, File) and test(e.path))


DISTS = pandas() + six()
PYTHON_BYTES = size_of(DISTS)
BYTECODE_BYTES = size_of(DISTS, lambda p: p.endswith(".pyc"))
PANDAS_BYTES = size_of(pandas())
CACHE_BYTES = size_of(CACHE_FILES)  # 15,000
LEAN_BYTES = size_of(BASE_FILES) + PYTHON_BYTES
FAT_BYTES = LEAN_BYTES + CACHE_BYTES


def app_image(*, cache: bool) -> Image:
    install = DISTS + (CACHE_FILES if cache else [])
    return Image(
        name="app:fat" if cache else "app:lean",
        layers=[Layer(BASE_FILES, created_by=BASE_CREATED_BY), Layer(install, PIP_INSTALL)],
    )


def write_app(tmp_path: Path, *, cache: bool) -> str:
    """`docker save` archive of the app image (with pip's cache left in it, or without)."""
    path = tmp_path / ("fat.tar" if cache else "lean.tar")
    write_docker_archive(path, app_image(cache=cache))
    return f"docker-archive:{path}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rules(out: str) -> dict[str, RuleResult]:
    return {r.rule: r for r in CheckReport.model_validate_json(out).rules}


BUDGET = f"""\
[budget]
max_image = {FAT_BYTES}
max_python = "1MB"
max_bytecode = "6kB"
max_cache = 0
max_growth = "10kB"

[budget.packages]
Pandas = "30kB"
torch = "1GB"
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory (budget discovery looks there)."""
    cwd = tmp_path / "project"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


# --- verdicts and exit codes --------------------------------------------------------------------


def test_within_budget_exits_0(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = write_app(tmp_path, cache=False)
    (workdir / "pyimgsize.toml").write_text(
        f'[budget]\nmax_image = {LEAN_BYTES}\nmax_cache = 0\nmax_bytecode = "1MB"\n'
    )
    code, out, err = run(capsys, "check", lean)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "pyimgsize check passed: 3 rules pass"
    assert lines[1].startswith(f"image     {lean} (")
    assert [line.split()[:2] for line in lines[5:8]] == [
        ["max_image", "PASS"],
        ["max_bytecode", "PASS"],
        ["max_cache", "PASS"],
    ]


def test_over_budget_exits_1_with_exact_numbers(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fat = write_app(tmp_path, cache=True)
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    code, out, err = run(capsys, "check", fat, "--format", "json")
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert data["passed"] is False
    assert data["image"]["bytes"] == FAT_BYTES
    got = rules(out)
    assert [(r.rule, r.status, r.actual, r.limit) for r in got.values()] == [
        ("max_image", "pass", FAT_BYTES, FAT_BYTES),
        ("max_python", "pass", PYTHON_BYTES, 1_000_000),
        ("max_bytecode", "pass", BYTECODE_BYTES, 6_000),
        ("max_cache", "fail", CACHE_BYTES, 0),
        ("max_growth", "skip", None, 10_000),
        ("packages.pandas", "fail", PANDAS_BYTES, 30_000),
        ("packages.torch", "skip", None, 10**9),
    ]
    assert BYTECODE_BYTES == 5_800  # close to its limit: a counting error would flip the rule
    cache = got["max_cache"]
    assert cache.message == (
        "caches and stray wheels 15.0 kB > 0 B (max_cache = 0 allows none): "
        "/root/.cache/pip (pip) 15.0 kB"
    )
    assert cache.remedy is not None
    assert cache.remedy.startswith("install with `pip install --no-cache-dir`")
    assert cache.remedy.endswith("(saves 15.0 kB)")  # the advise suggestion's own words
    pandas_rule = got["packages.pandas"]
    assert [(c.name, c.bytes) for c in pandas_rule.contributors][:2] == [
        ("native", 20_000),
        ("source", 10_000),
    ]
    assert got["max_growth"].message == (
        "skipped: max_growth needs a baseline (--baseline IMAGE|REPORT.json)"
    )


def test_flags_override_the_budget_file(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fat = write_app(tmp_path, cache=True)
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    code, out, _err = run(
        capsys,
        "check",
        fat,
        "-f",
        "json",
        "--max-cache",
        "15kB",
        "--max-package",
        "pandas=1MB",
        "--max-package",
        "six=1kB",
        "--max-image",
        str(FAT_BYTES - 1),
    )
    got = rules(out)
    assert code == 1
    assert (got["max_cache"].status, got["max_cache"].limit) == ("pass", 15_000)
    assert (got["packages.pandas"].status, got["packages.pandas"].limit) == ("pass", 10**6)
    assert (got["packages.six"].status, got["packages.six"].actual) == ("fail", size_of(six()))
    assert (got["max_image"].status, got["max_image"].limit) == ("fail", FAT_BYTES - 1)
    assert got["max_python"].limit == 10**6  # untouched rules keep the file's limit


def test_flags_alone_are_a_budget(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = write_app(tmp_path, cache=False)
    code, out, err = run(capsys, "check", lean, "--max-image", "600MB", "-f", "json")
    assert (code, err) == (0, "")
    assert [(r.rule, r.status) for r in rules(out).values()] == [("max_image", "pass")]


# --- budget discovery ---------------------------------------------------------------------------


def test_discovery_order_through_the_cli(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = write_app(tmp_path, cache=False)

    def limit() -> int | float | None:
        code, out, err = run(capsys, "check", lean, "-f", "json", *extra)
        assert (code, err) == (0, "")
        return rules(out)["max_image"].limit

    extra: list[str] = []
    (workdir / "pyproject.toml").write_text(
        '[project]\nname = "app"\n[tool.pyimgsize.budget]\nmax_image = "3MB"\n'
    )
    assert limit() == 3_000_000
    (workdir / "pyimgsize.toml").write_text('[budget]\nmax_image = "2MB"\n')
    assert limit() == 2_000_000
    (tmp_path / "ci.toml").write_text('[budget]\nmax_image = "1MB"\n')
    extra = ["--budget", str(tmp_path / "ci.toml")]
    assert limit() == 1_000_000


def test_no_budget_exits_2(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = write_app(tmp_path, cache=False)
    (workdir / "pyproject.toml").write_text('[project]\nname = "app"\n')
    code, out, err = run(capsys, "check", lean)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: no budget found in {workdir}: pass --budget FILE")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "text", "typo", "wanted"),
    [
        (
            "pyproject.toml",
            '[project]\nname = "app"\n[tool.pyimgsize.budgt]\nmax_image = "1MB"\n',
            "tool.pyimgsize.budgt",
            "tool.pyimgsize.budget",
        ),
        ("pyimgsize.toml", '[budgt]\nmax_image = "1MB"\n', "budgt", "budget"),
    ],
)
def test_a_misspelt_budget_table_is_no_budget_and_names_the_near_miss(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, typo: str, wanted: str
) -> None:
    """Issue 13 item 7: "no budget found", the near miss named, no document cited."""
    (workdir / name).write_text(text)
    # The image does not exist: the budget is read first, so this is exit 2, not 3.
    code, out, err = run(capsys, "check", "docker-archive:missing.tar")
    assert (code, out) == (2, "")
    assert err.startswith("error: no budget found")
    assert f"[{typo}] looks like a typo of [{wanted}]" in err
    assert "design" not in err
    assert len(err.splitlines()) == 1


# --- invalid budgets: exit 2, every problem at once, before any image is read ------------------


def test_invalid_budget_lists_every_problem_and_exits_2(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(
        '[budget]\nmax_imag = "1GB"\nmax_dead = "-1MB"\nmax_python = "huge"\n'
    )
    # The image does not exist: the budget is validated first, so this is exit 2, not 3.
    missing = f"docker-archive:{tmp_path}/missing.tar"
    code, out, err = run(capsys, "check", missing, "--max-growth-percent", "lots")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: invalid budget in {workdir / 'pyimgsize.toml'} (4 problems): ")
    for problem in (
        "max_imag: unknown key (did you mean max_image?)",
        "max_python: not a size: 'huge'",
        "max_dead: negative size: '-1MB'",
        "--max-growth-percent: not a percentage: 'lots'",
    ):
        assert problem in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-image", "6OOMB"], "--max-image: not a size: '6OOMB'"),
        (["--max-cache", "-1"], "--max-cache: negative size: '-1'"),
        (["--max-package", "pandas"], "--max-package 'pandas': expected NAME=SIZE"),
        (["--max-package", "pandas=1 lightyear"], "--max-package pandas: not a size"),
    ],
)
def test_invalid_flags_exit_2(
    args: list[str], message: str, tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = write_app(tmp_path, cache=False)
    code, out, err = run(capsys, "check", lean, *args)
    assert (code, out) == (2, "")
    assert err.startswith("error: invalid budget (1 problem): ")
    assert message in err


def test_unreadable_budget_file_exits_2(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = write_app(tmp_path, cache=False)
    code, out, err = run(capsys, "check", lean, "--budget", str(tmp_path / "nope.toml"))
    assert (code, out) == (2, "")
    assert err == f"error: budget file {tmp_path / 'nope.toml'} does not exist (check --budget)\n"
    (workdir / "bad.toml").write_text("[budget\n")
    code, out, err = run(capsys, "check", lean, "--budget", "bad.toml")
    assert (code, out) == (2, "")
    assert err.startswith("error: budget file bad.toml is not valid TOML: ")


@pytest.mark.parametrize(
    "args", [["check"], ["check", "x", "--format", "xml"]], ids=["missing-IMAGE", "bad-format"]
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert "internal error" not in err


# --- unreadable images: exit 3 -----------------------------------------------------------------


def test_unreadable_image_exits_3(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    code, out, err = run(capsys, "check", f"docker-archive:{tmp_path}/missing.tar")
    assert (code, out) == (3, "")
    assert err.startswith("error: ")
    assert "missing.tar" in err


def test_truncated_archive_exits_3(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    path = Path(write_app(tmp_path, cache=True).removeprefix("docker-archive:"))
    broken = tmp_path / "broken.tar"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, out, err = run(capsys, "check", f"docker-archive:{broken}")
    assert (code, out) == (3, "")
    assert err.startswith("error: ")


def test_unreadable_baseline_exits_3(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    bad = tmp_path / "main.json"
    bad.write_text('{"schema_version": "1", "image": 5}', encoding="utf-8")
    code, out, err = run(capsys, "check", write_app(tmp_path, cache=True), "--baseline", str(bad))
    assert (code, out) == (3, "")
    assert err.startswith(f"error: {bad} is not a usable inspect report: image should be an")


# --- baselines ----------------------------------------------------------------------------------


def test_baseline_from_an_image(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(
        '[budget]\nmax_growth = "10kB"\nmax_growth_percent = 10\n'
    )
    lean, fat = write_app(tmp_path, cache=False), write_app(tmp_path, cache=True)
    code, out, err = run(capsys, "check", fat, "--baseline", lean, "-f", "json")
    assert (code, err) == (1, "")
    report = CheckReport.model_validate_json(out)
    assert report.baseline is not None
    assert (report.baseline.ref, report.baseline.bytes) == (lean, LEAN_BYTES)
    growth, percent = report.rules
    assert (growth.rule, growth.status, growth.actual) == ("max_growth", "fail", CACHE_BYTES)
    assert [(c.name, c.bytes) for c in growth.contributors] == [
        ("caches and stray wheels", CACHE_BYTES)
    ]
    assert (percent.rule, percent.status) == ("max_growth_percent", "pass")
    assert percent.actual == round(CACHE_BYTES / LEAN_BYTES * 100, 4)

    # Shrinking is never growth.
    code, out, _err = run(capsys, "check", lean, "--baseline", fat, "-f", "json")
    assert code == 0
    assert rules(out)["max_growth"].actual == -CACHE_BYTES


def test_baseline_and_image_from_saved_reports(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text('[budget]\nmax_growth = "10kB"\nmax_cache = 0\n')
    lean, fat = write_app(tmp_path, cache=False), write_app(tmp_path, cache=True)
    saved_lean, saved_fat = tmp_path / "main.json", tmp_path / "pr.json"
    for ref, saved in ((lean, saved_lean), (fat, saved_fat)):
        code, _out, err = run(capsys, "inspect", ref, "-f", "json", "--output", str(saved))
        assert (code, err) == (0, "")

    code, out, err = run(capsys, "check", fat, "--baseline", str(saved_lean), "-f", "json")
    assert (code, err) == (1, "")
    from_image = CheckReport.model_validate_json(out)
    assert from_image.baseline is not None
    assert (from_image.baseline.source, from_image.baseline.bytes) == ("report", LEAN_BYTES)
    assert from_image.rules[0].actual == CACHE_BYTES

    code, out, err = run(
        capsys, "check", str(saved_fat), "--baseline", str(saved_lean), "-f", "json"
    )
    assert (code, err) == (1, "")
    from_reports = CheckReport.model_validate_json(out)
    assert from_reports.image.source == "report"
    assert from_reports.rules == from_image.rules


# --- formats ------------------------------------------------------------------------------------


def test_every_format_through_the_cli(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    fat = write_app(tmp_path, cache=True)

    code, out, _err = run(capsys, "check", fat, "-f", "markdown")
    assert code == 1
    assert out.startswith("## ❌ pyimgsize check FAILED: 2 of 7 rules fail, 2 skipped\n")
    assert "| `max_cache`" in out
    # a suggestion's commands stay code spans (as advise shows them), not escaped backticks
    assert "\nFix: install with `pip install --no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`)" in out

    code, out, _err = run(capsys, "check", fat, "-f", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "2", "2")
    failed = [
        case.get("name") for case in root.iter("testcase") if case.find("failure") is not None
    ]
    assert failed == ["max_cache", "packages.pandas"]

    code, out, _err = run(capsys, "check", fat, "-f", "github")
    assert code == 1
    lines = out.splitlines()
    assert [line.split("::")[1] for line in lines] == [
        "error title=pyimgsize budget%3A max_cache",
        "notice title=pyimgsize budget%3A max_growth skipped",
        "error title=pyimgsize budget%3A packages.pandas",
        "notice title=pyimgsize budget%3A packages.torch skipped",
        "notice title=pyimgsize check",
    ]

    code, out, _err = run(capsys, "check", fat)
    assert code == 1
    assert out.startswith("pyimgsize check FAILED: 2 of 7 rules fail, 2 skipped\n")


def test_output_file_gets_the_report_and_the_exit_code_stays(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "pyimgsize.toml").write_text(BUDGET)
    target = tmp_path / "summary.md"
    code, out, err = run(
        capsys, "check", write_app(tmp_path, cache=True), "-f", "markdown", "-o", str(target)
    )
    assert (code, out, err) == (1, "", "")
    assert target.read_text(encoding="utf-8").startswith("## ❌ pyimgsize check FAILED")


def test_an_oci_layout_is_checked_like_an_archive(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "layout"
    write_oci_layout(layout, app_image(cache=True))
    code, out, _err = run(
        capsys, "check", f"oci:{layout}", "--max-image", str(FAT_BYTES), "-f", "json"
    )
    assert code == 0
    assert rules(out)["max_image"].actual == FAT_BYTES


# --- the engine ---------------------------------------------------------------------------------

ENGINE_DOCKERFILE = """\
FROM {base}
COPY site/ {site}/
"""
ENGINE_CACHE_STEP = (
    "RUN mkdir -p /root/.cache/pip && head -c 12345 /dev/zero > /root/.cache/pip/blob\n"
)


@pytest.mark.engine
def test_engine_images_gate_and_baseline(
    engine: Any,
    busybox_base: str,
    docker_build: Callable[..., str],
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    context = {
        "site/" + e.path.removeprefix(SITE + "/"): e.content for e in DISTS if isinstance(e, File)
    }
    dockerfile = ENGINE_DOCKERFILE.format(base=busybox_base, site=SITE)
    id_main = docker_build(dockerfile, context, name="check-main")
    id_pr = docker_build(dockerfile + ENGINE_CACHE_STEP, context, name="check-pr")
    (workdir / "pyproject.toml").write_text(
        "[tool.pyimgsize.budget]\nmax_cache = 0\nmax_growth = 12345\n"
        f"max_python = {PYTHON_BYTES}\n[tool.pyimgsize.budget.packages]\nsix = 1\n"
    )

    code, out, err = run(
        capsys, "check", f"docker:{id_pr}", "--baseline", f"docker:{id_main}", "-f", "json"
    )
    assert (code, err) == (1, "")
    report = CheckReport.model_validate_json(out)
    assert (report.image.source, report.image.id) == ("docker", config_digest(engine, id_pr))
    assert report.baseline is not None
    assert report.baseline.id == config_digest(engine, id_main)
    assert [(r.rule, r.status, r.actual) for r in report.rules] == [
        ("max_python", "pass", PYTHON_BYTES),
        ("max_cache", "fail", 12_345),
        ("max_growth", "pass", 12_345),
        ("packages.six", "fail", size_of(six())),
    ]
    cache = report.rules[1]
    assert [(c.name, c.bytes) for c in cache.contributors] == [("/root/.cache/pip (pip)", 12_345)]

    code, out, err = run(capsys, "check", f"docker:{id_main}", "--max-package", "six=1MB")
    assert (code, err) == (0, "")
