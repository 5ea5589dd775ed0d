"""What a blob is, from its first bytes: gzip, zstd, a tar, or something else.

Compression is sniffed from magic bytes, never trusted from a file name or media type
(design.md §1). A tar is recognised by its `ustar` magic, by an all-zero first block (an empty
layer: just the end-of-archive marker), or by a valid header checksum (a pre-POSIX v7 header).
"""

from __future__ import annotations

from pyimgsize.layers.tar import header_checksum_ok

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def sniff(head: bytes) -> str:
    """'gzip', 'zstd', 'tar' or 'unknown' from a blob's first bytes (at least 512 for tar)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if len(head) >= 512:
        if head[257:262] == b"ustar":
            return "tar"
        if head[:512] == bytes(512):
            return "tar"  # an empty layer: just the end-of-archive marker
        if header_checksum_ok(head[:512]):
            return "tar"  # a pre-POSIX (v7) header
    return "unknown"
