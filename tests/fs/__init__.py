"""Tests of pyimgsize.fs."""
