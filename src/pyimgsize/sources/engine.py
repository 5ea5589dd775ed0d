"""The Docker Engine source: stream the engine's image export (`GET /images/{id}/get`) into the
same archive reader used for `docker save` files, nothing written to disk; or, where the engine
is local and its storage is readable, read that in place: an overlay2 engine's layer storage (the
same layer tars, without the export: sources/storage.py) or the containerd image store's content
store (the export's very blobs: sources/content_store.py). The report's `image.read_via` says
which.

The client comes from `docker.from_env()`: `DOCKER_HOST` (and the TLS variables) when set,
otherwise the current docker context (docker SDK >= 7.2.0; `DOCKER_CONTEXT` or config.json's
`currentContext`). A missing image is an error; only `--pull` pulls.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyimgsize.errors import (
    EngineUnreachable,
    ImageNotFound,
    MissingBlob,
    PyImgSizeError,
    SourceError,
)
from pyimgsize.layers.cache import wants_fingerprint
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.stream import IterStream
from pyimgsize.sources.base import LoadedImage, ProgressCallback, unblock
from pyimgsize.sources.content_store import content_plan
from pyimgsize.sources.resolve import (
    Candidate,
    _platform_matches,
    choose,
    config_platform,
    familiar,
    load_candidate,
)
from pyimgsize.sources.storage import (
    StorageStore,
    StorageUnusable,
    plan,
    storage_enabled,
)
from pyimgsize.sources.store import BlobStore, StreamTarStore

if TYPE_CHECKING:
    from pyimgsize.layers.cache import LayerCache
    from pyimgsize.report import ReadVia

CHUNK = 4 << 20


def _unreachable(name: str, where: str, exc: BaseException) -> EngineUnreachable:
    return EngineUnreachable(
        f"cannot reach the Docker engine{where}: {connection_failure(exc)}; or run "
        f"`docker save {name} -o image.tar` where an engine runs, "
        "then `pyimgsize inspect image.tar`"
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps: causes, contexts, urllib3's `reason`, and exceptions
    passed as arguments (requests and urllib3 nest them all three ways)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested += [arg for arg in current.args if isinstance(arg, BaseException)]
        todo += [n for n in nested if isinstance(n, BaseException)]


def connection_failure(exc: BaseException) -> str:
    """Why a connection to the engine failed, in a few words, with what to do: the library's
    own text (urllib3's pool and retry wording) never reaches the user."""
    import errno
    import socket
    import ssl

    chain = list(_chain(exc))
    names = {type(e).__name__ for e in chain}
    for e in chain:
        if isinstance(e, FileNotFoundError) or getattr(e, "errno", None) == errno.ENOENT:
            return "no socket there (is dockerd running?)"
        if isinstance(e, PermissionError) or getattr(e, "errno", None) == errno.EACCES:
            return "permission denied (join the docker group, or use sudo)"
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "connection refused (is dockerd running?)"
        if isinstance(e, socket.gaierror) or "NameResolutionError" in names:
            return "host name not found (check DOCKER_HOST or the context)"
        if isinstance(e, ssl.SSLError):
            return "TLS handshake failed (check DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)"
        if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
            return "no answer in time (is dockerd running there?)"
        if "paramiko" in str(e):
            return "ssh:// needs the paramiko package (pip install paramiko)"
        if isinstance(e, ConnectionResetError | BrokenPipeError):
            return "closed by the other side (is that a Docker engine?)"
    return f"the connection failed ({type(chain[-1]).__name__})"


def engine_host() -> str:
    """Where the client will connect: DOCKER_HOST, else the current context's endpoint."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return host
    try:
        from docker.context import ContextAPI

        ctx = ContextAPI.get_current_context()
        if ctx is not None and ctx.Host:
            return f"{ctx.Host} (docker context {ctx.Name})"
    except Exception:  # a broken context store: the client will say more
        pass
    return "unix:///var/run/docker.sock"


def client_from_env(name: str = "IMAGE") -> Any:
    """A docker SDK client honouring DOCKER_HOST and the current docker context."""
    import docker
    from docker.errors import DockerException

    try:
        return docker.from_env()
    except DockerException as exc:
        raise _unreachable(name, f" at {engine_host()}", exc) from exc


@dataclass
class EngineSource:
    ref: str  # the reference as the user wrote it
    name: str  # what the engine understands: name[:tag], name@digest, an image ID
    pull: bool = False
    platform: str | None = None
    cache: LayerCache | None = None  # per-layer results, for the storage read in place

    def load(
        self, *, wants: ContentSelector, progress: ProgressCallback | None = None
    ) -> LoadedImage:
        import requests.exceptions
        from docker.errors import APIError, DockerException, NotFound

        client = client_from_env(self.name)
        feed: _Prefetched | None = None
        responses: list[Any] = []
        try:
            api = client.api
            where = f" at {engine_host()}"
            try:
                try:
                    info = api.inspect_image(self.name)
                except NotFound:
                    if not self.pull:
                        raise ImageNotFound(
                            f"no image {self.name!r} in the Docker engine{where} "
                            "(build or pull it first, or pass --pull)"
                        ) from None
                    try:
                        client.images.pull(self.name, platform=self.platform)
                    except (NotFound, APIError) as exc:
                        raise ImageNotFound(f"cannot pull {self.name!r}: {_explain(exc)}") from exc
                    info = api.inspect_image(self.name)
                image_id = str(info["Id"])
                tags = list(info.get("RepoTags") or [])
                direct = self._from_storage(api, info, tags, wants, progress)
                if direct is not None:
                    return direct
                feed = _Prefetched(_translated(_export(api, image_id, responses), self.name))
                store = StreamTarStore(
                    IterStream(feed), f"engine export of {self.name}", wants, progress
                )
            except (requests.exceptions.ConnectionError, DockerException) as exc:
                if isinstance(exc, APIError) and exc.status_code not in (None, 500, 502, 503):
                    raise SourceError(f"Docker engine{where}: {_explain(exc)}") from exc
                raise _unreachable(self.name, where, exc) from exc
            candidate = choose(store, prefer="docker-archive", image=None, platform=self.platform)
            loaded = load_candidate(
                store, candidate, ref=self.ref, source="docker", progress=progress
            )
        except MissingBlob as exc:
            raise MissingBlob(
                f"{exc}: the engine's export lacks blobs it lists (a containerd-store engine "
                "does this for an image pulled by a tag whose config it already held from "
                f"`docker load`); remove the image (`docker rmi {self.name}`) and pull it again"
            ) from exc
        finally:
            # Also on an error, Ctrl-C or SIGTERM: unblock the export thread's read (the engine
            # may be silent for seconds while it prepares an export), stop the thread (it closes
            # the HTTP response) and close the client's connections, now rather than whenever
            # (if ever) the garbage collector gets to them.
            for response in responses:
                unblock(response)
            if feed is not None:
                feed.close()
            client.close()
        loaded.tags = tags or loaded.tags
        loaded.read_via = "export"
        return loaded

    def _from_storage(
        self,
        api: Any,
        info: dict[str, Any],
        tags: list[str],
        wants: ContentSelector,
        progress: ProgressCallback | None,
    ) -> LoadedImage | None:
        """The image read from the engine's own storage in place (its overlay2 layer storage,
        or the containerd image store's content store), or None when that cannot give exactly
        what the export gives (then the export is read)."""
        if not storage_enabled():
            return None
        import requests.exceptions
        from docker.errors import DockerException

        try:
            store: BlobStore
            read_via: ReadVia
            driver = str((info.get("GraphDriver") or {}).get("Name") or "")
            if driver == "overlay2":
                layer_store = StorageStore(plan(api, info), f"layer storage of {self.name}", wants)
                store, read_via = layer_store, "layer-storage"
                candidate = Candidate(
                    names=list(tags),
                    config_path=StorageStore.CONFIG,
                    layer_paths=layer_store.layer_paths,
                    tags=[familiar(t) for t in tags],
                )
                have = config_platform(store.json(StorageStore.CONFIG))
                if self.platform is not None and not _platform_matches(have, self.platform):
                    return None  # the export path words the mismatch
            elif driver:  # the containerd image store names its snapshotter (`overlayfs`)
                store, candidate = content_plan(api, info, wants, self.platform)
                read_via = "content-store"
            else:
                return None
            loaded = load_candidate(
                store,
                candidate,
                ref=self.ref,
                source="docker",
                progress=progress,
                cache=self.cache,
                wants=wants_fingerprint(wants),
            )
        except (
            StorageUnusable,
            PyImgSizeError,
            OSError,
            ValueError,
            DockerException,
            requests.exceptions.RequestException,
        ):
            return None
        loaded.tags = tags or loaded.tags
        loaded.read_via = read_via
        return loaded


def _explain(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    text = explanation if explanation else str(exc)
    return str(text).splitlines()[0] if text else type(exc).__name__


def _export(api: Any, image_id: str, responses: list[Any]) -> Iterator[bytes]:
    """The export (`GET /images/{id}/get`) in blocks of CHUNK bytes.

    `APIClient.get_image` yields each HTTP chunk as it comes (~32 kB from this engine): tens of
    thousands of hand-offs between the reading thread and the parser. Reading the response in
    large blocks makes them a few hundred. Falls back to `get_image` if the SDK's internals
    differ.
    """
    try:
        response = api._get(api._url("/images/{0}/get", image_id), stream=True)
        api._raise_for_status(response)
        raw = response.raw
        responses.append(raw)
    except AttributeError:  # pragma: no cover - an SDK without these internals
        yield from api.get_image(image_id, chunk_size=CHUNK)
        return
    with response:
        while block := raw.read(CHUNK):
            yield block


class _Prefetched:
    """The export, read on a thread up to `depth` chunks ahead, so the engine keeps streaming
    while the parser works (socket reads release the GIL).

    An iterator, not a generator: the chunks may be taken by another thread (a gzip layer's
    inflating thread reads the export through the tar stream) while the reading thread stops
    the run, and `close` must then stop everything instead of failing with "generator already
    executing"."""

    def __init__(self, chunks: Iterator[bytes], depth: int = 16) -> None:
        self._q: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(
            target=self._pump, args=(chunks,), name="pyimgsize-export", daemon=True
        )
        self._thread.start()

    def _hand(self, item: bytes | BaseException | None) -> bool:
        """Queue `item` unless the consumer has stopped; never blocks for good."""
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _pump(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                if not self._hand(chunk):
                    return
            self._hand(None)
        except BaseException as exc:  # handed to the consumer, raised there
            self._hand(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator's `with response:` closes the HTTP response

    def __iter__(self) -> _Prefetched:
        return self

    def __next__(self) -> bytes:
        while not self._done and not self._stop.is_set():
            try:
                item = self._q.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                self._done = True
                raise item
            else:
                return item
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        # While the export streams, the thread sees `stop` within 0.2 s. While the engine is
        # still preparing the export (silent for seconds), it waits for the response headers,
        # out of reach; it ends (closing the response) once they come, or with the process.
        self._thread.join(timeout=1)


def _translated(chunks: Iterator[bytes], name: str) -> Iterator[bytes]:
    """The export stream, with transport failures turned into our errors."""
    import requests.exceptions
    from docker.errors import DockerException

    try:
        yield from chunks
    except (requests.exceptions.RequestException, DockerException, OSError) as exc:
        raise SourceError(f"the engine's export of {name} broke off: {exc}") from exc
