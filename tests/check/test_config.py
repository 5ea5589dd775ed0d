"""The budget file: discovery, reading, validation, flag overrides and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyimgsize.check.config import Budget, BudgetError, discover_budget, load_budget
from pyimgsize.errors import ConfigError, ExitCode
from pyimgsize.names import normalize_name
from tests.check.samples import MB


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
        overrides={"max_image": "700MB", "max_growth_percent": "5"},
        package_overrides=["Pandas=90MB", "numpy=50MB"],
    )
    assert budget.max_image == 700 * MB
    assert budget.max_dead == 10 * MB
    assert budget.max_growth_percent == 5.0
    assert budget.packages == {"pandas": 90 * MB, "numpy": 50 * MB}


def test_flags_alone_are_a_budget(tmp_path: Path) -> None:
    budget, found = load_budget(tmp_path, overrides={"max_cache": "0"})
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
            overrides={"max_image": "big", "max_growth_percent": "five"},
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
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```toml\n")[1:]
    assert len(blocks) >= 2
    for block in blocks:
        (tmp_path / "pyimgsize.toml").write_text(block.split("```")[0], encoding="utf-8")
        budget, _found = load_budget(tmp_path)
        assert not budget.is_empty()
        assert budget.max_cache == 0
