"""`diff.causes`: each kind of cause and the facts it carries (hints, categories, layers),
on hand-built reports. Every diff here also checks that the causes add up to the shipped
delta."""

from __future__ import annotations

import pytest

from pyimgsize.diff import diff_reports
from pyimgsize.report import DiffCause, DiffReport, InspectReport, Package
from tests.diff_samples import BASE, MB, cache, cats, install_pair, layer, pkg, report


def _diff(a: InspectReport, b: InspectReport) -> DiffReport:
    diff = diff_reports(a, b)
    assert sum(c.bytes for c in diff.causes) == diff.totals.layer_bytes.delta
    return diff


def _one(diff: DiffReport, kind: str) -> DiffCause:
    (cause,) = [c for c in diff.causes if c.kind == kind]
    return cause


def _pip(name: str, bytecode: int, installer: str | None = "pip") -> Package:
    return pkg(name, "1", cats(bytecode=bytecode, source=1_000), installer=installer)


@pytest.mark.parametrize(
    ("installer", "grow", "hint"),
    [
        ("uv", True, "uv-compile-bytecode"),
        ("uv", False, "uv-compile-bytecode"),
        ("pip", True, "no-compile"),
        ("pip", False, "no-compile"),
        (None, True, "no-compile"),
    ],
)
def test_bytecode_hint_when_most_distributions_flip(
    installer: str | None, grow: bool, hint: str
) -> None:
    without = [_pip("a", 0, installer), _pip("b", 0, installer)]
    with_pyc = [_pip("a", 500, installer), _pip("b", 300, installer)]
    a, b = install_pair(without, with_pyc) if grow else install_pair(with_pyc, without)
    cause = _one(_diff(a, b), "bytecode")
    assert (cause.bytes, cause.hint) == ((800 if grow else -800), hint)
    assert [(p.name, p.bytes, p.installer) for p in cause.packages] == [
        ("a", 500 if grow else -500, installer),
        ("b", 300 if grow else -300, installer),
    ]


def test_no_bytecode_hint_when_most_distributions_only_grew() -> None:
    # One of three went from none to some; two just grew: no switch explains that.
    a, b = install_pair(
        [_pip("a", 0), _pip("b", 100), _pip("c", 100)],
        [_pip("a", 50), _pip("b", 200), _pip("c", 200)],
    )
    cause = _one(_diff(a, b), "bytecode")
    assert (cause.bytes, cause.hint) == (250, None)


def test_uv_hint_needs_half_of_the_flipped_ones_installed_by_uv() -> None:
    a, b = install_pair(
        [_pip("a", 0, "uv"), _pip("b", 0, "pip"), _pip("c", 0, "pip")],
        [_pip("a", 10, "uv"), _pip("b", 10, "pip"), _pip("c", 10, "pip")],
    )
    assert _one(_diff(a, b), "bytecode").hint == "no-compile"


def test_version_change_category_that_changed_most() -> None:
    a, b = install_pair(
        [pkg("x", "1", cats(source=1_000, data=100)), pkg("y", "1", cats(source=10))],
        [pkg("x", "2", cats(source=4_000, data=50)), pkg("y", "2", cats(source=10))],
    )
    cause = _one(_diff(a, b), "versions")
    assert cause.bytes == 2_950
    assert [(p.name, p.version_a, p.version_b, p.bytes) for p in cause.packages] == [
        ("x", "1", "2", 2_950),
        ("y", "1", "2", 0),
    ]
    assert cause.category is not None
    assert cause.category.model_dump() == {"category": "source", "bytes": 3_000, "only": False}
    assert cause.besides_bytecode is False


def test_unowned_site_packages_files() -> None:
    pa = [pkg("x", "1", cats(source=100))]
    install = layer(1, "i", "RUN pip install x", 100, python=cats(source=100))
    grown = layer(1, "j", "RUN pip install x", 170, python=cats(source=170))
    a = report("a", [BASE, install], pa)
    b = report("b", [BASE, grown], pa, unowned=70)
    assert [(c.kind, c.bytes) for c in _diff(a, b).causes] == [("unowned", 70)]


def test_cache_changed_in_place_and_stray_wheel() -> None:
    install = layer(1, "i", "RUN pip install x", 500)
    grown = layer(1, "j", "RUN pip install x", 900)
    a = report("a", [BASE, install], [], caches=[cache("/root/.cache/pip", "pip", 500)])
    b = report(
        "b",
        [BASE, grown],
        [],
        caches=[cache("/root/.cache/pip", "pip", 600), cache("/tmp/x.whl", "wheel", 300)],
    )
    cause = _one(_diff(a, b), "caches")
    assert (cause.bytes, cause.cache_bytes) == (400, 400)
    assert [(p.path, p.kind, p.change, p.bytes) for p in cause.paths] == [
        ("/root/.cache/pip", "pip", "changed", 100),
        ("/tmp/x.whl", "wheel", "added", 300),
    ]


def test_outside_python_when_the_first_layer_differs() -> None:
    other_base = layer(0, "sha256:other", BASE.created_by, 70 * MB)
    app = layer(1, "sha256:app", "RUN echo hi > /hi", 10)
    a = report("a", [BASE, app], [])
    b = report("b", [other_base, app], [])
    cause = _one(_diff(a, b), "outside")
    assert (cause.bytes, cause.hint, cause.layer) == (-10 * MB, "first-layer-differs", None)


def test_outside_python_names_the_layer_holding_most_of_it() -> None:
    small = layer(1, "s", "RUN apt-get install -y a", 1_000)
    big = layer(2, "g", "RUN apt-get install -y b", 5_000)
    a = report("a", [BASE, small], [])
    b = report("b", [BASE, small.model_copy(update={"diff_id": "s2", "bytes": 1_500}), big], [])
    cause = _one(_diff(a, b), "outside")
    assert cause.bytes == 5_500
    assert cause.layer is not None
    assert (cause.layer.side, cause.layer.index, cause.layer.bytes) == ("b", 2, 5_000)
    assert cause.layer.created_by == "RUN apt-get install -y b"


def test_a_tie_between_layers_names_the_lower_one() -> None:
    one = layer(1, "one", "RUN one", 1_000)
    two = layer(2, "two", "RUN two", 1_000)
    a = report("a", [BASE], [])
    b = report("b", [BASE, one, two], [])
    cause = _one(_diff(a, b), "outside")
    assert cause.layer is not None
    assert (cause.layer.side, cause.layer.index) == ("b", 1)
