"""Image sources on disk: `docker save` archives (plain or gzipped) and OCI image layouts
(directories or tars)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyimgsize.errors import FormatError, SourceError
from pyimgsize.layers.cache import wants_fingerprint
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.sniff import sniff
from pyimgsize.layers.stream import DecompressStream, FileStream, PeekStream
from pyimgsize.report import SourceKind
from pyimgsize.sources.base import LoadedImage, ProgressCallback
from pyimgsize.sources.resolve import choose, load_candidate
from pyimgsize.sources.store import BlobStore, DirStore, SeekableTarStore, StreamTarStore

if TYPE_CHECKING:
    from pyimgsize.layers.cache import LayerCache


@dataclass
class FileSource:
    """A `docker save` archive or an OCI layout; `kind` says how to read its index."""

    ref: str
    path: Path
    kind: SourceKind | None  # "docker-archive", "oci", or None: decided by the content
    image: str | None = None
    platform: str | None = None
    cache: LayerCache | None = None  # per-layer results (seekable inputs only)

    def load(
        self, *, wants: ContentSelector, progress: ProgressCallback | None = None
    ) -> LoadedImage:
        if self.path.is_dir():
            if (
                not (self.path / "index.json").is_file()
                and not (self.path / "manifest.json").is_file()
            ):
                raise FormatError(
                    f"{self.path}: not an OCI image layout (no index.json or oci-layout)"
                )
            return self._load_from(DirStore(self.path, wants), progress, wants)
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            raise SourceError(f"{self.path}: no such file or directory") from None
        except OSError as exc:
            raise SourceError(f"{self.path}: cannot open ({exc.strerror})") from exc
        with fh:
            what = str(self.path)
            # a pipe (`docker save x | pyimgsize inspect /dev/stdin`) cannot seek back: look at
            # the first block through a PeekStream and read on from there
            seekable = fh.seekable()
            peek = PeekStream(FileStream(fh, seekable=seekable))
            head = peek.peek(512)
            kind = sniff(head)
            store: BlobStore
            if not head:
                raise FormatError(f"{what}: empty file, not a docker save archive or OCI layout")
            if kind not in ("gzip", "zstd", "tar") and head.lstrip()[:1] in (b"{", b"["):
                raise FormatError(
                    f"{what}: a JSON file, not an image (diff and check read saved "
                    "`inspect --format json` reports; inspect reads images)"
                )
            if kind in ("gzip", "zstd"):
                store = StreamTarStore(DecompressStream(peek, kind, what), what, wants, progress)
            elif kind != "tar":
                raise FormatError(
                    f"{what}: not a docker save archive or OCI layout (neither a tar nor a "
                    "gzip or zstd file)"
                )
            elif seekable:
                fh.seek(0)
                store = SeekableTarStore(fh, what, wants)
            else:
                store = StreamTarStore(peek, what, wants, progress)
            return self._load_from(store, progress, wants)

    def _load_from(
        self, store: BlobStore, progress: ProgressCallback | None, wants: ContentSelector
    ) -> LoadedImage:
        kind: SourceKind = self.kind or ("docker-archive" if store.has("manifest.json") else "oci")
        candidate = choose(store, prefer=kind, image=self.image, platform=self.platform)
        # a stream has summarised every layer on the way to its index: nothing left to save
        cache = None if isinstance(store, StreamTarStore) else self.cache
        return load_candidate(
            store,
            candidate,
            ref=self.ref,
            source=kind,
            progress=progress,
            cache=cache,
            wants=wants_fingerprint(wants),
        )
