"""The bulk paths of the file-list readers give exactly what the row-by-row rules give."""

from __future__ import annotations

import csv
import io
import random

import pytest

from pyimgsize.analyzers.ownership.base import Listing
from pyimgsize.analyzers.ownership.record import _first_fields

_ALPHABET = ["a", "b", ".", "..", "/", "//", " ", "\t", ",", "x.py", "-", "é"]


def _entry(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 7)))


@pytest.mark.parametrize(
    "base", ["usr/lib/python3/site-packages", "a/.hidden/site", "", "/abs", "a//b", "a/../b"]
)
def test_add_all_equals_add_listed_row_by_row(base: str) -> None:
    rng = random.Random(f"add-all-{base}")
    for _ in range(4000):
        entries = [_entry(rng) for _ in range(rng.randint(0, 6))]
        bulk, one_by_one = Listing(None, None), Listing(None, None)
        bulk.add_all(base, entries)
        one_by_one.files = []
        for raw in entries:
            if raw.strip():
                one_by_one.add_listed(base, raw.strip())
        assert (bulk.files, bulk.climbing) == (one_by_one.files, one_by_one.climbing), entries


def test_first_fields_equals_csv_reader() -> None:
    rng = random.Random("first-fields")
    pieces = ["a", "b/c.py", ",", "\n", "\r\n", '"', "sha256=x", " ", "1"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        try:
            expected: list[str] | type[csv.Error] = [
                row[0] for row in csv.reader(io.StringIO(text)) if row
            ]
        except csv.Error:
            expected = csv.Error
        try:
            got: list[str] | type[csv.Error] = list(_first_fields(text))
        except csv.Error:
            got = csv.Error
        assert got == expected, repr(text)
