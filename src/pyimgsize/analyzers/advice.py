"""Suggestions: what to change in the Dockerfile, each with its measured saving (design.md §8).

Every suggestion claims inodes: the bytes a layer stores that the fix would not store. An
inode is claimed once, by the first generator that wants it, in this order (exact ones before
heuristic ones): caches, stray wheels, foreign bytecode, rewritten-unchanged copies, other
deleted-later files, bytecode, then the heuristics. So the savings add up.

- A cache (pip, uv, poetry; visible, or deleted by a later layer) saves its exclusive inodes
  only: a uv cache hardlinked into the venv keeps the shared bytes alive in the venv.
- `deleted-later` / `rewritten-unchanged` are dead inodes (design.md §2). A dead inode whose
  path a later layer stores again with the same size was rewritten unchanged (`chown -R`,
  `chmod`, `touch`): the fix (ownership in the same layer) drops the later copy, so the saving
  sits in the rewriting layer.
- `bytecode` is the importable `.pyc` an installer compiled: of distributions installed by
  pip/uv/poetry (not the venv's own pip/setuptools/wheel, which `python -m venv` compiled), and
  unowned ones in a site-packages directory a uv install compiled whole.

No file contents are read beyond what the other analyzers read (dpkg lists for the build
toolchain): only paths, sizes, inodes, RECORD-based ownership, INSTALLER. Words are made in
`pyimgsize.render.advice_words`.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, islice, repeat
from operator import and_, attrgetter, is_, is_not, le, not_

from pyimgsize.analyzers.context import Context
from pyimgsize.analyzers.ownership import Distribution
from pyimgsize.check.table import no_compile
from pyimgsize.fs.index import DPKG_LISTS, dead_inodes
from pyimgsize.fs.merge import Inode
from pyimgsize.names import normalize_name
from pyimgsize.report import (
    Evidence,
    Fix,
    FixKind,
    Suggestion,
    SuggestionId,
    Tradeoff,
)

__all__ = ["EVIDENCE_CAP", "AdviceAnalyzer", "advise", "written_by"]

EVIDENCE_CAP = 10
"""At most this many files are named as evidence of one suggestion (largest first)."""

_CACHE_IDS: dict[str, SuggestionId] = {
    "pip": "pip-cache",
    "uv": "uv-cache",
    "poetry": "poetry-cache",
}
_NO_CACHE: dict[str, Fix] = {
    "pip": Fix(
        kind="pip-no-cache-dir",
        installer="pip",
        env={"PIP_NO_CACHE_DIR": "1"},
        flags=["--no-cache-dir"],
    ),
    "uv": Fix(kind="uv-no-cache", installer="uv", env={"UV_NO_CACHE": "1"}, flags=["--no-cache"]),
    "poetry": Fix(kind="poetry-no-cache", installer="poetry", flags=["--no-cache"]),
}
_CONVENTIONAL = re.compile(r"(^|/)\.cache/(pip|uv|pypoetry)(/|$)")
_CONVENTIONAL_KIND = {"pip": "pip", "uv": "uv", "pypoetry": "poetry"}
_INSTALLER_DISTS = frozenset({"pip", "setuptools", "wheel"})
_TOOLCHAIN = re.compile(
    r"^(gcc|g\+\+|cpp|gfortran|clang)(-\d+(\.\d+)?)?$"
    r"|^(gcc|g\+\+|cpp|gfortran)-\d+-[a-z0-9_]+(-[a-z0-9_]+)*-linux-gnu[a-z]*$"
    r"|^build-essential$|^binutils(-.+)?$|-dev$"
)
_HEADER = re.compile(r"\.(h|hh|hpp|hxx)$|\.a$")
_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".a", "\n")
_PY_VERSION = re.compile(r"/python(\d+(?:\.\d+)?)/")
_SITE_PRIORITY = {"pythonpath": 0, "user": 1, "local": 2, "system": 3, "other": 4}
_SIZE = attrgetter("size")
_LAYER = attrgetter("layer")


def written_by(created_by: str | None, index: int) -> str:
    """How a layer was made, from its history entry: run, copy, base or other."""
    text = (created_by or "").strip()
    nop = "#(nop)"
    if nop in text:
        text = text.split(nop, 1)[1].strip()
        return "copy" if text.startswith(("COPY ", "ADD ")) else "other"
    if text.startswith(("COPY ", "ADD ")):
        return "copy"
    if text.startswith(("RUN ", "/bin/sh -c ", "|")) or text.startswith("/bin/bash -c "):
        return "run"
    return "base" if index == 0 else "other"


@dataclass
class _Claim:
    """Inodes claimed for one suggestion, with the layer each saving sits in."""

    layers: Counter[int] = field(default_factory=Counter)
    files: int = 0
    evidence: list[tuple[int, str, int]] = field(default_factory=list)  # (bytes, path, layer)
    packages: set[str] = field(default_factory=set)
    changed_by: set[int] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    linked: int = 0

    def add(self, size: int, path: str, layer: int) -> None:
        self.layers[layer] += size
        self.files += 1
        self.evidence.append((size, path, layer))
        if len(self.evidence) >= 8 * EVIDENCE_CAP:
            # only the largest are named: a claim of a million files keeps a few (a stable
            # sort keeps equal ones in the order added, so pruning early changes nothing)
            self.evidence = _top_evidence(self.evidence)

    def add_all(self, inodes: list[Inode], paths: list[str]) -> None:
        """`add` of each inode with its path (parallel lists), in order: summed by layer in
        one C-level pass per layer, keeping only the largest as evidence."""
        self.files += len(inodes)
        sizes = [inode.size for inode in inodes]
        stored_by = dict.fromkeys(map(_LAYER, inodes))
        layers: Iterable[int]
        if len(stored_by) == 1:
            (layer,) = stored_by
            self.layers[layer] += sum(sizes)
            layers = repeat(layer)
        else:
            layers = [inode.layer for inode in inodes]
            for layer in stored_by:
                self.layers[layer] += sum(compress(sizes, map(layer.__eq__, layers)))
        # only files at least as large as the EVIDENCE_CAP-th largest can be named
        least = min(heapq.nlargest(EVIDENCE_CAP, sizes), default=0)
        rows = zip(sizes, paths, layers, strict=False)  # `layers` may repeat one
        largest = heapq.nsmallest(
            EVIDENCE_CAP, compress(rows, map(least.__le__, sizes)), key=_evidence_order
        )
        self.evidence = _top_evidence([*self.evidence, *largest])


def _evidence_order(e: tuple[int, str, int]) -> tuple[int, str]:
    return (-e[0], e[1])


def _top_evidence(evidence: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """The `EVIDENCE_CAP` largest, by bytes then path (in the order added when both tie)."""
    return sorted(evidence, key=_evidence_order)[:EVIDENCE_CAP]


class _View:
    """What the suggestions are computed from, out of the shared context."""

    def __init__(self, ctx: Context) -> None:
        self.fs = ctx.fs
        self.index = ctx.index
        self.dists = ctx.distributions
        self.sites = ctx.sites
        self.site_kinds = {sp.path[1:]: sp.kind for sp in ctx.site_packages}
        self.caches = ctx.cache_files
        self.dead_cache_kinds = ctx.dead_cache_kinds
        self.env = ctx.env
        self.created_by = [layer.created_by for layer in ctx.loaded.layers]
        self.interpreters = ctx.bytecode.interpreters
        self.bytecode = ctx.bytecode_inodes


class _Advisor:
    def __init__(self, ctx: Context) -> None:
        self.x = _View(ctx)
        self.claimed: set[Inode] = set()
        self.claimed_paths: list[str] = []
        """Sorted: the paths of files with one visible path claimed in bulk (the installers'
        bytecode), whose inodes are not in `claimed`: no set of a million inodes for them."""
        self.out: list[Suggestion] = []
        self.writer = [written_by(c, i) for i, c in enumerate(self.x.created_by)]
        self.dead: list[Inode] = [inode for inode in dead_inodes(ctx.fs) if inode.size > 0]
        self.owner: dict[str, Distribution] = ctx.owner

    # --- helpers --------------------------------------------------------------------------

    def _is_claimed(self, inode: Inode, path: str) -> bool:
        """Whether a suggestion claimed `inode`, the file at `path` (or a dead inode)."""
        if inode in self.claimed:
            return True
        bulk = self.claimed_paths
        if not bulk or inode.links != 1:
            return False
        at = bisect_left(bulk, path)
        return at < len(bulk) and bulk[at] == path

    def _take(self, inode: Inode, path: str) -> bool:
        """Claim `inode` (the file at `path`, or a dead inode's last path) unless claimed
        already or empty."""
        if inode.size == 0 or self._is_claimed(inode, path):
            return False
        self.claimed.add(inode)
        return True

    def _emit(
        self,
        sid: SuggestionId,
        claim: _Claim,
        *,
        exact: bool,
        kind: FixKind | Fix,
        installer: str | None = None,
        tradeoff: Tradeoff | None = None,
    ) -> None:
        total = sum(claim.layers.values())
        if total <= 0:
            return
        writers = {self.writer[i] for i in claim.layers}
        evidence = _top_evidence(claim.evidence)
        base = kind if isinstance(kind, Fix) else Fix(kind=kind, installer=installer)
        fix = base.model_copy(
            update={
                "suggestion": sid,
                "layer": max(claim.layers, key=lambda i: (claim.layers[i], -i)),
                "written_by": writers.pop() if len(writers) == 1 else "other",
                "paths": sorted(f"/{p}" for p in claim.paths),
                "changed_by": sorted(claim.changed_by),
                "linked_bytes": claim.linked,
            }
        )
        self.out.append(
            Suggestion(
                id=sid,
                saves_bytes=total,
                layers={str(k): v for k, v in sorted(claim.layers.items()) if v},
                confidence="exact" if exact else "heuristic",
                packages=sorted(claim.packages, key=str.lower),
                evidence=[Evidence(path=f"/{p}", bytes=b, layer=li) for b, p, li in evidence],
                files=claim.files,
                fix=fix,
                tradeoff=tradeoff,
            )
        )

    def _by_writer(self, claims: Mapping[str, _Claim]) -> Iterable[tuple[str, _Claim]]:
        return sorted(claims.items())

    # --- caches ---------------------------------------------------------------------------

    def caches(self) -> None:
        claims: dict[tuple[str, str], _Claim] = defaultdict(_Claim)
        for c in self.x.caches:
            if c.kind == "wheel":
                continue
            prefix = f"{c.path}/"
            seen: set[int] = set()
            for p in sorted(c.paths):
                inode = self.x.index.files[p].inode
                if id(inode) in seen:
                    continue
                seen.add(id(inode))
                links = self.x.index.paths_of(inode, p)
                claim = claims[(c.kind, self.writer[inode.layer])]
                claim.paths.add(c.path)
                if not all(lp.startswith(prefix) for lp in links):
                    claim.linked += inode.size
                    continue
                if self._take(inode, p):
                    claim.add(inode.size, p, inode.layer)
        for inode in self.dead:
            path = inode.dead_path or ""
            found = self._dead_cache(path)
            if found is None or not self._take(inode, path):
                continue
            root, kind = found
            claim = claims[(kind, self.writer[inode.layer])]
            claim.add(inode.size, path, inode.layer)
            claim.changed_by.update(_deleter(inode))
            claim.paths.add(root)
        for (kind, _writer), claim in sorted(claims.items()):
            self._emit(_CACHE_IDS[kind], claim, exact=True, kind=_NO_CACHE[kind])

    def _dead_cache(self, path: str) -> tuple[str, str] | None:
        """(cache root, kind) of a dead path inside a pip/uv/poetry cache, else None."""
        for prefix, kind in self.x.dead_cache_kinds.items():
            if path.startswith(prefix) and kind != "wheel":
                return prefix[:-1], kind
        m = _CONVENTIONAL.search(path)
        if m is None:
            return None
        return path[: m.end(2)], _CONVENTIONAL_KIND[m.group(2)]

    # --- stray wheels and dead files ------------------------------------------------------

    def _fix_for(self, writer: str) -> FixKind:
        return "delete-in-same-run" if writer == "run" else "multi-stage"

    def stray_wheels(self) -> None:
        claims: dict[str, _Claim] = defaultdict(_Claim)
        for c in self.x.caches:
            if c.kind != "wheel":
                continue
            inode = self.x.index.files[c.path].inode
            links = self.x.index.paths_of(inode, c.path)
            if any(not lp.endswith(".whl") for lp in links) or not self._take(inode, c.path):
                continue
            claims[self.writer[inode.layer]].add(inode.size, c.path, inode.layer)
        for inode in self.dead:
            path = inode.dead_path or ""
            if path.endswith(".whl") and self._take(inode, path):
                claim = claims[self.writer[inode.layer]]
                claim.add(inode.size, path, inode.layer)
                claim.changed_by.update(_deleter(inode))
        for writer, claim in self._by_writer(claims):
            self._emit("stray-wheels", claim, exact=True, kind=self._fix_for(writer))

    def rewritten_and_deleted(self) -> None:
        rewritten: dict[str, _Claim] = defaultdict(_Claim)
        deleted: dict[str, _Claim] = defaultdict(_Claim)
        for inode in self.dead:
            path = inode.dead_path or ""
            now = self.x.index.files.get(path)
            if (
                now is not None
                and now.inode.size == inode.size
                and now.inode.layer > inode.layer
                and not self._is_claimed(now.inode, path)
            ):
                # the later copy is what the fix (ownership/mode in the same layer) drops
                if not self._take(inode, path):
                    continue
                claim = rewritten[self.writer[now.inode.layer]]
                claim.add(inode.size, path, now.inode.layer)
                claim.changed_by.add(now.inode.layer)
                continue
            if not self._take(inode, path):
                continue
            claim = deleted[self.writer[inode.layer]]
            claim.add(inode.size, path, inode.layer)
            claim.changed_by.update(_deleter(inode))
        for writer, claim in self._by_writer(rewritten):
            self._emit(
                "rewritten-unchanged",
                claim,
                exact=True,
                kind="same-layer-attributes" if writer == "run" else "multi-stage",
            )
        for writer, claim in self._by_writer(deleted):
            self._emit("deleted-later", claim, exact=True, kind=self._fix_for(writer))

    # --- bytecode -------------------------------------------------------------------------

    def foreign_bytecode(self) -> None:
        tags = set(self.x.interpreters)
        if not tags:
            return
        claim = _Claim()
        files, pyc_tags = self.x.index.files, self.x.index.pycs.tag
        foreign = {t for t in set(pyc_tags.values()) if t is not None and t not in tags}
        if not foreign:
            return
        paths = self.x.index.pycs.sorted_paths
        for path in compress(paths, map(foreign.__contains__, map(pyc_tags.__getitem__, paths))):
            f = files[path]
            if not self._take(f.inode, path):
                continue
            claim.add(f.inode.size, path, f.inode.layer)
            d = self.owner.get(path)
            if d is not None:
                claim.packages.add(d.name)
        self._emit("foreign-bytecode", claim, exact=True, kind="drop-foreign-bytecode")

    def _site_of(self, path: str) -> str | None:
        for s in self.x.sites:
            if path.startswith(f"{s}/"):
                return s
        return None

    def _installer_in_venv(self, d: Distribution) -> bool:
        return (
            normalize_name(d.name) in _INSTALLER_DISTS and self.x.site_kinds.get(d.site) == "venv"
        )

    def bytecode(self) -> None:
        claims: dict[str, _Claim] = defaultdict(_Claim)
        # site-packages (and layer) where uv compiled: uv compiles the whole directory
        uv_compiled: set[tuple[str, int]] = set()
        files, pycs = self.x.index.files, self.x.index.pycs
        if any(d.installer == "uv" for d in self.x.dists):
            for path in pycs.paths:
                d = self.owner.get(path)
                if d is not None and d.installer == "uv":
                    uv_compiled.add((d.site, files[path].inode.layer))
        compileall = [
            writer == "run" and "compileall" in (created_by or "")
            for writer, created_by in zip(self.writer, self.x.created_by, strict=True)
        ]
        # the distributions whose bytecode an installer compiled (decided once each)
        compiled_by_installer = {
            id(d): d.installer
            for d in self.x.dists
            if d.installer is not None
            and d.installer in ("pip", "uv", "poetry")
            and not self._installer_in_venv(d)
        }
        tags = set(self.x.interpreters)
        foreign = {t for t in set(pycs.tag.values()) if t is not None and tags and t not in tags}

        def compiled_by(path: str, inode: Inode, d: Distribution | None) -> str | None:
            """Who compiled this pyc, when its bytes are an installer's to claim."""
            if foreign and pycs.tag[path] in foreign:
                return None
            if d is not None:
                return compiled_by_installer.get(id(d))
            if not uv_compiled:
                return None  # unowned bytecode counts only where uv compiled
            site = self._site_of(path)
            return "uv" if site is not None and (site, inode.layer) in uv_compiled else None

        def take(path: str, inode: Inode, d: Distribution | None) -> None:
            compiler = compiled_by(path, inode, d)
            if compiler is None or not self._take(inode, path):
                return
            claim = claims["compileall" if compileall[inode.layer] else compiler]
            claim.add(inode.size, path, inode.layer)
            if d is not None:
                claim.packages.add(d.name)

        # Each inode once (`bytecode_inodes`): one whose pyc paths are several (hard links)
        # is claimed through the first of them (sorted) that an installer compiled, one by one.
        bytecode = self.x.bytecode
        inodes, paths = bytecode.inodes, bytecode.paths
        if not bytecode.one_path_each():
            for inode, path in bytecode.items():
                if inode.links != 1:
                    for p in sorted(q for q in self.x.index.paths_of(inode, path) if q in pycs.tag):
                        take(p, inode, self.owner.get(p))
            single = [inode.links == 1 for inode in inodes]
            inodes, paths = list(compress(inodes, single)), list(compress(paths, single))
        # Those with one path are decided in bulk: an installer's distribution owns it, its
        # tag is importable, its bytes are not claimed already (nor empty); then unowned ones
        # one by one (where uv compiled). Which inode is claimed first changes nothing: each
        # is claimed through one path, and a claim's sums and evidence do not depend on order.
        owners = list(map(self.owner.get, paths))
        unowned = (
            list(compress(zip(paths, inodes, strict=True), map(is_, owners, repeat(None))))
            if uv_compiled
            else []
        )
        wanted_: Iterable[bool] = map(
            is_not, map(compiled_by_installer.get, map(id, owners)), repeat(None)
        )
        if foreign:
            importable = map(not_, map(foreign.__contains__, map(pycs.tag.__getitem__, paths)))
            wanted_ = map(and_, wanted_, importable)
        if self.claimed_paths or not self.claimed.isdisjoint(inodes):
            wanted_ = map(and_, wanted_, map(not_, map(self._is_claimed, inodes, paths)))
        wanted = bytearray(map(and_, wanted_, map(bool, map(_SIZE, inodes))))
        if not all(wanted):
            inodes = list(compress(inodes, wanted))
            paths = list(compress(paths, wanted))
            owners = list(compress(owners, wanted))
        del wanted
        # claimed by path (see `claimed_paths`): `paths` is sorted, as `bytecode_inodes` keeps
        # its paths, unless told otherwise
        in_order = all(map(le, paths, islice(paths, 1, None)))
        paths_sorted = paths if in_order else sorted(paths)
        self.claimed_paths = (
            list(heapq.merge(self.claimed_paths, paths_sorted))
            if self.claimed_paths
            else paths_sorted
        )
        by_id = {i: d for d in self.x.dists if (i := id(d)) in compiled_by_installer}
        owned_by = set(map(id, owners))  # every one an installer's distribution (`wanted`)
        if not any(compileall) and len({compiled_by_installer[i] for i in owned_by}) == 1:
            (installer,) = {compiled_by_installer[i] for i in owned_by}
            claims[installer].add_all(inodes, paths)
            claims[installer].packages.update(by_id[i].name for i in owned_by)
        elif owned_by:
            installers = [
                "compileall" if compileall[inode.layer] else compiled_by_installer[id(d)]
                for inode, d in zip(inodes, owners, strict=True)
            ]
            for installer in dict.fromkeys(installers):
                mine = bytearray(map(installer.__eq__, installers))
                claims[installer].add_all(list(compress(inodes, mine)), list(compress(paths, mine)))
                names = (by_id[i].name for i in set(map(id, compress(owners, mine))))
                claims[installer].packages.update(names)
        for path, inode in unowned:
            take(path, inode, None)
        for installer, claim in sorted(claims.items()):
            fix = (
                no_compile(installer)
                if installer in ("pip", "uv")
                else Fix(kind="no-compile", installer=installer)
            )
            self._emit("bytecode", claim, exact=True, kind=fix, tradeoff="first-import-compiles")

    # --- heuristics -----------------------------------------------------------------------

    def _claim_paths(self, claim: _Claim, paths: Iterable[str]) -> None:
        for p in sorted(paths):
            f = self.x.index.files.get(p)
            if f is not None and self._take(f.inode, p):
                claim.add(f.inode.size, p, f.inode.layer)

    def installer_in_venv(self) -> None:
        claim = _Claim()
        for d in self.x.dists:
            if self._installer_in_venv(d):
                before = claim.files
                self._claim_paths(claim, d.paths)
                if claim.files > before:
                    claim.packages.add(d.name)
                    claim.paths.add(d.site.split("/lib/python", 1)[0])
        self._emit(
            "installer-in-venv",
            claim,
            exact=False,
            kind="venv-without-installer",
            tradeoff="runtime-installs",
        )

    def _installed(self) -> Iterable[Distribution]:
        """Distributions an installer (pip, uv, poetry) wrote, other than a venv's own."""
        for d in self.x.dists:
            if d.installer is not None and not self._installer_in_venv(d):
                yield d

    def _claim_within(
        self,
        sid: SuggestionId,
        kind: FixKind,
        tradeoff: Tradeoff,
        select: Callable[[Sequence[str], str], list[str]],
    ) -> None:
        """Files of installed distributions below their site-packages that `select` picks."""
        claim = _Claim()
        for d in self._installed():
            hits = select(d.paths, d.site)
            before = claim.files
            self._claim_paths(claim, hits)
            if claim.files > before:
                claim.packages.add(d.name)
                claim.paths.add(d.site)
        self._emit(sid, claim, exact=False, kind=kind, tradeoff=tradeoff)

    def tests_in_site_packages(self) -> None:
        self._claim_within(
            "tests-in-site-packages", "drop-tests", "package-self-tests", _tests_below
        )

    def headers(self) -> None:
        self._claim_within(
            "headers-and-static-libs", "drop-headers", "runtime-builds", _headers_below
        )

    def _import_order(self, d: Distribution) -> tuple[int, str]:
        """Which copy an interpreter imports first: PYTHONPATH, user site, /usr/local, /usr."""
        return (_SITE_PRIORITY.get(self.x.site_kinds.get(d.site, ""), 4), d.site)

    def duplicates(self) -> None:
        groups: dict[tuple[str, str], list[Distribution]] = defaultdict(list)
        for d in self.x.dists:
            kind = self.x.site_kinds.get(d.site, "other")
            if kind in ("venv", "conda"):
                continue
            m = _PY_VERSION.search(f"/{d.site}/")
            version = m.group(1) if m else "3"
            groups[(normalize_name(d.name), version.split(".")[0])].append(d)
        claim = _Claim()
        for (_name, _major), found in sorted(groups.items()):
            if len({d.site for d in found}) < 2:
                continue
            ordered = sorted(found, key=self._import_order)
            for shadowed in ordered[1:]:
                before = claim.files
                self._claim_paths(claim, shadowed.paths)
                if claim.files > before:
                    claim.packages.add(shadowed.name)
                    claim.paths.add(shadowed.site)
        self._emit(
            "duplicate-distribution",
            claim,
            exact=False,
            kind="single-environment",
            tradeoff="apt-dependencies",
        )

    def build_toolchain(self) -> None:
        dpkg = self.x.index.dpkg
        claim = _Claim()
        for pkg in sorted(dpkg.paths):
            name = pkg.split(":", 1)[0]
            if not _TOOLCHAIN.search(name):
                continue
            before = claim.files
            self._claim_paths(claim, (p for p in dpkg.paths[pkg] if p in self.x.index.files))
            if claim.files > before:
                claim.packages.add(name)
        self._emit(
            "build-toolchain",
            claim,
            exact=False,
            kind="purge-build-toolchain",
            tradeoff="runtime-builds",
        )

    def run(self) -> list[Suggestion]:
        self.caches()
        self.stray_wheels()
        self.foreign_bytecode()
        self.rewritten_and_deleted()
        self.bytecode()
        self.installer_in_venv()
        self.tests_in_site_packages()
        self.headers()
        self.duplicates()
        self.build_toolchain()
        return sorted(
            self.out,
            key=lambda s: (-s.saves_bytes, s.id, s.fix.kind, s.fix.written_by or ""),
        )


def _deleter(inode: Inode) -> list[int]:
    """The layer that removed (or replaced) the last visible path of a dead inode."""
    return [] if inode.dead_layer is None else [inode.dead_layer]


# Below, `at` is the index of the `/` that ends the site-packages path in each path: a
# directory of the relative path is `/<name>/` at or after it (the file's own name is not
# followed by a `/`), without slicing the relative path out of every path.


def _any_holds(paths: Sequence[str], part: str) -> bool:
    """Whether one of `paths` holds `part`: one C-level pass, so that a distribution without
    a hit costs no Python-level test per path."""
    return any(map(str.__contains__, paths, repeat(part)))


def _tests_below(paths: Sequence[str], site: str) -> list[str]:
    """The files below `site` in a `tests/` or `test/` directory (bytecode aside: `bytecode`
    claims it first)."""
    if not _any_holds(paths, "/test"):  # what both tests below need
        return []
    prefix, at = f"{site}/", len(site)
    return [
        p
        for p in paths
        if "/test" in p  # what both tests below need: most paths are out at this cheap test
        and p.startswith(prefix)
        and (p.find("/tests/", at) >= 0 or p.find("/test/", at) >= 0)
    ]


def _headers_below(paths: Sequence[str], site: str) -> list[str]:
    """The C headers and static libraries below `site`, and any file in an `include/`
    directory (the pattern's `$` also matches before a final newline: such names go through
    it too)."""
    if not _any_holds(paths, "/include/") and not any(
        map(str.endswith, paths, repeat(_HEADER_SUFFIXES))
    ):
        return []
    prefix, at = f"{site}/", len(site)
    return [
        p
        for p in paths
        if ("/include/" in p or p.endswith(_HEADER_SUFFIXES))  # cheap: most paths are out
        and p.startswith(prefix)
        and (
            p.find("/include/", at) >= 0
            or (p.endswith(_HEADER_SUFFIXES) and _HEADER.search(p, at + 1) is not None)
        )
    ]


def advise(ctx: Context) -> list[Suggestion]:
    """Every suggestion for this image, largest saving first; no inode is claimed twice."""
    return _Advisor(ctx).run()


class AdviceAnalyzer:
    """Reads everything the analyzers before it set (distributions, site-packages, caches,
    bytecode health); sets `suggestions`. Runs last."""

    metadata = (DPKG_LISTS,)  # the build toolchain is what dpkg lists

    def run(self, ctx: Context) -> None:
        ctx.suggestions = advise(ctx)
