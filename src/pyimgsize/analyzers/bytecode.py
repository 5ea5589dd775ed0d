"""Bytecode: all of it (`bytecode_bytes`), and its health (design.md §3; insight, not a
category): `.pyc` compiled for an interpreter the image does not have, `__pycache__` `.pyc`
without a source (never imported), `.py` without a usable `.pyc` in a site-packages directory
that otherwise ships bytecode (compiled at first import, in every container)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain, compress, repeat
from operator import and_, attrgetter, not_

from pyimgsize.analyzers.context import Context
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex, InodeSet, PycIndex
from pyimgsize.fs.merge import Inode
from pyimgsize.paths import BYTECODE_SUFFIXES, pyc_names
from pyimgsize.report import BytecodeBucket, BytecodeHealth

_STDLIB_DIR = re.compile(r"(^|/)lib/python(3\.\d+)t?$")
_PYTHON_EXE = re.compile(r"(^|/)bin/python(3\.\d+)$")
_SIZE = attrgetter("size")


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
    files = index.files
    for path in compress(files, map(str.__contains__, files, repeat("bin/python3."))):
        m = _PYTHON_EXE.search(path)
        if m:
            tags.add("cpython-" + m.group(2).replace(".", ""))
    return sorted(tags)


def _bucket(
    inodes: list[Inode], paths: list[str], hits: bytearray
) -> tuple[BytecodeBucket, str | None]:
    """The files, bytes and first path of the inodes that `hits` marks (parallel lists)."""
    sizes: Iterable[int] = map(_SIZE, compress(inodes, hits))
    return BytecodeBucket(files=sum(hits), bytes=sum(sizes)), next(compress(paths, hits), None)


def _unusable_sources(pycs: PycIndex, foreign_tags: set[str]) -> set[str]:
    """The sources whose every pyc was compiled for an interpreter the image does not have
    (`foreign_tags`): imported, they are compiled again, in every container. A legacy
    `<stem>.pyc` (no tag) is usable by any interpreter."""
    out: set[str] = set()
    if not foreign_tags:
        return out
    tag = pycs.tag
    for pyc in compress(
        pycs.paths, map(foreign_tags.__contains__, map(tag.__getitem__, pycs.paths))
    ):
        src = pyc_names(pyc)[0]
        if src is not None and all(tag[c] in foreign_tags for c in pycs.by_source[src]):
            out.add(src)
    return out


def _without_source(pycs: PycIndex, index: FileIndex) -> set[str]:
    """The bytecode files whose source name (PEP 3147) is not a visible file at its real path,
    or that have none: the candidates for `without_source` (the names a symlinked parent
    makes visible are checked one by one)."""
    files = index.files
    by_source = pycs.by_source
    gone = compress(by_source.values(), map(not_, map(files.__contains__, by_source)))
    out = set(chain.from_iterable(gone))
    if sum(map(len, pycs.by_source.values())) != len(pycs.paths):  # some have no source name
        out.update(set(pycs.paths).difference(chain.from_iterable(pycs.by_source.values())))
    return out


class BytecodeAnalyzer:
    """Reads `sites`, `site_files`; sets `bytecode_inodes` and `bytecode`."""

    metadata = ()

    def run(self, ctx: Context) -> None:
        index, fs = ctx.index, ctx.fs
        pycs = index.pycs
        tags = interpreter_tags(index)
        ctx.bytecode_inodes = InodeSet.of(pycs.sorted_paths, index, distinct_sorted=True)
        inodes, paths = ctx.bytecode_inodes.inodes, ctx.bytecode_inodes.paths
        # a tag is foreign when the image's interpreters are known and it is none of theirs
        foreign_tags = {
            t for t in set(pycs.tag.values()) if t is not None and tags and t not in tags
        }
        foreign, foreign_example = _bucket(
            inodes,
            paths,
            bytearray(map(foreign_tags.__contains__, map(pycs.tag.__getitem__, paths))),
        )
        # without source: a tagged (`__pycache__`) pyc whose source name is not visible, not
        # even through a symlinked parent
        candidates = _without_source(pycs, index)
        orphans = bytearray(len(paths))
        for i in compress(range(len(paths)), map(candidates.__contains__, paths)):
            src = pyc_names(paths[i])[0]
            orphans[i] = (
                pycs.tag[paths[i]] is not None
                and src is not None
                and src not in index.files
                and fs.lookup(src) is None
            )
        orphan, orphan_example = _bucket(inodes, paths, orphans)
        missing = BytecodeBucket()
        missing_example = None
        unusable = _unusable_sources(pycs, foreign_tags)
        for site in ctx.sites:
            files = ctx.site_files[site]
            if not any(map(str.endswith, files, repeat(BYTECODE_SUFFIXES))):
                continue
            sources = list(compress(files, map(str.endswith, files, repeat(".py"))))
            compiled = map(pycs.by_source.__contains__, sources)
            if unusable:
                compiled = map(and_, compiled, map(not_, map(unusable.__contains__, sources)))
            without = list(compress(sources, map(not_, compiled)))
            missing.files += len(without)
            missing.bytes += sum([index.files[p].inode.size for p in without])
            missing_example = missing_example or next(iter(without), None)
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
