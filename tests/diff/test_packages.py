"""`diff.packages`: which distribution of A pairs with which of B, and the package rows."""

from __future__ import annotations

import pytest

from pyimgsize.diff import diff_reports
from pyimgsize.names import normalize_name
from pyimgsize.report import CATEGORIES, Delta, DiffReport, Package
from tests.diff_samples import SITE, VENV, added_removed_pair, cats, install_pair, pkg

ZERO = dict.fromkeys(CATEGORIES, 0)


def only(**changes: int) -> dict[str, int]:
    return {**ZERO, **changes}


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Foo_Bar", "foo-bar"), ("foo.bar", "foo-bar"), ("FOO--_.bar", "foo-bar"), ("six", "six")],
)
def test_normalize_name(name: str, normal: str) -> None:
    assert normalize_name(name) == normal


def _two(pa: list[Package], pb: list[Package]) -> DiffReport:
    return diff_reports(*install_pair(pa, pb))


def test_pairing_uses_normalised_names() -> None:
    diff = _two(
        [pkg("PyYAML", "6.0", cats(source=100))], [pkg("pyyaml", "6.0.1", cats(source=150))]
    )
    assert [(p.name, p.status, p.delta, p.version_a, p.version_b) for p in diff.packages] == [
        ("pyyaml", "changed", 50, "6.0", "6.0.1")
    ]


def test_added_and_removed_sorted_by_absolute_delta_then_name() -> None:
    diff = diff_reports(*added_removed_pair())
    assert [(p.name, p.status, p.a, p.b, p.delta) for p in diff.packages] == [
        ("big", "added", None, 1000, 1000),
        ("new-a", "added", None, 300, 300),
        ("new-b", "added", None, 300, 300),
        ("old", "removed", 300, None, -300),
        ("tiny", "added", None, 1, 1),
        ("keep", "same", 10, 10, 0),
    ]
    assert diff.packages[3].categories == only(source=-300)
    assert diff.packages[3].version_a == "1"
    assert diff.packages[3].version_b is None
    added, removed = diff.causes
    assert (added.kind, added.bytes) == ("added", 1_601)
    assert [(p.name, p.version_a, p.version_b, p.bytes) for p in added.packages] == [
        ("big", None, "3", 1_000),
        ("new-a", None, "2", 300),
        ("new-b", None, "2", 300),
        ("tiny", None, None, 1),
    ]
    assert (removed.kind, removed.bytes) == ("removed", -300)
    assert [(p.name, p.version_a, p.version_b, p.bytes) for p in removed.packages] == [
        ("old", "1", None, -300)
    ]


def test_same_name_in_two_site_packages_pairs_by_path() -> None:
    diff = _two(
        [
            pkg("pip", "23.0", cats(source=100), site=SITE),
            pkg("pip", "24.0", cats(source=200), site=VENV),
        ],
        [
            pkg("pip", "23.0", cats(source=100), site=SITE),
            pkg("pip", "24.2", cats(source=260), site=VENV),
        ],
    )
    assert [(p.site_packages, p.status, p.delta, p.version_b) for p in diff.packages] == [
        (VENV, "changed", 60, "24.2"),
        (SITE, "same", 0, "23.0"),
    ]


def test_ambiguous_move_is_not_paired() -> None:
    other = "/srv/app/lib/python3.11/site-packages"
    diff = _two(
        [
            pkg("foo", "1", cats(source=100), site=SITE),
            pkg("foo", "1", cats(source=100), site=VENV),
        ],
        [pkg("foo", "1", cats(source=100), site=other)],
    )
    assert sorted((p.site_packages, p.status) for p in diff.packages) == [
        (VENV, "removed"),
        (other, "added"),
        (SITE, "removed"),
    ]


def test_same_version_content_change_is_changed() -> None:
    diff = _two(
        [pkg("foo", "1", cats(source=100, data=50))], [pkg("foo", "1", cats(source=100, data=80))]
    )
    (foo,) = diff.packages
    assert (foo.status, foo.delta, foo.categories) == ("changed", 30, only(data=30))
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.layer) == ("rebuilt", 30, None)
    assert [(p.name, p.version_a, p.version_b, p.bytes) for p in cause.packages] == [
        ("foo", "1", "1", 30)
    ]
    assert cause.category is not None
    assert cause.category.model_dump() == {"category": "data", "bytes": 30, "only": True}


def test_moved_distribution_keeps_a_site_packages() -> None:
    diff = _two(
        [pkg("foo", "1", cats(source=10), site=SITE)], [pkg("foo", "1", cats(source=10), site=VENV)]
    )
    (foo,) = diff.packages
    assert (foo.status, foo.site_packages, foo.moved_from, foo.delta) == ("changed", VENV, SITE, 0)
    assert diff.causes == []


def test_percent_is_null_when_a_is_zero() -> None:
    diff = _two([], [pkg("foo", "1", cats(source=100))])
    assert diff.totals.python_bytes.percent is None
    assert diff.totals.bytecode_bytes.percent is None
    assert diff.totals.bytes.percent == 0.0  # 100 / 80_000_000, rounded to two decimals
    assert Delta(a=0, b=0, delta=0).percent is None
