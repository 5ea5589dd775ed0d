"""Verdicts as data: status, actual, limit, unit, contributors and fix of every rule.

No English here: the words are `tests/render/test_check_words.py`'s business.
"""

from __future__ import annotations

from typing import Any

import pytest

from pyimgsize.check import Budget, evaluate
from pyimgsize.report import Cache, Contributor, Fix, RuleResult, Suggestion
from tests.check.samples import (
    MB,
    SITE,
    SYSTEM_SITE,
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


def facts(contributors: list[Contributor], *fields: str) -> list[tuple[Any, ...]]:
    return [(c.kind, *(getattr(c, f) for f in fields), c.bytes) for c in contributors]


def verdict(rule: RuleResult) -> tuple[Any, ...]:
    return (rule.status, rule.actual, rule.limit, rule.unit)


def test_max_image_fails_with_largest_layers_by_visible_bytes() -> None:
    result = evaluate(sample_report(), Budget(max_image="500MB"))
    rule = only(result, "max_image")
    assert result.passed is False
    assert verdict(rule) == ("fail", 565 * MB, 500 * MB, "bytes")
    # Visible bytes per layer: stored minus dead; each names its layer and history entry.
    assert facts(rule.contributors, "layer", "created_by") == [
        ("layer", 1, "/bin/sh -c pip install -r requirements.txt", 470 * MB),
        ("layer", 0, "/bin/sh -c #(nop) ADD file:abc in / ", 80 * MB),
        ("layer", 2, "/bin/sh -c #(nop) COPY dir:def in /app ", 15 * MB),
    ]
    assert rule.fix == Fix(kind="multi-stage")
    assert (rule.message, rule.remedy) == ("", None)  # words are made by render/


def test_max_image_passes_at_exactly_the_limit() -> None:
    result = evaluate(sample_report(), Budget(max_image=565 * MB))
    rule = only(result, "max_image")
    assert verdict(rule) == ("pass", 565 * MB, 565 * MB, "bytes")
    assert rule.fix is None
    assert result.passed is True
    below = only(evaluate(sample_report(), Budget(max_image=565 * MB - 1)), "max_image")
    assert below.status == "fail"


def test_max_layers_total_counts_stored_bytes() -> None:
    rule = only(evaluate(sample_report(), Budget(max_layers_total="550MB")), "max_layers_total")
    assert verdict(rule) == ("fail", 600 * MB, 550 * MB, "bytes")
    assert facts(rule.contributors, "layer") == [
        ("layer", 1, 500 * MB),
        ("layer", 0, 80 * MB),
        ("layer", 2, 20 * MB),
    ]
    # 35 MB dead do not explain a 50 MB excess: build in stages.
    assert rule.fix == Fix(kind="multi-stage")
    passing = only(evaluate(sample_report(), Budget(max_layers_total="600MB")), "max_layers_total")
    assert passing.status == "pass"


def test_max_layers_total_fix_points_at_dead_bytes_when_they_explain_the_excess() -> None:
    # 35 MB dead, 600 MB stored: a 570 MB limit is exceeded by 30 MB, less than the dead bytes.
    rule = only(evaluate(sample_report(), Budget(max_layers_total="570MB")), "max_layers_total")
    assert rule.fix == Fix(kind="delete-in-same-run", bytes=35 * MB)


def test_max_compressed_caps_the_pull_size_by_compressed_layer_blobs() -> None:
    report = sample_report()
    for layer, size in zip(report.layers, (30 * MB, 150 * MB, 5 * MB), strict=True):
        layer.compressed_bytes = size
    report.image.compressed_bytes = 185 * MB
    rule = only(evaluate(report, Budget(max_compressed="150MB")), "max_compressed")
    assert verdict(rule) == ("fail", 185 * MB, 150 * MB, "bytes")
    assert facts(rule.contributors, "layer") == [
        ("layer", 1, 150 * MB),
        ("layer", 0, 30 * MB),
        ("layer", 2, 5 * MB),
    ]
    assert rule.fix == Fix(kind="multi-stage")
    passing = only(evaluate(report, Budget(max_compressed="185MB")), "max_compressed")
    assert passing.status == "pass"


def test_max_compressed_is_skipped_without_compressed_blobs() -> None:
    # the classic engine and `docker save` of Docker <= 24 hold uncompressed layers only
    rule = only(evaluate(sample_report(), Budget(max_compressed="1MB")), "max_compressed")
    assert (rule.status, rule.actual) == ("skip", None)


def test_max_python_lists_distributions_and_unowned_files() -> None:
    rule = only(evaluate(sample_report(), Budget(max_python="150MB")), "max_python")
    assert verdict(rule) == ("fail", 180 * MB, 150 * MB, "bytes")
    assert facts(rule.contributors, "package", "path") == [
        ("package", "pandas", None, 120 * MB),
        ("package", "numpy", None, 53 * MB),
        ("package", "requests", None, 4 * MB),
        ("unowned", None, SITE, 4 * MB),
    ]
    assert rule.fix == Fix(kind="runtime-deps-only", package="pandas")
    assert only(evaluate(sample_report(), Budget(max_python="180MB")), "max_python").status == (
        "pass"
    )


def test_max_bytecode_uses_the_bytecode_category_and_the_unowned_rest() -> None:
    rule = only(evaluate(sample_report(), Budget(max_bytecode="50MB")), "max_bytecode")
    assert verdict(rule) == ("fail", 60 * MB, 50 * MB, "bytes")
    assert facts(rule.contributors, "package") == [
        ("package", "pandas", 31 * MB),
        ("package", "numpy", 14 * MB),
        ("unowned-bytecode", None, 13 * MB),
        ("package", "requests", 2 * MB),
    ]
    assert rule.fix == Fix(kind="no-compile", installer="pip", flags=["--no-compile"])


def test_max_bytecode_fix_is_uv_s_for_uv_installs() -> None:
    report = sample_report()
    report.packages[0].installer = "uv"
    rule = only(evaluate(report, Budget(max_bytecode="50MB")), "max_bytecode")
    assert rule.fix is not None
    assert (rule.fix.kind, rule.fix.installer, rule.fix.env) == (
        "no-compile",
        "uv",
        {"UV_COMPILE_BYTECODE": "1"},
    )


def test_max_cache_lists_caches_and_pip_fix() -> None:
    rule = only(evaluate(sample_report(), Budget(max_cache="10MB")), "max_cache")
    assert verdict(rule) == ("fail", 12 * MB, 10 * MB, "bytes")
    assert facts(rule.contributors, "path", "category") == [
        ("cache", "/root/.cache/pip", "pip", 9 * MB),
        ("cache", "/tmp/app-1.0-py3-none-any.whl", "wheel", 3 * MB),
    ]
    assert rule.fix == Fix(
        kind="pip-no-cache-dir",
        installer="pip",
        env={"PIP_NO_CACHE_DIR": "1"},
        flags=["--no-cache-dir"],
        paths=["/root/.cache/pip", "/tmp/app-1.0-py3-none-any.whl"],
    )
    assert only(evaluate(sample_report(), Budget(max_cache="12MB")), "max_cache").status == "pass"


def test_max_cache_fix_follows_the_biggest_cache_kind() -> None:
    rule = only(evaluate(mostly_uv_cache(), Budget(max_cache=0)), "max_cache")
    assert rule.fix is not None
    assert (rule.fix.kind, rule.fix.env) == ("uv-no-cache", {"UV_NO_CACHE": "1"})
    wheel = Cache(path="/w/a.whl", kind="wheel", bytes=12 * MB, exclusive_bytes=0)
    rule = only(evaluate(with_caches(wheel), Budget(max_cache=0)), "max_cache")
    assert rule.fix == Fix(kind="no-stray-wheels", paths=["/w/a.whl"])


def test_max_cache_zero_allows_nothing_at_all() -> None:
    rule = only(evaluate(sample_report(), Budget(max_cache=0)), "max_cache")
    assert verdict(rule) == ("fail", 12 * MB, 0, "bytes")

    empty = with_caches(Cache(path="/root/.cache/pip", kind="pip", bytes=0, exclusive_bytes=0))
    rule = only(evaluate(empty, Budget(max_cache=0)), "max_cache")
    assert verdict(rule) == ("fail", 0, 0, "bytes")
    assert rule.contributors == []
    assert rule.fix is not None
    assert rule.fix.paths == ["/root/.cache/pip"]

    clean = with_caches()
    rule = only(evaluate(clean, Budget(max_cache=0)), "max_cache")
    assert (verdict(rule), rule.fix) == (("pass", 0, 0, "bytes"), None)


def test_max_dead_lists_layers_with_their_main_dead_category() -> None:
    rule = only(evaluate(sample_report(), Budget(max_dead="10MB")), "max_dead")
    assert verdict(rule) == ("fail", 35 * MB, 10 * MB, "bytes")
    assert facts(rule.contributors, "layer", "category") == [
        ("layer", 1, "cache", 30 * MB),
        ("layer", 2, "data", 5 * MB),
    ]
    assert rule.fix == Fix(kind="no-cache-write")  # mostly cache: do not write it at all
    assert only(evaluate(sample_report(), Budget(max_dead="35MB")), "max_dead").status == "pass"


def test_max_dead_fix_for_non_cache_dead_bytes() -> None:
    rule = only(evaluate(non_cache_dead(), Budget(max_dead="10MB")), "max_dead")
    assert facts(rule.contributors[:1], "layer", "category") == [("layer", 1, "other", 30 * MB)]
    assert rule.fix == Fix(kind="delete-in-same-run")


@pytest.mark.parametrize(
    ("rule_name", "unit"), [("max_growth", "bytes"), ("max_growth_percent", "percent")]
)
def test_growth_rules_are_skipped_without_a_baseline(rule_name: str, unit: str) -> None:
    result = evaluate(sample_report(), Budget.model_validate({rule_name: 5}))
    rule = only(result, rule_name)
    assert (rule.status, rule.actual, rule.unit, rule.skip_reason) == (
        "skip",
        None,
        unit,
        "needs-baseline",
    )
    assert result.passed is True
    assert result.baseline is None


def test_max_growth_fails_and_names_what_grew() -> None:
    baseline, current = grown_by_a_new_distribution()
    result = evaluate(current, Budget(max_growth="5MB"), baseline)
    rule = only(result, "max_growth")
    assert verdict(rule) == ("fail", 8 * MB, 5 * MB, "bytes")
    assert facts(rule.contributors, "package", "new") == [
        ("outside-python", None, False, 4 * MB),
        ("package", "rich", True, 4 * MB),
    ]
    assert rule.fix == Fix(kind="review-growth", images=["docker:app:main", "docker:app:pr"])
    assert result.baseline is not None
    assert (result.baseline.ref, result.baseline.bytes) == ("docker:app:main", 565 * MB)


def test_growth_contributors_split_caches_unowned_files_and_the_rest() -> None:
    baseline, current = grown_in_caches_and_unowned_files()
    rule = only(evaluate(current, Budget(max_growth=0), baseline), "max_growth")
    # requests shrank by 1 MB: not a contributor to growth; the unowned part grew by 3 MB.
    assert facts(rule.contributors, "path") == [
        ("outside-python", None, 5 * MB),
        ("cache", None, 3 * MB),
        ("unowned", None, 3 * MB),
    ]
    assert sum(x.bytes for x in rule.contributors) - 1 * MB == rule.actual == 10 * MB


def test_max_growth_passes_when_the_image_shrinks() -> None:
    baseline = sample_report(image_bytes_extra=10 * MB)
    rule = only(evaluate(sample_report(), Budget(max_growth=0), baseline), "max_growth")
    assert (verdict(rule), rule.fix) == (("pass", -10 * MB, 0, "bytes"), None)


def test_max_growth_percent() -> None:
    baseline = sample_report()  # 565 MB
    current = sample_report(image_bytes_extra=11_300_000)  # +2 %
    failing = only(
        evaluate(current, Budget(max_growth_percent="1.5%"), baseline), "max_growth_percent"
    )
    assert verdict(failing) == ("fail", 2.0, 1.5, "percent")
    assert facts(failing.contributors) == [("outside-python", 11_300_000)]
    passing = only(evaluate(current, Budget(max_growth_percent=2), baseline), "max_growth_percent")
    assert verdict(passing) == ("pass", 2.0, 2.0, "percent")


def test_max_growth_percent_is_skipped_for_an_empty_baseline() -> None:
    baseline = sample_report()
    baseline.image.bytes = 0
    rule = only(
        evaluate(sample_report(), Budget(max_growth_percent=5), baseline), "max_growth_percent"
    )
    assert (rule.status, rule.actual, rule.skip_reason) == ("skip", None, "empty-baseline")


def test_package_cap_fails_with_categories() -> None:
    rule = only(evaluate(sample_report(), Budget(packages={"Pandas": "80MB"})), "packages.pandas")
    assert verdict(rule) == ("fail", 120 * MB, 80 * MB, "bytes")
    assert (rule.package, rule.installs) == ("pandas", 1)
    assert facts(rule.contributors, "category") == [
        ("category", "native", 45 * MB),
        ("category", "source", 40 * MB),
        ("category", "bytecode", 31 * MB),
        ("category", "data", 3 * MB),
        ("category", "metadata", 1 * MB),
    ]
    assert rule.fix == Fix(kind="slim-package", package="pandas", category="native")


def test_package_cap_mostly_bytecode_fixes_that_package_not_max_bytecode() -> None:
    """Issue 13 item 8: the fix of a failing `packages.X` cap is about X."""
    report = sample_report()
    report.packages.append(package("botocore", bytecode=30 * MB, source=20 * MB, installer="uv"))
    rule = only(evaluate(report, Budget(packages={"botocore": "40MB"})), "packages.botocore")
    assert rule.status == "fail"
    assert rule.fix == Fix(
        kind="no-compile",
        installer="uv",
        env={"UV_COMPILE_BYTECODE": "1"},
        flags=["--no-compile-bytecode"],
        package="botocore",
    )


def test_package_cap_passes_and_matches_normalised_names() -> None:
    report = sample_report()
    report.packages.append(package("Zope.Interface", source=2 * MB))
    result = evaluate(report, Budget(packages={"zope_interface": "2MB", "NumPy": "53MB"}))
    assert [(r.rule, r.status, r.actual, r.package) for r in result.rules] == [
        ("packages.numpy", "pass", 53 * MB, "numpy"),
        ("packages.zope-interface", "pass", 2 * MB, "Zope.Interface"),
    ]


def test_package_cap_for_a_missing_distribution_is_skipped_not_failed() -> None:
    result = evaluate(sample_report(), Budget(packages={"torch": "1GB"}))
    rule = only(result, "packages.torch")
    assert (rule.status, rule.actual, rule.limit, rule.skip_reason, rule.package) == (
        "skip",
        None,
        10**9,
        "not-installed",
        "torch",
    )
    assert result.passed is True


def test_package_cap_sums_every_install_of_a_distribution() -> None:
    report = with_two_numpy_installs()
    rule = only(evaluate(report, Budget(packages={"numpy": "60MB"})), "packages.numpy")
    assert (rule.status, rule.actual, rule.installs) == ("fail", 63 * MB, 2)
    assert facts(rule.contributors[:1], "category") == [("category", "native", 40 * MB)]
    assert rule.fix == Fix(kind="single-environment", package="numpy", paths=[SITE, SYSTEM_SITE])
    python = only(evaluate(report, Budget(max_python=1)), "max_python")
    assert facts(python.contributors[1:2], "package", "path") == [
        ("package", "numpy", SITE, 53 * MB)
    ]


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
    assert all(r.fix is None for r in result.rules)


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
    assert set(dumped["rules"][0]) >= {"rule", "status", "actual", "limit", "message", "unit"}


def _pip_cache_suggestion(*, changed_by: list[int]) -> Suggestion:
    return Suggestion(
        id="pip-cache",
        saves_bytes=60 * MB,
        layers={"2": 60 * MB},
        confidence="exact",
        fix=Fix(
            kind="pip-no-cache-dir",
            installer="pip",
            env={"PIP_NO_CACHE_DIR": "1"},
            flags=["--no-cache-dir"],
            paths=["/root/.cache/pip"],
            changed_by=changed_by,
        ),
    )


def test_max_cache_fix_is_never_a_suggestion_about_a_cache_a_later_layer_deleted() -> None:
    # the final view holds a uv cache whose bytes the venv shares (no suggestion saves
    # anything there); the only cache suggestion is about a pip cache layer 4 deleted:
    # following it would not change what max_cache measures
    report = with_caches(Cache(path="/root/.cache/uv", kind="uv", bytes=21 * MB, exclusive_bytes=0))
    report.suggestions = [_pip_cache_suggestion(changed_by=[4])]
    rule = only(evaluate(report, Budget(max_cache=0)), "max_cache")
    assert rule.fix == Fix(
        kind="uv-no-cache", installer="uv", env={"UV_NO_CACHE": "1"}, paths=["/root/.cache/uv"]
    )
    # max_dead is about exactly that deleted cache: its fix is the suggestion's, with its saving
    dead = only(evaluate(report, Budget(max_dead=0)), "max_dead")
    assert dead.fix is not None
    assert (dead.fix.kind, dead.fix.bytes) == ("pip-no-cache-dir", 60 * MB)


def test_max_cache_fix_is_the_suggestion_about_a_visible_cache_with_its_saving() -> None:
    report = with_caches(
        Cache(path="/root/.cache/pip", kind="pip", bytes=60 * MB, exclusive_bytes=60 * MB)
    )
    for changed_by in ([], [4]):  # visible only, or visible and deleted elsewhere
        report.suggestions = [_pip_cache_suggestion(changed_by=changed_by)]
        rule = only(evaluate(report, Budget(max_cache=0)), "max_cache")
        assert rule.fix is not None
        assert (rule.fix.kind, rule.fix.bytes) == ("pip-no-cache-dir", 60 * MB)


def test_max_bytecode_without_a_bytecode_suggestion_has_no_install_flag_to_offer() -> None:
    # a report that carries advise's suggestions, none about bytecode: no install step
    # compiled any (the standard library's, a venv's own pip): --no-compile changes nothing
    report = sample_report()
    report.suggestions = []
    assert "suggestions" in report.model_fields_set
    rule = only(evaluate(report, Budget(max_bytecode="50MB")), "max_bytecode")
    assert rule.status == "fail"
    assert rule.fix == Fix(kind="raise-limit")
    # a saved report from before suggestions existed keeps the installer's switch
    old = type(report).model_validate(report.model_dump(exclude={"suggestions"}))
    assert "suggestions" not in old.model_fields_set
    rule = only(evaluate(old, Budget(max_bytecode="50MB")), "max_bytecode")
    assert rule.fix == Fix(kind="no-compile", installer="pip", flags=["--no-compile"])
