#!/usr/bin/env bash
# Build the end-to-end base image from Debian packages, offline for docker: no base image is
# pulled. mmdebstrap installs python3, python3-venv and python3-pip into a tarball on the host
# (using the host's own apt sources), and `docker import` turns it into a one-layer image.
#
# The image is tagged pyimgsize-test/base:<hash of this recipe> and rebuilt only when the recipe
# (this file) changes. Prints the tag on stdout; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite="bookworm"
packages="python3,python3-venv,python3-pip"

recipe_hash="$(sha256sum "${here}/base-image.sh" | cut -c1-16)"
tag="pyimgsize-test/base:${recipe_hash}"

if docker image inspect "${tag}" >/dev/null 2>&1; then
    echo "${tag}"
    exit 0
fi

if ! command -v mmdebstrap >/dev/null 2>&1; then
    echo "base-image: installing mmdebstrap" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2
fi

# The host's apt sources, as files: mmdebstrap pastes each into the chroot's sources.list.
mirrors=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    if [[ -f "${f}" ]] && grep -qE '^[[:space:]]*(deb |URIs:)' "${f}"; then
        mirrors+=("${f}")
    fi
done
if [[ ${#mirrors[@]} -eq 0 ]]; then
    echo "base-image: no apt sources found under /etc/apt on this host" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

echo "base-image: mmdebstrap ${suite} +${packages} (${mirrors[*]})" >&2
mmdebstrap \
    --variant=minbase \
    --include="${packages}" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "${suite}" "${work}/rootfs.tar" "${mirrors[@]}" >&2

docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --message "pyimgsize e2e base ${recipe_hash}" \
    "${work}/rootfs.tar" "${tag}" >&2
echo "${tag}"
