"""Tests of `pyimgsize.render`: golden files, ordering, truncation and the shared helpers."""
