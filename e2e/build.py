"""Build the end-to-end images: wheels, the Debian base image, one image per Dockerfile.test target.

    python3 e2e/build.py [VARIANT ...] [--prune]

Everything expensive is cached on the machine: the wheels in e2e/wheels/ (a stamp of the
requirement files), the base image as pyimgsize-test/base:<hash of its recipe>, and each variant
as pyimgsize-test/e2e:<variant>-<hash>, where the hash covers Dockerfile.test, the build
context's recipe files, the wheel set and the base image tag. A variant is built only when its
tag is missing, with the classic builder (`DOCKER_BUILDKIT=0`, no BuildKit here) and
`--network none`. `--prune` removes pyimgsize-test/e2e and pyimgsize-test/base tags of other hashes.
Stdlib only; the tests import it (tests/e2e/).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parent
REPO_DIR = E2E_DIR.parent
DOCKERFILE = REPO_DIR / "Dockerfile.test"
WHEELS_DIR = E2E_DIR / "wheels"
IMAGE_REPO = "pyimgsize-test/e2e"
BASE_REPO = "pyimgsize-test/base"

# Dockerfile.test targets, in file order (the classic builder builds every stage above a target,
# so building in this order reuses the layers of the ones before).
VARIANTS: tuple[str, ...] = (
    "pip-wheelhouse",
    "pip",
    "pip-pycache-deleted",
    "pip-nocompile",
    "uv",
    "uv-bytecode",
    "uv-cache",
    "uv-cache-deleted",
    "pip-system",
    "venv-copied",
    "venv-staged",
    "pip-cache",
    "pip-cache-fixed",
    "wheels-left",
    "wheels-fixed",
    "chown-later",
    "chown-fixed",
    "rm-later",
)


class BuildError(RuntimeError):
    """A step of the e2e build failed; the message carries the tail of its output."""


@dataclass(frozen=True)
class Step:
    """What one step produced and how long it took (0 when it was cached)."""

    name: str
    result: str
    seconds: float
    cached: bool


def _run(cmd: list[str], *, what: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise BuildError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def image_exists(tag: str) -> bool:
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def fetch_wheels() -> Step:
    """e2e/fetch-wheels.sh: the pinned wheels, downloaded on the host (cached by a stamp)."""
    stamp = WHEELS_DIR / ".stamp"
    before = stamp.read_text() if stamp.is_file() else None
    start = time.monotonic()
    _run(["bash", str(E2E_DIR / "fetch-wheels.sh")], what="fetching wheels")
    after = stamp.read_text()
    return Step("wheels", after.strip(), time.monotonic() - start, cached=before == after)


def base_image() -> Step:
    """e2e/base-image.sh: the Debian base image (built once per recipe hash)."""
    script = E2E_DIR / "base-image.sh"
    expected = f"{BASE_REPO}:{hashlib.sha256(script.read_bytes()).hexdigest()[:16]}"
    cached = image_exists(expected)
    start = time.monotonic()
    out = _run(["bash", str(script)], what="building the base image")
    tag = out.strip().splitlines()[-1]
    return Step("base", tag, 0.0 if cached else time.monotonic() - start, cached=cached)


def recipe_hash(base_tag: str) -> str:
    """Hash of everything a variant image is built from."""
    digest = hashlib.sha256()
    digest.update(base_tag.encode() + b"\0")
    recipe = [DOCKERFILE, E2E_DIR / ".dockerignore", E2E_DIR / "serve-wheels.py"]
    for path in [*recipe, *sorted(E2E_DIR.glob("requirements*.txt"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for wheel in sorted(WHEELS_DIR.glob("*/*.whl")):
        digest.update(f"{wheel.relative_to(WHEELS_DIR)}:{wheel.stat().st_size}\0".encode())
    return digest.hexdigest()[:16]


def variant_tag(variant: str, rhash: str) -> str:
    return f"{IMAGE_REPO}:{variant}-{rhash}"


def build_variant(variant: str, base_tag: str, rhash: str) -> Step:
    """`docker build --network none --target VARIANT` unless the tag exists already."""
    if variant not in VARIANTS:
        raise BuildError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    tag = variant_tag(variant, rhash)
    if image_exists(tag):
        return Step(variant, tag, 0.0, cached=True)
    start = time.monotonic()
    _run(
        [
            "docker",
            "build",
            "--network",
            "none",
            "--rm",
            "--force-rm",
            "--file",
            str(DOCKERFILE),
            "--target",
            variant,
            "--build-arg",
            f"BASE_IMAGE={base_tag}",
            "--tag",
            tag,
            str(E2E_DIR),
        ],
        what=f"building variant {variant}",
        env={"DOCKER_BUILDKIT": "0"},
    )
    return Step(variant, tag, time.monotonic() - start, cached=False)


def prune(keep: set[str]) -> list[str]:
    """Remove pyimgsize-test/e2e and pyimgsize-test/base tags not in `keep`; return them."""
    out = _run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
        what="listing images",
    )
    stale = [
        tag
        for tag in out.split()
        if tag.split(":", 1)[0] in (IMAGE_REPO, BASE_REPO) and tag not in keep
    ]
    for tag in stale:
        _run(["docker", "image", "rm", tag], what=f"removing {tag}")
    return stale


def ensure(variants: tuple[str, ...] = VARIANTS) -> tuple[dict[str, str], list[Step]]:
    """Wheels, base image and the given variants: {variant: tag}, and the steps with timings."""
    steps = [fetch_wheels(), base_image()]
    base_tag = steps[1].result
    rhash = recipe_hash(base_tag)
    tags: dict[str, str] = {}
    for variant in VARIANTS:
        if variant in variants:
            step = build_variant(variant, base_tag, rhash)
            steps.append(step)
            tags[variant] = step.result
    return tags, steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"default: all of {', '.join(VARIANTS)}")
    parser.add_argument("--prune", action="store_true", help="remove stale e2e/base tags")
    parser.add_argument("--json", action="store_true", help="print the steps as JSON")
    args = parser.parse_args(argv)
    try:
        tags, steps = ensure(tuple(args.variants) or VARIANTS)
        if args.prune:
            keep = set(tags.values()) | {steps[1].result}
            keep |= {variant_tag(v, recipe_hash(steps[1].result)) for v in VARIANTS}
            for tag in prune(keep):
                print(f"removed {tag}", file=sys.stderr)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(s) for s in steps], indent=1))
    else:
        for s in steps:
            state = "cached" if s.cached else f"{s.seconds:6.1f}s"
            print(f"{s.name:22} {state:>8}  {s.result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
