"""Bytecode: all of it (`bytecode_bytes`), and its health (design.md §3; insight, not a
category): `.pyc` compiled for an interpreter the image does not have, `__pycache__` `.pyc`
without a source (never imported), `.py` without a usable `.pyc` in a site-packages directory
that otherwise ships bytecode (compiled at first import, in every container)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyimgsize.analyzers.context import Context
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex, InodeSet
from pyimgsize.paths import BYTECODE_SUFFIXES, pyc_names
from pyimgsize.report import BytecodeBucket, BytecodeHealth

_STDLIB_DIR = re.compile(r"(^|/)lib/python(3\.\d+)t?$")
_PYTHON_EXE = re.compile(r"(^|/)bin/python(3\.\d+)$")


def interpreter_tags(index: FileIndex) -> list[str]:
    """Cache tags of the interpreters in the image, from stdlib dirs and bin/python3.X."""
    tags: set[str] = set()
    # the substring tests only skip what the patterns cannot match
    for d in index.dirs:
        if "lib/python3." not in d:
            continue
        m = _STDLIB_DIR.search(d)
        if m and (f"{d}/os.py" in index.files or f"{d}/os.pyc" in index.files):
            tags.add("cpython-" + m.group(2).replace(".", ""))
    for path in index.files:
        if "bin/python3." not in path:
            continue
        m = _PYTHON_EXE.search(path)
        if m:
            tags.add("cpython-" + m.group(2).replace(".", ""))
    return sorted(tags)


def _has_usable_pyc(
    compiled: Iterable[str], tags: list[str], pyc_tags: dict[str, str | None]
) -> bool:
    """Whether one of these pycs is one the image's interpreters can import.

    A legacy `<stem>.pyc`, or a `__pycache__` pyc for one of the image's interpreter tags (any
    tag when the image's interpreters are unknown): a source whose only pyc was compiled for
    another interpreter is compiled again at first import, in every container.
    """
    for pyc in compiled:
        tag = pyc_tags[pyc]
        if tag is None or not tags or tag in tags:
            return True
    return False


class BytecodeAnalyzer:
    """Reads `sites`, `site_files`; sets `bytecode_inodes` and `bytecode`."""

    metadata = ()

    def run(self, ctx: Context) -> None:
        index, fs = ctx.index, ctx.fs
        pycs = index.pycs
        tags = interpreter_tags(index)
        ctx.bytecode_inodes = InodeSet.of(pycs.paths, index)
        foreign = BytecodeBucket()
        orphan = BytecodeBucket()
        missing = BytecodeBucket()
        foreign_example = orphan_example = missing_example = None
        for inode, path in ctx.bytecode_inodes.items():
            src, tag = pyc_names(path)  # read again here rather than kept for every pyc
            if tag is not None and tags and tag not in tags:
                foreign.files += 1
                foreign.bytes += inode.size
                foreign_example = foreign_example or path
            if (
                tag is not None
                and src is not None
                and src not in index.files
                and fs.lookup(src) is None
            ):
                orphan.files += 1
                orphan.bytes += inode.size
                orphan_example = orphan_example or path
        for site in ctx.sites:
            files = ctx.site_files[site]
            if not any(p.endswith(BYTECODE_SUFFIXES) for p in files):
                continue
            for p in files:
                if p.endswith(".py") and not _has_usable_pyc(
                    pycs.by_source.get(p, ()), tags, pycs.tag
                ):
                    missing.files += 1
                    missing.bytes += index.files[p].inode.size
                    missing_example = missing_example or p
        if foreign.files:
            ctx.problems.append(
                Finding(
                    "foreign-bytecode",
                    "bytecode",
                    foreign_example,
                    facts={"files": foreign.files, "bytes": foreign.bytes, "interpreters": tags},
                )
            )
        if orphan.files:
            ctx.problems.append(
                Finding(
                    "orphan-bytecode",
                    "bytecode",
                    orphan_example,
                    facts={"files": orphan.files, "bytes": orphan.bytes},
                )
            )
        if missing.files:
            ctx.problems.append(
                Finding(
                    "missing-bytecode", "bytecode", missing_example, facts={"files": missing.files}
                )
            )
        ctx.bytecode = BytecodeHealth(
            interpreters=tags,
            foreign_tag=foreign,
            without_source=orphan,
            source_without_pyc=missing,
        )
