#!/usr/bin/env bash
# Install the Debian packages of scripts/test-packages.txt (and any given as arguments) that are
# not installed yet. Needs root and apt-get; installs nothing and exits 0 when all are present.
#
# Package installs must not start services (CI has no init system; on a developer machine the
# test run starts its own engine and stops it again): a policy-rc.d that refuses every start is
# in place for the install, and removed afterwards only if this script created it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]//g' \
    "$here/test-packages.txt")
wanted+=("$@")

missing=()
for package in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing Debian packages ${missing[*]}: installing them needs root and apt-get" >&2
    exit 1
fi

echo "install-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
