"""Distributions a Debian package installed (`python3-yaml`'s `PyYAML-*.egg-info`): no RECORD or
installed-files.txt, so the files come from the package's dpkg `.list`, limited to the listed
files under the distribution's site-packages directory (design.md §3). The installer stays what
INSTALLER says (none)."""

from __future__ import annotations

from pyimgsize.fs.index import DPKG_LISTS, FileIndex

metadata = (DPKG_LISTS,)


def listed_by_dpkg(index: FileIndex, site: str, meta_path: str) -> list[str] | None:
    """The files of the Debian package that lists `meta_path`, under `site`; None when no
    package lists it."""
    pkg = index.dpkg.owner.get(meta_path)
    if pkg is None:
        return None
    return [p for p in index.dpkg.paths[pkg] if p.startswith(f"{site}/")]
