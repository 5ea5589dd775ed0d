"""pyimgsize: where do the bytes of a container image go, Python-wise?"""

__version__ = "0.1.0"
