"""Hypothesis strategies: image specs for `fixtures/`, and mutations of the bytes they write.

Specs are drawn from small pools of path components (so that whiteouts, opaque markers,
hardlinks and symlinks meet the files they name) mixed with names made of any byte but NUL and
`/`, long names (PAX records, GNU `L`/`K` members), every entry type `fixtures` can write, and
Python metadata (RECORD, METADATA, INSTALLER, installed-files.txt, dpkg lists) either well
formed (`fixtures.dist`) or of random content.

Mutations work on three levels: a layer's tar (header fields, with the header checksum fixed up
half of the time so the damage reaches past the checksum test), an archive member or layout
file (bytes, or a JSON document with one node replaced), and the whole written file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from fixtures import (
    Device,
    Dir,
    Entry,
    File,
    GlobalHeader,
    Hardlink,
    Image,
    Layer,
    Opaque,
    Sparse,
    Symlink,
    Whiteout,
    dist,
    normalise,
)
from fixtures.tarwriter import TarFormat

SITE = "usr/lib/python3.11/site-packages"

_COMPONENTS = [
    "a",
    "b",
    "c",
    "lib",
    "usr",
    "bin",
    "etc",
    "__pycache__",
    "site-packages",
    "x.py",
    "x.cpython-311.pyc",
    "mod.so",
    "pkg.libs",
    "y.whl",
    ".cache",
    "pip",
    "uv",
    "..",
    ".",
    "",
    ".wh.a",
    ".wh..wh..opq",
    "RECORD",
    "METADATA",
    "x-1.0.dist-info",
    "y-2.egg-info",
    "stargz.index.json",
]

odd_component = (
    st.binary(min_size=1, max_size=10)
    .map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))
    .map(lambda b: b.decode("utf-8", "surrogateescape"))
)
long_component = st.integers(min_value=90, max_value=300).map(lambda n: "L" * n)
component = st.one_of(
    st.sampled_from(_COMPONENTS), st.sampled_from(_COMPONENTS), odd_component, long_component
)
rel_path = st.lists(component, min_size=1, max_size=4).map("/".join)
site_path = rel_path.map(lambda p: f"{SITE}/{p}")
deep_path = st.integers(min_value=50, max_value=1000).map(lambda n: "/".join(["d"] * n))
"""Deep below the root (PATH_MAX allows 2,047 levels): costs that grow with depth show."""
any_path = st.one_of(
    rel_path,
    site_path,
    rel_path.map(lambda p: "/" + p),
    rel_path.map(lambda p: "../../" + p),
    st.tuples(deep_path, rel_path).map("/".join),
)
small_size = st.integers(min_value=0, max_value=3000)
text_blob = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogateescape")),
    st.lists(
        st.tuples(st.one_of(any_path, st.just("")), st.text(max_size=20), st.text(max_size=8)),
        max_size=8,
    ).map(
        lambda rows: "".join(f"{p},{h},{s}\n" for p, h, s in rows).encode(
            "utf-8", "surrogateescape"
        )
    ),
)


@st.composite
def sparse_entry(draw: st.DrawFn, path: str) -> Sparse:
    blocks = draw(st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=5))
    chunks: list[tuple[int, int]] = []
    offset = 0
    for i, gap in enumerate(blocks):
        offset += gap * 512
        length = 512 if i < len(blocks) - 1 else draw(st.integers(min_value=1, max_value=700))
        chunks.append((offset, length))
        offset += length
    size = offset + draw(st.integers(min_value=0, max_value=2048))
    form = draw(st.sampled_from(["gnu", "pax"]))
    return Sparse(path, size, chunks, form=form)


@st.composite
def metadata_files(draw: st.DrawFn) -> list[Entry]:
    """Python (and dpkg) metadata files with random content at the places they are read."""
    info = f"{SITE}/{draw(st.sampled_from(['x-1.0.dist-info', 'y-2.dist-info', 'zz.dist-info']))}"
    egg = f"{SITE}/{draw(st.sampled_from(['y-2.egg-info', 'q-1-py3.11.egg-info']))}"
    where = draw(
        st.lists(
            st.sampled_from(
                [
                    f"{info}/RECORD",
                    f"{info}/METADATA",
                    f"{info}/INSTALLER",
                    f"{egg}/installed-files.txt",
                    f"{egg}/PKG-INFO",
                    f"{SITE}/single-1.egg-info",
                    "var/lib/dpkg/info/x.list",
                    "opt/venv/pyvenv.cfg",
                ]
            ),
            min_size=1,
            max_size=4,
        )
    )
    return [File(path, data=draw(text_blob)) for path in where]


def _utf8(text: str) -> bool:
    """`fixtures.dist` writes RECORD as UTF-8 (random bytes go through `metadata_files`)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def python_dist(draw: st.DrawFn) -> list[Entry]:
    """A well-formed installed distribution, sometimes with odd RECORD rows."""
    names = ["x", "Y.y", "z_z", "odd\u00e9"]
    files = draw(
        st.dictionaries(
            st.sampled_from(["pkg/__init__.py", "pkg/m.py", "pkg/c.so", "pkg/d.txt", "pkg.libs/l"]),
            st.integers(min_value=0, max_value=500),
            min_size=1,
            max_size=4,
        )
    )
    installer = draw(st.sampled_from(["pip", "uv", None]))
    record = draw(st.sampled_from(["pip", "uv", "none", "egg", None]))
    extra = draw(st.lists(any_path.filter(_utf8).map(lambda p: f"{p},,"), max_size=3))
    scripts = draw(st.sampled_from([None, {"bin/tool": 30}]))
    return dist(
        SITE,
        draw(st.sampled_from(names)),
        draw(st.sampled_from(["1.0", "2", "0.0.dev1"])),
        files,
        installer=installer,
        record=record,  # type: ignore[arg-type]
        extra_record_rows=extra,
        scripts=scripts,
    )


@st.composite
def entry(draw: st.DrawFn) -> Entry:
    path = draw(any_path)
    kind = draw(
        st.sampled_from(
            [
                *("file", "file", "file", "dir", "symlink", "hardlink", "whiteout", "opaque"),
                *("sparse", "device", "global"),
            ]
        )
    )
    match kind:
        case "file":
            return File(path, draw(small_size))
        case "dir":
            return Dir(path)
        case "symlink":
            return Symlink(path, draw(st.one_of(any_path, st.just("/"), st.just("."))))
        case "hardlink":
            return Hardlink(path, draw(any_path))
        case "whiteout":
            return Whiteout(path)
        case "opaque":
            return Opaque(draw(st.one_of(rel_path, st.just(""))))
        case "sparse":
            return draw(sparse_entry(path))
        case "device":
            return Device(path, block=draw(st.booleans()))
        case _:
            records = draw(
                st.dictionaries(
                    st.sampled_from(["path", "size", "linkpath", "comment", "mtime"]),
                    st.one_of(any_path, st.integers(0, 1 << 40).map(str)),
                    max_size=3,
                )
            )
            return GlobalHeader(records)


@st.composite
def layer(draw: st.DrawFn) -> Layer:
    entries: list[Entry] = []
    for part in draw(
        st.lists(
            st.one_of(
                st.lists(entry(), min_size=1, max_size=6),
                python_dist(),
                metadata_files(),
            ),
            min_size=0,
            max_size=3,
        )
    ):
        entries.extend(part)
    entries = draw(st.permutations(entries)) if draw(st.booleans()) else entries
    tar_format: TarFormat = draw(st.sampled_from(["pax", "pax", "gnu", "ustar"]))
    created_by = draw(st.one_of(st.none(), st.text(max_size=40)))
    return _buildable(
        Layer(
            entries,
            created_by=created_by,
            tar_format=tar_format,
            prefix=draw(st.sampled_from(["", "", "./"])),
            auto_dirs=draw(st.booleans()),
        )
    )


def _buildable(layer: Layer) -> Layer:
    """The layer, in pax format when its own format cannot write its names (ustar)."""
    try:
        _ = layer.tar
    except ValueError:
        return Layer(
            layer.entries,
            created_by=layer.created_by,
            tar_format="pax",
            prefix=layer.prefix,
            auto_dirs=layer.auto_dirs,
        )
    return layer


ENV_POOL = [
    "PYTHONPATH=/a:/opt/x:/usr/lib/python3.11/site-packages/..",
    "PIP_CACHE_DIR=/a",
    "UV_CACHE_DIR=/b/c",
    "POETRY_CACHE_DIR=/lib",
    "XDG_CACHE_HOME=/usr",
    "PYTHONPATH=",
    "=",
    "NOEQUALS",
]


@st.composite
def image(draw: st.DrawFn) -> Image:
    layers = draw(st.lists(layer(), min_size=1, max_size=4))
    env = draw(st.lists(st.sampled_from(ENV_POOL), max_size=3))
    history: list[dict[str, Any]] | None = None
    if draw(st.integers(0, 5)) == 0:
        history = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"created_by": st.text(max_size=10)},
                    optional={"empty_layer": st.booleans(), "comment": st.text(max_size=5)},
                ),
                max_size=5,
            )
        )
    name = draw(st.sampled_from(["fuzz/img:1", "fuzz/img", None]))
    return Image(name, layers, env=env, history=history)


@dataclass(frozen=True)
class Writer:
    """How an image is written: which container format, compression, outer gzip."""

    kind: str  # "docker-archive" | "oci-dir" | "oci-tar"
    layout: str = "legacy"
    compression: str = "none"
    outer_gzip: bool = False
    nested_index: bool = False


writers = st.builds(
    Writer,
    kind=st.sampled_from(["docker-archive", "docker-archive", "oci-dir", "oci-tar"]),
    layout=st.sampled_from(["legacy", "oci"]),
    compression=st.sampled_from(["none", "none", "gzip", "zstd"]),
    outer_gzip=st.booleans(),
    nested_index=st.booleans(),
)


# --- byte mutations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """One edit at `where` (reduced modulo the length): set, flip, insert, delete, truncate,
    overwrite with a number, or duplicate a 512-byte block."""

    op: str
    where: int
    value: int = 0
    data: bytes = b""

    def apply(self, buf: bytearray) -> None:
        if not buf:
            if self.op == "insert":
                buf.extend(self.data or b"\0")
            return
        i = self.where % len(buf)
        match self.op:
            case "set":
                buf[i] = self.value & 0xFF
            case "flip":
                buf[i] ^= 1 << (self.value % 8)
            case "insert":
                buf[i:i] = self.data or bytes([self.value & 0xFF])
            case "delete":
                del buf[i : i + 1 + self.value % 600]
            case "truncate":
                del buf[i:]
            case "overwrite":
                buf[i : i + len(self.data)] = self.data
            case "block":
                start = i - i % 512
                buf[start:start] = buf[start : start + 512]


_INTERESTING = [
    b"0",
    b"7",
    b"77777777777",
    b"00000001000",
    b"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00",
    b"\xff\xff\xff\xff",
    b"\0\0\0\0",
    b"-1",
    b" ",
    b"x",
    b"L",
    b"S",
    b"K",
    b"g",
    b"ustar\x0000",
    b"ustar  \x00",
    b"../../",
    b"/",
    b".wh.",
    b"99999999999999999999 path=x\n",
    b'{"a":',
    b"null",
    b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd",
]

mutations = st.lists(
    st.builds(
        Mutation,
        op=st.sampled_from(
            ["set", "flip", "insert", "delete", "truncate", "overwrite", "overwrite", "block"]
        ),
        where=st.integers(min_value=0, max_value=1 << 32),
        value=st.integers(min_value=0, max_value=255),
        data=st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=16)),
    ),
    min_size=1,
    max_size=4,
)

# Tar header fields: (offset, width)
HEADER_FIELDS = {
    "name": (0, 100),
    "mode": (100, 8),
    "size": (124, 12),
    "chksum": (148, 8),
    "typeflag": (156, 1),
    "linkname": (157, 100),
    "magic": (257, 8),
    "prefix": (345, 155),
    "sparse": (386, 96),
    "isextended": (482, 1),
    "realsize": (483, 12),
}


@dataclass(frozen=True)
class HeaderMutation:
    """Overwrite one field of the n-th header block of a tar (modulo the number of headers),
    fixing the checksum up afterwards when `fix_checksum`."""

    header: int
    field: str
    data: bytes
    fix_checksum: bool


header_mutations = st.lists(
    st.builds(
        HeaderMutation,
        header=st.integers(min_value=0, max_value=1000),
        field=st.sampled_from(sorted(HEADER_FIELDS)),
        data=st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=20)),
        fix_checksum=st.booleans(),
    ),
    min_size=1,
    max_size=3,
)


def header_offsets(tar: bytes) -> list[int]:
    """Offsets of every header block of a well-formed tar (ustar sizes, base-256 included)."""
    out: list[int] = []
    pos = 0
    while pos + 512 <= len(tar):
        block = tar[pos : pos + 512]
        if block == bytes(512):
            break
        out.append(pos)
        raw = block[124:136]
        if raw[0] & 0x80:
            size = int.from_bytes(raw[1:], "big")
        else:
            text = raw.split(b"\0", 1)[0].strip()
            size = int(text, 8) if text else 0
        if block[156:157] in (b"1", b"2", b"3", b"4", b"5", b"6"):
            size = 0
        pos += 512
        extended = block[156:157] == b"S" and block[482]
        while extended and pos + 512 <= len(tar):
            # old-GNU sparse extension blocks follow the header, before the data
            extended = tar[pos + 504]
            pos += 512
        pos += size + (-size % 512)
    return out


def apply_header_mutations(tar: bytes, muts: list[HeaderMutation]) -> bytes:
    buf = bytearray(tar)
    offsets = header_offsets(tar)
    if not offsets:
        return tar
    for m in muts:
        base = offsets[m.header % len(offsets)]
        off, width = HEADER_FIELDS[m.field]
        value = m.data[:width]
        buf[base + off : base + off + len(value)] = value
        if m.fix_checksum:
            block = buf[base : base + 512]
            block[148:156] = b" " * 8
            buf[base + 148 : base + 156] = b"%06o\0 " % sum(block)
    return bytes(buf)


# --- JSON mutations ------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(1 << 70), max_value=1 << 70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(st.characters(exclude_categories=()), max_size=20),  # lone surrogates too
        st.sampled_from(["sha256:", "sha256:../../x", "blobs/sha256/x", "/etc/passwd", "a/b"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@dataclass(frozen=True)
class JsonMutation:
    """Replace (or delete) the n-th node of a JSON document, in a depth-first walk."""

    node: int
    delete: bool
    value: Any = field(hash=False)


json_mutations = st.lists(
    st.builds(
        JsonMutation,
        node=st.integers(min_value=0, max_value=500),
        delete=st.booleans(),
        value=json_values,
    ),
    min_size=1,
    max_size=3,
)


def _nodes(doc: Any, out: list[tuple[Any, Any]]) -> None:
    """(container, key) of every node below `doc`, depth first."""
    if isinstance(doc, dict):
        for key in list(doc):
            out.append((doc, key))
            _nodes(doc[key], out)
    elif isinstance(doc, list):
        for i in range(len(doc)):
            out.append((doc, i))
            _nodes(doc[i], out)


def apply_json_mutations(raw: bytes, muts: list[JsonMutation]) -> bytes:
    try:
        doc = json.loads(raw)
    except ValueError:
        return raw
    for m in muts:
        nodes: list[tuple[Any, Any]] = []
        _nodes(doc, nodes)
        if not nodes:
            doc = m.value
            continue
        container, key = nodes[m.node % len(nodes)]
        if m.delete:
            del container[key]
        else:
            container[key] = m.value
    return json.dumps(doc).encode()


def expected_layer_bytes(layer: Layer) -> int:
    """A layer's `bytes` computed from its spec alone (design.md §2): every regular file's data
    (sparse: the stored data) whose name is neither the root, a whiteout nor a layer-root
    bookkeeping file; whatever merging does."""
    total = 0
    for e in layer.members:
        if not isinstance(e, File | Sparse):
            continue
        path = normalise(layer.prefix + e.tar_name)
        parent, _, base = path.rpartition("/")
        if not path or base.startswith(".wh."):
            continue
        if not parent and base in ("stargz.index.json", ".no.prefetch.landmark"):
            continue
        if not parent and base == ".prefetch.landmark":
            continue
        total += e.size if isinstance(e, File) else e.stored_size
    return total
