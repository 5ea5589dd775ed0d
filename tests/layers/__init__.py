"""Tests of pyimgsize.layers."""
