"""The words of a budget verdict: messages, remedies and contributor names of every rule.

`pyimgsize.check` returns data; these tests read the text `word_check` makes of it (the text
every format shows and the JSON `message`, `remedy` and contributor `name` fields carry).
"""

from __future__ import annotations

import pytest

from pyimgsize.check import Budget
from pyimgsize.check import evaluate as evaluate_data
from pyimgsize.render.check_words import word_check
from pyimgsize.report import Cache, CheckReport, InspectReport, RuleResult
from tests.check.samples import (
    MB,
    SITE,
    grown_by_a_new_distribution,
    grown_in_caches_and_unowned_files,
    mostly_uv_cache,
    non_cache_dead,
    only,
    package,
    sample_report,
    with_caches,
    with_two_numpy_installs,
)


def evaluate(
    report: InspectReport, budget: Budget, baseline: InspectReport | None = None
) -> CheckReport:
    """The verdict, worded."""
    return word_check(evaluate_data(report, budget, baseline))


def names(rule: RuleResult) -> list[tuple[str, int]]:
    return [(x.name, x.bytes) for x in rule.contributors]


def test_max_image_fails_with_largest_layers_by_visible_bytes() -> None:
    result = evaluate(sample_report(), Budget(max_image="500MB"))
    rule = only(result, "max_image")
    assert result.passed is False
    assert (rule.status, rule.actual, rule.limit) == ("fail", 565 * MB, 500 * MB)
    # Visible bytes per layer: stored minus dead.
    assert names(rule) == [
        ("layer 1: RUN pip install -r requirements.txt", 470 * MB),
        ("layer 0: ADD file:abc in /", 80 * MB),
        ("layer 2: COPY dir:def in /app", 15 * MB),
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
    assert rule.message.startswith("shipped (all layers) 600.0 MB > 550.0 MB: layer 1: ")
    passing = only(evaluate(sample_report(), Budget(max_layers_total="600MB")), "max_layers_total")
    assert passing.status == "pass"


def test_max_layers_total_remedy_points_at_dead_bytes_when_they_explain_the_excess() -> None:
    # 35 MB dead, 600 MB stored: a 570 MB limit is exceeded by 30 MB, less than the dead bytes.
    rule = only(evaluate(sample_report(), Budget(max_layers_total="570MB")), "max_layers_total")
    assert rule.status == "fail"
    assert rule.remedy is not None
    assert rule.remedy.startswith("35.0 MB of the shipped bytes are dead")
    assert "same RUN" in rule.remedy


def test_max_python_lists_distributions_and_unowned_files() -> None:
    rule = only(evaluate(sample_report(), Budget(max_python="150MB")), "max_python")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 180 * MB, 150 * MB)
    assert names(rule) == [
        ("pandas", 120 * MB),
        ("numpy", 53 * MB),
        ("requests", 4 * MB),
        (f"unowned files in {SITE}", 4 * MB),
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
    assert names(rule) == [
        ("pandas", 31 * MB),
        ("numpy", 14 * MB),
        (".pyc of no distribution (standard library, app)", 13 * MB),
        ("requests", 2 * MB),
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


def test_max_bytecode_remedy_when_no_install_step_compiled_any() -> None:
    report = sample_report()
    report.suggestions = []  # advise ran and found no bytecode an install flag removes
    rule = only(evaluate(report, Budget(max_bytecode="50MB")), "max_bytecode")
    assert rule.remedy is not None
    assert rule.remedy.startswith("no install step compiled this bytecode")
    assert rule.remedy.endswith("raise max_bytecode to what the image needs")
    assert "--no-compile" not in rule.remedy


def test_max_cache_lists_caches_and_pip_remedy() -> None:
    rule = only(evaluate(sample_report(), Budget(max_cache="10MB")), "max_cache")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 12 * MB, 10 * MB)
    assert names(rule) == [
        ("/root/.cache/pip (pip)", 9 * MB),
        ("/tmp/app-1.0-py3-none-any.whl (wheel)", 3 * MB),
    ]
    assert rule.remedy is not None
    assert "--no-cache-dir" in rule.remedy
    assert only(evaluate(sample_report(), Budget(max_cache="12MB")), "max_cache").status == "pass"


def test_max_cache_remedy_follows_the_biggest_cache_kind() -> None:
    rule = only(evaluate(mostly_uv_cache(), Budget(max_cache=0)), "max_cache")
    assert rule.remedy is not None
    assert rule.remedy.startswith("ENV UV_NO_CACHE=1")
    wheel = Cache(path="/w/a.whl", kind="wheel", bytes=12 * MB, exclusive_bytes=0)
    rule = only(evaluate(with_caches(wheel), Budget(max_cache=0)), "max_cache")
    assert rule.remedy is not None
    assert "RUN --mount=type=bind" in rule.remedy


def test_max_cache_zero_allows_nothing_at_all() -> None:
    rule = only(evaluate(sample_report(), Budget(max_cache=0)), "max_cache")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 12 * MB, 0)
    assert rule.message.startswith("caches and stray wheels 12.0 MB > 0 B (max_cache = 0 allows")

    empty = with_caches(Cache(path="/root/.cache/pip", kind="pip", bytes=0, exclusive_bytes=0))
    rule = only(evaluate(empty, Budget(max_cache=0)), "max_cache")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 0, 0)
    assert rule.message == (
        "1 cache or stray wheel present, max_cache = 0 allows none: /root/.cache/pip"
    )

    clean = with_caches()
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
    assert names(rule) == [
        ("layer 1: RUN pip install -r requirements.txt (mostly cache)", 30 * MB),
        ("layer 2: COPY dir:def in /app (mostly data)", 5 * MB),
    ]
    assert rule.remedy is not None
    assert "same RUN" in rule.remedy
    assert "--no-cache-dir" in rule.remedy  # mostly cache: say how not to write it at all
    assert only(evaluate(sample_report(), Budget(max_dead="35MB")), "max_dead").status == "pass"


def test_max_dead_remedy_for_non_cache_dead_bytes() -> None:
    rule = only(evaluate(non_cache_dead(), Budget(max_dead="10MB")), "max_dead")
    assert names(rule)[0] == ("layer 1: RUN make (mostly other)", 30 * MB)
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
    baseline, current = grown_by_a_new_distribution()
    result = evaluate(current, Budget(max_growth="5MB"), baseline)
    rule = only(result, "max_growth")
    assert (rule.status, rule.actual, rule.limit) == ("fail", 8 * MB, 5 * MB)
    assert names(rule) == [
        ("files outside Python", 4 * MB),
        ("rich (new)", 4 * MB),
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
    baseline, current = grown_in_caches_and_unowned_files()
    rule = only(evaluate(current, Budget(max_growth=0), baseline), "max_growth")
    # requests shrank by 1 MB: not a contributor to growth; the unowned part grew by 3 MB.
    assert names(rule) == [
        ("files outside Python", 5 * MB),
        ("caches and stray wheels", 3 * MB),
        ("site-packages files of no distribution", 3 * MB),
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
    assert names(rule) == [
        ("native", 45 * MB),
        ("source", 40 * MB),
        ("bytecode", 31 * MB),
        ("data", 3 * MB),
        ("metadata", 1 * MB),
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
    report = with_two_numpy_installs()
    rule = only(evaluate(report, Budget(packages={"numpy": "60MB"})), "packages.numpy")
    assert (rule.status, rule.actual) == ("fail", 63 * MB)
    assert rule.message.startswith("numpy (2 installs) 63.0 MB > 60.0 MB: native 40.0 MB")
    assert rule.remedy is not None
    assert rule.remedy.startswith("numpy is installed 2 times")
    python = only(evaluate(report, Budget(max_python=1)), "max_python")
    assert names(python)[1] == (f"numpy ({SITE})", 53 * MB)


def test_a_package_cap_mostly_bytecode_names_that_package_not_max_bytecode() -> None:
    """Issue 13 item 8: a failing `packages.X` cap does not say "raise max_bytecode"."""
    report = sample_report()
    report.packages.append(package("botocore", bytecode=30 * MB, source=20 * MB))
    rule = only(evaluate(report, Budget(packages={"botocore": "40MB"})), "packages.botocore")
    assert rule.remedy == (
        "most of botocore is bytecode compiled at install time: pip install --no-compile ships "
        "no .pyc (imports compile on first use), or raise packages.botocore if start-up time "
        "matters more"
    )
    report.packages[-1].installer = "uv"
    rule = only(evaluate(report, Budget(packages={"botocore": "40MB"})), "packages.botocore")
    assert rule.remedy is not None
    assert "max_bytecode" not in rule.remedy
    assert rule.remedy.startswith("most of botocore is bytecode compiled at install time: leave")


def test_every_rule_of_the_table_has_a_label() -> None:
    from pyimgsize.check.table import RULES
    from pyimgsize.render.check_words import LABELS

    assert set(LABELS) == {rule.name for rule in RULES}


def test_a_layer_contributor_is_named_by_layer_label() -> None:
    """The same layer reads the same in check as in inspect and diff (render.common)."""
    report = sample_report()
    long_run = "/bin/sh -c apt-get update && apt-get install -y build-essential libpq-dev git"
    report.layers[1].created_by = long_run
    rule = only(evaluate(report, Budget(max_image="1MB")), "max_image")
    assert rule.contributors[0].name == (
        "layer 1: RUN apt-get update && apt-get install -y build-essential li…"
    )
