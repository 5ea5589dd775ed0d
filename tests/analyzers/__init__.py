"""Tests of pyimgsize.analyzers."""
