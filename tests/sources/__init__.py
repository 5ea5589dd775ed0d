"""Tests of pyimgsize.sources."""
