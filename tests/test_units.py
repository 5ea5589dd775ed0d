"""One unit rule everywhere: MB = 10**6, MiB = 2**20; tables in decimal units."""

from __future__ import annotations

import pytest

from pyimgsize.units import format_bytes, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("17", 17),
        ("600MB", 600_000_000),
        ("600 MB", 600_000_000),
        ("1.5GiB", 1_610_612_736),
        ("800kB", 800_000),
        ("1MiB", 1_048_576),
        (5, 5),
        (2.0, 2),
    ],
)
def test_parse_size(text: str | int | float, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "5%", "600MB extra", "-5MB", "5 XB", "1e3", -1, True])
def test_parse_size_rejects(bad: str | int | bool) -> None:
    with pytest.raises(ValueError, match=r"size"):
        parse_size(bad)


@pytest.mark.parametrize(
    ("n", "signed", "text"),
    [
        (0, False, "0 B"),
        (999, False, "999 B"),
        (1_000, False, "1.0 kB"),
        (53_200_000, False, "53.2 MB"),
        (2_500_000_000, False, "2.5 GB"),
        (-1_500, True, "-1.5 kB"),
        (12, True, "+12 B"),
        (0, True, "0 B"),
    ],
)
def test_format_bytes(n: int, signed: bool, text: str) -> None:
    assert format_bytes(n, signed=signed) == text
