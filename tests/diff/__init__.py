"""Tests of `pyimgsize.diff`: pairing, alignment, causes and the whole diff, as data."""
