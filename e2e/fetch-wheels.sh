#!/usr/bin/env bash
# Fetch the pinned wheels for the end-to-end images on the host (containers have no network):
# e2e/wheels/pkgs/ for the requirements, e2e/wheels/tools/ for uv. Wheels for CPython 3.11 on
# manylinux x86_64, whatever the host runs. Skips the download when the wheel set already matches
# the requirement files (a stamp holds their hash).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wheels="${here}/wheels"
stamp="${wheels}/.stamp"
want="$(cat "${here}"/requirements*.txt | sha256sum | cut -c1-16)"

if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
    exit 0
fi

platform=(
    --only-binary=:all: --no-deps --require-hashes
    --python-version 3.11 --implementation cp --abi cp311
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
    --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
    --platform manylinux2014_x86_64
)
rm -rf "${wheels}/pkgs" "${wheels}/tools"
mkdir -p "${wheels}/pkgs" "${wheels}/tools"
python3 -m pip download --quiet --disable-pip-version-check "${platform[@]}" \
    -d "${wheels}/pkgs" -r "${here}/requirements.txt"
python3 -m pip download --quiet --disable-pip-version-check "${platform[@]}" \
    -d "${wheels}/tools" -r "${here}/requirements-tools.txt"
echo "${want}" >"${stamp}"
