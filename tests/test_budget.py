"""The budget gate: the budget file model, discovery, validation and every rule's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyimgsize.budget import (
    Budget,
    BudgetError,
    budget_overrides,
    discover_budget,
    evaluate,
    load_budget,
    normalize_name,
)
from pyimgsize.errors import ConfigError, ExitCode
from pyimgsize.report import Cache, CheckReport, Contributor, DeadCategories, RuleResult
from tests.check_samples import MB, SITE, layer, package, sample_report


def only(report: CheckReport, rule: str) -> RuleResult:
    matches = [r for r in report.rules if r.rule == rule]
    assert len(matches) == 1, [r.rule for r in report.rules]
    return matches[0]


def c(name: str, n: int) -> Contributor:
    return Contributor(name=name, bytes=n)


# --- rules: pass, fail, skip -------------------------------------------------------------------


def test_max_image_fails_with_largest_layers_by_visible_bytes() -> None:
    result = evaluate(sample_report(), Budget(max_image="500MB"))
    rule = only(result, "max_image")
    assert result.passed is False
    assert (rule.status, rule.actual, rule.limit) == ("fail", 565 * MB, 500 * MB)
    # Visible bytes per layer: stored minus dead.
    assert rule.contributors == [
        c("layer 1: RUN pip install -r requirements.txt", 470 * MB),
        c("layer 0: ADD file:abc in /", 80 * MB),
        c("layer 2: COPY dir:def in /app", 15 * MB),
    ]
    assert rule.message == (
        "image 565.0 MB > 500.0 MB: layer 1: RUN pip install -r requirements.txt 470.0 MB, "
        "layer 0: ADD file:abc in / 80.0 MB, layer 2: COPY dir:def in /app 15.0 MB"
    )
    assert rule.remedy is not None
    assert "COPY --from" in rule.remedy


def test_max_image_passes_at_exactly_the_limit() -> None:
    result = evaluate(sample_report(), Budget(max_image=565 * MB))
    rule = only(result, "max_image")
    assert (rule.status, rule.actual, rule.limit) == ("pass", 565 * MB, 565 * MB)
    assert rule.message == "image 565.0 MB <= 565.0 MB"
    assert rule.remedy is None
    assert result.passed is True
    assert only(evaluate(sample_report(), Budget(max_image=565 * MB - 1)), "max_image").status == (
        "fail"
    )


def test_max_layers_total_counts_stored_bytes() -> None:
    rule = only(evaluate(sample_report(), Budget(max_layers_total="550MB")), "max_layers_total")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 600 * MB, 550 * MB)
    assert [x.bytes for x in rule.contributors] == [500 * MB, 80 * MB, 20 * MB]
    assert rule.message.startswith("layers (stored) 600.0 MB > 550.0 MB: layer 1: ")
    passing = only(evaluate(sample_report(), Budget(max_layers_total="600MB")), "max_layers_total")
    assert passing.status == "pass"


def test_max_layers_total_remedy_points_at_dead_bytes_when_they_explain_the_excess() -> None:
    # 35 MB dead, 600 MB stored: a 570 MB limit is exceeded by 30 MB, less than the dead bytes.
    rule = only(evaluate(sample_report(), Budget(max_layers_total="570MB")), "max_layers_total")
    assert rule.status == "fail"
    assert rule.remedy is not None
    assert rule.remedy.startswith("35.0 MB of the stored bytes are dead")
    assert "same RUN" in rule.remedy


def test_max_python_lists_distributions_and_unowned_files() -> None:
    rule = only(evaluate(sample_report(), Budget(max_python="150MB")), "max_python")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 180 * MB, 150 * MB)
    assert rule.contributors == [
        c("pandas", 120 * MB),
        c("numpy", 53 * MB),
        c("requests", 4 * MB),
        c(f"unowned files in {SITE}", 4 * MB),
    ]
    assert rule.message == (
        "Python 180.0 MB > 150.0 MB: pandas 120.0 MB, numpy 53.0 MB, requests 4.0 MB, ..."
    )
    assert rule.remedy is not None
    assert rule.remedy.endswith("start with pandas")
    assert only(evaluate(sample_report(), Budget(max_python="180MB")), "max_python").status == (
        "pass"
    )


def test_max_bytecode_uses_the_bytecode_category_and_the_unowned_rest() -> None:
    rule = only(evaluate(sample_report(), Budget(max_bytecode="50MB")), "max_bytecode")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 60 * MB, 50 * MB)
    assert rule.contributors == [
        c("pandas", 31 * MB),
        c("numpy", 14 * MB),
        c(".pyc of no distribution (standard library, app)", 13 * MB),
        c("requests", 2 * MB),
    ]
    assert rule.message.startswith("bytecode 60.0 MB > 50.0 MB: pandas 31.0 MB, numpy 14.0 MB, ")
    assert rule.remedy is not None
    assert "pip install --no-compile" in rule.remedy


def test_max_bytecode_remedy_names_uv_compile_bytecode_for_uv_installs() -> None:
    report = sample_report()
    report.packages[0].installer = "uv"
    rule = only(evaluate(report, Budget(max_bytecode="50MB")), "max_bytecode")
    assert rule.remedy is not None
    assert rule.remedy.startswith("UV_COMPILE_BYTECODE=1 trades image size for start-up time")


def test_max_cache_lists_caches_and_pip_remedy() -> None:
    rule = only(evaluate(sample_report(), Budget(max_cache="10MB")), "max_cache")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 12 * MB, 10 * MB)
    assert rule.contributors == [
        c("/root/.cache/pip (pip)", 9 * MB),
        c("/tmp/app-1.0-py3-none-any.whl (wheel)", 3 * MB),
    ]
    assert rule.remedy is not None
    assert "--no-cache-dir" in rule.remedy
    assert only(evaluate(sample_report(), Budget(max_cache="12MB")), "max_cache").status == "pass"


def test_max_cache_remedy_follows_the_biggest_cache_kind() -> None:
    report = sample_report()
    report.caches = [
        Cache(path="/root/.cache/uv", kind="uv", bytes=11 * MB, exclusive_bytes=2 * MB),
        Cache(path="/root/.cache/pip", kind="pip", bytes=1 * MB, exclusive_bytes=1 * MB),
    ]
    rule = only(evaluate(report, Budget(max_cache=0)), "max_cache")
    assert rule.remedy is not None
    assert rule.remedy.startswith("ENV UV_NO_CACHE=1")
    report.caches = [Cache(path="/w/a.whl", kind="wheel", bytes=12 * MB, exclusive_bytes=0)]
    rule = only(evaluate(report, Budget(max_cache=0)), "max_cache")
    assert rule.remedy is not None
    assert "RUN --mount=type=bind" in rule.remedy


def test_max_cache_zero_allows_nothing_at_all() -> None:
    rule = only(evaluate(sample_report(), Budget(max_cache=0)), "max_cache")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 12 * MB, 0)
    assert rule.message.startswith("caches and stray wheels 12.0 MB > 0 B (max_cache = 0 allows")

    empty = sample_report()
    empty.caches = [Cache(path="/root/.cache/pip", kind="pip", bytes=0, exclusive_bytes=0)]
    empty.totals.cache_bytes = 0
    rule = only(evaluate(empty, Budget(max_cache=0)), "max_cache")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 0, 0)
    assert rule.message == (
        "1 cache or stray wheel present, max_cache = 0 allows none: /root/.cache/pip"
    )

    clean = sample_report()
    clean.caches = []
    clean.totals.cache_bytes = 0
    rule = only(evaluate(clean, Budget(max_cache=0)), "max_cache")
    assert (rule.status, rule.actual, rule.limit, rule.message) == (
        "pass",
        0,
        0,
        "caches and stray wheels 0 B <= 0 B",
    )


def test_max_dead_lists_layers_with_their_main_dead_category() -> None:
    rule = only(evaluate(sample_report(), Budget(max_dead="10MB")), "max_dead")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 35 * MB, 10 * MB)
    assert rule.contributors == [
        c("layer 1: RUN pip install -r requirements.txt (mostly cache)", 30 * MB),
        c("layer 2: COPY dir:def in /app (mostly data)", 5 * MB),
    ]
    assert rule.remedy is not None
    assert "same RUN" in rule.remedy
    assert "--no-cache-dir" in rule.remedy  # mostly cache: say how not to write it at all
    assert only(evaluate(sample_report(), Budget(max_dead="35MB")), "max_dead").status == "pass"


def test_max_dead_remedy_for_non_cache_dead_bytes() -> None:
    report = sample_report()
    report.layers[1] = layer(1, "/bin/sh -c make", 500 * MB, dead=DeadCategories(other=30 * MB))
    rule = only(evaluate(report, Budget(max_dead="10MB")), "max_dead")
    assert rule.contributors[0] == c("layer 1: RUN make (mostly other)", 30 * MB)
    assert rule.remedy is not None
    assert rule.remedy.startswith("delete files in the same RUN that creates them")


@pytest.mark.parametrize("rule_name", ["max_growth", "max_growth_percent"])
def test_growth_rules_are_skipped_without_a_baseline(rule_name: str) -> None:
    result = evaluate(sample_report(), Budget.model_validate({rule_name: 5}))
    rule = only(result, rule_name)
    assert (rule.status, rule.actual) == ("skip", None)
    assert rule.message == f"skipped: {rule_name} needs a baseline (--baseline IMAGE|REPORT.json)"
    assert result.passed is True
    assert result.baseline is None


def test_max_growth_fails_and_names_what_grew() -> None:
    baseline = sample_report(ref="docker:app:main")
    current = sample_report(image_bytes_extra=8 * MB)
    current.packages.append(package("rich", source=3 * MB, data=1 * MB))
    current.totals.python_bytes += 4 * MB
    result = evaluate(current, Budget(max_growth="5MB"), baseline)
    rule = only(result, "max_growth")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 8 * MB, 5 * MB)
    assert rule.contributors == [
        c("files outside Python", 4 * MB),
        c("rich (new)", 4 * MB),
    ]
    assert rule.message == (
        "growth +8.0 MB > 5.0 MB (baseline 565.0 MB -> 573.0 MB): "
        "files outside Python +4.0 MB, rich (new) +4.0 MB"
    )
    assert rule.remedy is not None
    assert rule.remedy.startswith("run pyimgsize diff docker:app:main docker:app:pr")
    assert result.baseline is not None
    assert (result.baseline.ref, result.baseline.bytes) == ("docker:app:main", 565 * MB)


def test_growth_contributors_split_caches_unowned_files_and_the_rest() -> None:
    baseline = sample_report(ref="docker:app:main")
    current = sample_report(image_bytes_extra=10 * MB)
    current.totals.cache_bytes += 3 * MB
    current.totals.python_bytes += 2 * MB  # owned by no distribution
    current.packages[2] = package("requests", bytecode=1 * MB, source=1 * MB, metadata=1 * MB)
    rule = only(evaluate(current, Budget(max_growth=0), baseline), "max_growth")
    # requests shrank by 1 MB: not a contributor to growth; the unowned part grew by 3 MB.
    assert rule.contributors == [
        c("files outside Python", 5 * MB),
        c("caches and stray wheels", 3 * MB),
        c("site-packages files of no distribution", 3 * MB),
    ]
    assert sum(x.bytes for x in rule.contributors) - 1 * MB == rule.actual == 10 * MB


def test_max_growth_passes_when_the_image_shrinks() -> None:
    baseline = sample_report(image_bytes_extra=10 * MB)
    rule = only(evaluate(sample_report(), Budget(max_growth=0), baseline), "max_growth")
    assert (rule.status, rule.actual, rule.limit) == ("pass", -10 * MB, 0)
    assert rule.message == "growth -10.0 MB <= 0 B (baseline 575.0 MB -> 565.0 MB)"


def test_max_growth_percent() -> None:
    baseline = sample_report()  # 565 MB
    current = sample_report(image_bytes_extra=11_300_000)  # +2 %
    failing = only(
        evaluate(current, Budget(max_growth_percent="1.5%"), baseline), "max_growth_percent"
    )
    assert (failing.status, failing.actual, failing.limit) == ("fail", 2.0, 1.5)
    assert failing.message == (
        "growth +2% > 1.5% (+11.3 MB: baseline 565.0 MB -> 576.3 MB): files outside Python +11.3 MB"
    )
    passing = only(evaluate(current, Budget(max_growth_percent=2), baseline), "max_growth_percent")
    assert (passing.status, passing.actual, passing.limit) == ("pass", 2.0, 2.0)


def test_max_growth_percent_is_skipped_for_an_empty_baseline() -> None:
    baseline = sample_report()
    baseline.image.bytes = 0
    rule = only(
        evaluate(sample_report(), Budget(max_growth_percent=5), baseline), "max_growth_percent"
    )
    assert (rule.status, rule.actual) == ("skip", None)
    assert "0 bytes" in rule.message


def test_package_cap_fails_with_categories() -> None:
    rule = only(evaluate(sample_report(), Budget(packages={"Pandas": "80MB"})), "packages.pandas")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 120 * MB, 80 * MB)
    assert rule.contributors == [
        c("native", 45 * MB),
        c("source", 40 * MB),
        c("bytecode", 31 * MB),
        c("data", 3 * MB),
        c("metadata", 1 * MB),
    ]
    assert rule.message == (
        "pandas 120.0 MB > 80.0 MB: native 45.0 MB, source 40.0 MB, bytecode 31.0 MB, ..."
    )
    assert rule.remedy is not None
    assert rule.remedy.startswith("most of pandas is native")


def test_package_cap_passes_and_matches_normalised_names() -> None:
    report = sample_report()
    report.packages.append(package("Zope.Interface", source=2 * MB))
    result = evaluate(report, Budget(packages={"zope_interface": "2MB", "NumPy": "53MB"}))
    assert [(r.rule, r.status, r.actual) for r in result.rules] == [
        ("packages.numpy", "pass", 53 * MB),
        ("packages.zope-interface", "pass", 2 * MB),
    ]
    assert result.rules[1].message == "Zope.Interface 2.0 MB <= 2.0 MB"


def test_package_cap_for_a_missing_distribution_is_skipped_not_failed() -> None:
    result = evaluate(sample_report(), Budget(packages={"torch": "1GB"}))
    rule = only(result, "packages.torch")
    assert (rule.status, rule.actual, rule.limit) == ("skip", None, 10**9)
    assert rule.message == "skipped: torch is not installed in the image"
    assert result.passed is True


def test_package_cap_sums_every_install_of_a_distribution() -> None:
    report = sample_report()
    report.packages.append(package("numpy", native=10 * MB, site="/usr/lib/python3/dist-packages"))
    rule = only(evaluate(report, Budget(packages={"numpy": "60MB"})), "packages.numpy")
    assert (rule.status, rule.actual) == ("fail", 63 * MB)
    assert rule.message.startswith("numpy (2 installs) 63.0 MB > 60.0 MB: native 40.0 MB")
    assert rule.remedy is not None
    assert rule.remedy.startswith("numpy is installed 2 times")
    python = only(evaluate(report, Budget(max_python=1)), "max_python")
    assert python.contributors[1] == c(f"numpy ({SITE})", 53 * MB)


def test_every_rule_passes_and_rules_come_in_budget_order() -> None:
    budget = Budget(
        max_image="1GB",
        max_layers_total="1GB",
        max_python="1GB",
        max_bytecode="1GB",
        max_cache="1GB",
        max_dead="1GB",
        max_growth="1GB",
        max_growth_percent=100,
        packages={"requests": "1GB", "numpy": "1GB"},
    )
    result = evaluate(sample_report(), budget, sample_report(ref="docker:app:main"))
    assert result.passed is True
    assert [(r.rule, r.status) for r in result.rules] == [
        ("max_image", "pass"),
        ("max_layers_total", "pass"),
        ("max_python", "pass"),
        ("max_bytecode", "pass"),
        ("max_cache", "pass"),
        ("max_dead", "pass"),
        ("max_growth", "pass"),
        ("max_growth_percent", "pass"),
        ("packages.numpy", "pass"),
        ("packages.requests", "pass"),
    ]


def test_check_report_image_is_the_contract_image_ref() -> None:
    result = evaluate(sample_report(), Budget(max_image="1GB"))
    dumped = result.model_dump(mode="json")
    assert set(dumped) >= {"schema_version", "passed", "image", "rules"}
    assert dumped["image"] == {
        "ref": "docker:app:pr",
        "source": "docker",
        "id": "sha256:" + "ab" * 32,
        "bytes": 565 * MB,
        "layer_bytes": 600 * MB,
    }
    assert set(dumped["rules"][0]) >= {"rule", "status", "actual", "limit", "message"}


# --- the model ---------------------------------------------------------------------------------


def test_sizes_follow_the_one_unit_rule() -> None:
    budget = Budget(max_image="600MB", max_python="1.5GiB", max_cache=0, max_dead=1024)
    assert budget.max_image == 600_000_000
    assert budget.max_python == 1_610_612_736
    assert budget.max_cache == 0
    assert budget.max_dead == 1024
    assert Budget(max_image="600MiB").max_image == 600 * 2**20


def test_normalize_name() -> None:
    assert normalize_name("Zope.Interface") == "zope-interface"
    assert normalize_name("typing__extensions") == "typing-extensions"
    assert normalize_name("ruamel.yaml.clib") == "ruamel-yaml-clib"


# --- discovery -----------------------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "app"

[tool.pyimgsize.budget]
max_image = "300MB"
"""


def test_discovery_prefers_explicit_then_pyimgsize_toml_then_pyproject(tmp_path: Path) -> None:
    assert discover_budget(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    found = discover_budget(tmp_path)
    assert found is not None
    assert (found.path.name, found.table) == ("pyproject.toml", "tool.pyimgsize.budget")
    assert load_budget(tmp_path)[0].max_image == 300 * MB

    (tmp_path / "pyimgsize.toml").write_text('[budget]\nmax_image = "200MB"\n')
    found = discover_budget(tmp_path)
    assert found is not None
    assert (found.path.name, found.table) == ("pyimgsize.toml", "budget")
    assert load_budget(tmp_path)[0].max_image == 200 * MB

    explicit = tmp_path / "ci" / "budget.toml"
    explicit.parent.mkdir()
    explicit.write_text('[budget]\nmax_image = "100MB"\n')
    budget, found = load_budget(tmp_path, budget_file=explicit)
    assert budget.max_image == 100 * MB
    assert found is not None
    assert found.path == explicit


def test_pyproject_without_the_table_is_not_a_budget(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.ruff]\n')
    assert discover_budget(tmp_path) is None
    with pytest.raises(ConfigError, match="no budget found") as info:
        load_budget(tmp_path)
    assert info.value.exit_code == ExitCode.USAGE


def test_explicit_pyproject_uses_its_tool_table(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "pyproject.toml"
    path.parent.mkdir()
    path.write_text(PYPROJECT)
    assert load_budget(tmp_path, budget_file=path)[0].max_image == 300 * MB


def test_explicit_budget_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"budget file .*nope\.toml does not exist"):
        load_budget(tmp_path, budget_file=tmp_path / "nope.toml")


def test_flags_override_single_rules_and_add_packages(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text(
        '[budget]\nmax_image = "600MB"\nmax_dead = "10MB"\n[budget.packages]\npandas = "80MB"\n'
    )
    budget, _ = load_budget(
        tmp_path,
        overrides=budget_overrides(max_image="700MB", max_growth_percent="5"),
        package_overrides=["Pandas=90MB", "numpy=50MB"],
    )
    assert budget.max_image == 700 * MB
    assert budget.max_dead == 10 * MB
    assert budget.max_growth_percent == 5.0
    assert budget.packages == {"pandas": 90 * MB, "numpy": 50 * MB}


def test_flags_alone_are_a_budget(tmp_path: Path) -> None:
    budget, found = load_budget(tmp_path, overrides=budget_overrides(max_cache="0"))
    assert found is None
    assert budget.max_cache == 0
    assert budget.max_image is None


def test_a_budget_without_rules_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text("[budget]\n")
    with pytest.raises(ConfigError, match=r"defines no rules"):
        load_budget(tmp_path)


def test_pyimgsize_toml_without_a_budget_table(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text('max_image = "1GB"\n')
    with pytest.raises(ConfigError, match=r"has no \[budget\] table"):
        load_budget(tmp_path)


# --- invalid budgets ---------------------------------------------------------------------------


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text(
        "[budget]\n"
        'max_imag = "600MB"\n'
        'max_python = "lots"\n'
        'max_dead = "-5MB"\n'
        "max_cache = -1\n"
        'max_growth = "5%"\n'
        "max_growth_percent = -2\n"
        "max_bytecode = true\n"
        "[budget.packages]\n"
        'pandas = "80 parsecs"\n'
        'Pandas = "1MB"\n'
        '"not a name!" = "1MB"\n'
    )
    with pytest.raises(BudgetError) as info:
        load_budget(tmp_path)
    error = info.value
    assert error.exit_code == ExitCode.USAGE
    assert isinstance(error, ConfigError)
    assert error.problems == [
        "max_imag: unknown key (did you mean max_image?)",
        "packages: 'Pandas' and 'pandas' are the same distribution (pandas)",
        "packages: 'not a name!' is not a distribution name",
        "max_python: not a size: 'lots' (use e.g. 600MB, 1.5GiB, 800kB)",
        "max_bytecode: not a size: True (use e.g. 600MB, 1.5GiB, 800kB, or bytes)",
        "max_cache: negative size: -1",
        "max_dead: negative size: '-5MB'",
        "max_growth: not a size: '5%' (use e.g. 600MB, 1.5GiB, 800kB)",
        "max_growth_percent: negative percentage: -2",
        "packages.pandas: not a size: '80 parsecs' (use e.g. 600MB, 1.5GiB, 800kB)",
    ]
    message = str(error)
    assert message.startswith(f"invalid budget in {tmp_path / 'pyimgsize.toml'} (10 problems): ")
    assert "\n" not in message
    assert all(problem in message for problem in error.problems)


def test_invalid_flags_are_reported_with_the_file_problems(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text('[budget]\nmax_image = "600MB"\nmax_pyton = 1\n')
    with pytest.raises(BudgetError) as info:
        load_budget(
            tmp_path,
            overrides=budget_overrides(max_image="big", max_growth_percent="five"),
            package_overrides=["pandas", "numpy=-1MB", "=3MB"],
        )
    assert info.value.problems == [
        "max_pyton: unknown key (did you mean max_python?)",
        "--max-package 'pandas': expected NAME=SIZE (e.g. pandas=80MB)",
        "--max-package '=3MB': expected NAME=SIZE (e.g. pandas=80MB)",
        "--max-image: not a size: 'big' (use e.g. 600MB, 1.5GiB, 800kB)",
        "--max-growth-percent: not a percentage: 'five' (use e.g. 5 or 2.5)",
        "--max-package numpy: negative size: '-1MB'",
    ]


def test_unknown_top_level_tables_and_wrong_types(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text(
        '[budget]\nmax_image = "1GB"\npackages = "pandas"\n[budgets]\nmax_image = 1\n'
    )
    with pytest.raises(BudgetError) as info:
        load_budget(tmp_path)
    assert info.value.problems == [
        "[budgets]: unknown top-level key (did you mean budget?)",
        "packages: must be a table of NAME = SIZE",
    ]


def test_toml_syntax_errors_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "pyimgsize.toml").write_text("[budget]\nmax_image = 600MB\n")
    with pytest.raises(ConfigError, match=r"is not valid TOML: .*line 2") as info:
        load_budget(tmp_path)
    assert not isinstance(info.value, BudgetError)


def test_budget_model_rejects_unknown_keys_directly() -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        Budget.model_validate({"max_everything": 1})
    with pytest.raises(ValueError, match="same distribution"):
        Budget(packages={"a_b": 1, "A-B": 2})


# --- the README's budgets are valid ------------------------------------------------------------


def test_readme_budget_examples_load(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```toml\n")[1:]
    assert len(blocks) >= 2
    for block in blocks:
        (tmp_path / "pyimgsize.toml").write_text(block.split("```")[0], encoding="utf-8")
        budget, _found = load_budget(tmp_path)
        assert not budget.is_empty()
        assert budget.max_cache == 0
