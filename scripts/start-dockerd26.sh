#!/usr/bin/env bash
# Start a second Docker engine beside the default one: Debian trixie's dockerd 26 with the
# containerd image store (what fresh Docker installs use), on its own sockets, data roots,
# pidfiles and bridge. Prints nothing but progress; its DOCKER_HOST is
#   unix://$PYIMGSIZE_D26_DIR/docker.sock   (default dir: /tmp/pyimgsize-d26)
#
# Idempotent: exits 0 at once when that engine already answers. Nothing is installed system-wide:
# docker.io and containerd from trixie are `apt-get download`ed with a source list kept in
# $PYIMGSIZE_D26_DIR/apt (the same mirror as this machine's bookworm sources) and unpacked with
# `dpkg-deb -x` (cached: the download happens once per directory). runc is bookworm's (installed
# with docker.io): trixie's runc needs a newer glibc. Needs root.
#
# The engine gets its own bridge `docker26` (172.29.0.1/16) and --iptables=false: never
# `--bridge none`, which deletes the default engine's docker0.
set -euo pipefail

dir="${PYIMGSIZE_D26_DIR:-/tmp/pyimgsize-d26}"
timeout_s="${PYIMGSIZE_DOCKERD_TIMEOUT:-90}"
bridge=docker26
bridge_cidr=172.29.0.1/16
sock="$dir/docker.sock"
root="$dir/root"

answers() {
    DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1
}

if answers; then
    echo "start-dockerd26: the engine at unix://$sock already answers"
    exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
    echo "error: starting dockerd 26 needs root" >&2
    exit 1
fi
mkdir -p "$dir"

# The Debian mirror this machine already uses (deb822 .sources first, then one-line .list).
mirror() {
    local uri
    uri="$(grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)"
    if [[ -z "$uri" ]]; then
        uri="$(grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list \
            /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v -- '-security' |
            awk '{for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' |
            head -n 1 || true)"
    fi
    echo "$uri"
}

if [[ ! -x "$root/usr/sbin/dockerd" && ! -x "$root/usr/bin/dockerd" ]]; then
    uri="$(mirror)"
    if [[ -z "$uri" ]]; then
        echo "error: no Debian mirror found in /etc/apt/sources.list*" >&2
        exit 1
    fi
    apt_dir="$dir/apt"
    mkdir -p "$apt_dir/lists/partial" "$dir/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" \
        >"$apt_dir/sources.list"
    apt_opts=(
        -o "Dir::Etc::SourceList=$apt_dir/sources.list"
        -o "Dir::Etc::SourceParts=/nonexistent"
        -o "Dir::State::Lists=$apt_dir/lists"
    )
    echo "start-dockerd26: downloading docker.io and containerd from trixie"
    apt-get "${apt_opts[@]}" update -qq
    (cd "$dir/debs" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root download -qq \
        docker.io/trixie containerd/trixie)
    for deb in "$dir"/debs/*.deb; do
        dpkg-deb -x "$deb" "$root"
    done
fi
rm -f "$root/usr/bin/runc" "$root/usr/sbin/runc"  # bookworm's runc: trixie's needs glibc 2.38
if ! command -v runc >/dev/null 2>&1; then
    echo "error: runc is not installed; install the Debian package docker.io (it brings runc)" >&2
    exit 1
fi
export PATH="$root/usr/bin:$root/usr/sbin:$PATH"

if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$bridge_cidr" dev "$bridge"
fi
ip link set "$bridge" up

echo '{"features": {"containerd-snapshotter": true}}' >"$dir/daemon.json"

ctr_sock="$dir/containerd.sock"
if ! [[ -S "$ctr_sock" ]] || ! { [[ -s "$dir/containerd.pid" ]] && kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null; }; then
    rm -f "$ctr_sock"
    nohup containerd --root "$dir/ctr-root" --state "$dir/ctr-state" --address "$ctr_sock" \
        >"$dir/containerd.log" 2>&1 </dev/null &
    echo $! >"$dir/containerd.pid"
    for ((i = 0; i < 30; i++)); do
        [[ -S "$ctr_sock" ]] && break
        sleep 0.5
    done
fi

if ! { [[ -s "$dir/docker.pid" ]] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; }; then
    nohup dockerd --data-root "$dir/docker-root" --exec-root "$dir/exec" \
        --pidfile "$dir/docker.pid" -H "unix://$sock" --containerd "$ctr_sock" \
        --bridge "$bridge" --iptables=false --ip6tables=false \
        --config-file "$dir/daemon.json" >"$dir/dockerd.log" 2>&1 </dev/null &
fi

for ((waited = 0; waited < timeout_s; waited++)); do
    if answers; then
        echo "start-dockerd26: dockerd $(DOCKER_HOST="unix://$sock" docker version -f '{{.Server.Version}}') answers at unix://$sock after ${waited}s"
        exit 0
    fi
    sleep 1
done
echo "error: dockerd 26 did not answer within ${timeout_s}s; last lines of $dir/dockerd.log:" >&2
tail -n 40 "$dir/dockerd.log" >&2 2>/dev/null || true
exit 1
