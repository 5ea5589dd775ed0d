#!/usr/bin/env bash
# Start Debian's dockerd (package docker.io) in the background unless an engine already answers.
#
#   start-dockerd.sh                 the machine's default engine (/var/run/docker.sock); it keeps
#                                    running after this script (CI's end-to-end step uses it)
#   start-dockerd.sh --private DIR   an engine of its own, everything under DIR: socket
#                                    DIR/docker.sock, pid file, data root, exec root, log, config;
#                                    stop it with scripts/stop-dockerd.sh --private DIR
#
# A private engine shares nothing with an engine already running on the machine: its own bridge
# ($PYIMGSIZE_ENGINE_BRIDGE, default pyimgsize0, address $PYIMGSIZE_ENGINE_CIDR, default
# 172.31.0.1/24; never `--bridge none`, which deletes an existing docker0), its own containerd
# namespace, no iptables rules and no ip_forward change (the tests' containers have no network),
# and DIR/daemon.json (written as `{}` unless present) instead of /etc/docker/daemon.json. Its
# data root persists in DIR, so the offline base images the tests build are kept for next time.
#
# Idempotent: exits 0 at once when the engine answers (`docker info`, honouring DOCKER_HOST in
# the default mode). Otherwise starts `dockerd` (as root), logging to $PYIMGSIZE_DOCKERD_LOG
# (default /tmp/pyimgsize-dockerd.log; DIR/dockerd.log for a private engine), and waits up to
# $PYIMGSIZE_DOCKERD_TIMEOUT seconds (default 90) for it to answer; when it never answers it
# prints the log's tail and exits 1. Extra daemon flags may be given in $PYIMGSIZE_DOCKERD_ARGS,
# another dockerd binary in $PYIMGSIZE_DOCKERD.
set -euo pipefail

dockerd_bin="${PYIMGSIZE_DOCKERD:-dockerd}"
timeout_s="${PYIMGSIZE_DOCKERD_TIMEOUT:-90}"
flags=()
# shellcheck disable=SC2206  # PYIMGSIZE_DOCKERD_ARGS is a list of flags
extra=(${PYIMGSIZE_DOCKERD_ARGS:-})

case "${1:-}" in
"")
    log="${PYIMGSIZE_DOCKERD_LOG:-/tmp/pyimgsize-dockerd.log}"
    pidfile=/var/run/docker.pid
    name="the Docker engine"
    ;;
--private)
    if [[ -z "${2:-}" ]]; then
        echo "error: --private needs a directory" >&2
        exit 2
    fi
    mkdir -p "$2"
    dir="$(cd "$2" && pwd)"
    socket="$dir/docker.sock"
    # dockerd puts containerd's socket at EXEC_ROOT/containerd/containerd.sock.ttrpc: a unix
    # socket path has at most 107 bytes.
    if ((${#dir} > 60)); then
        echo "error: private engine directory $dir is too long for unix sockets (max 60 characters)" >&2
        exit 2
    fi
    log="$dir/dockerd.log"
    pidfile="$dir/docker.pid"
    bridge="${PYIMGSIZE_ENGINE_BRIDGE:-pyimgsize0}"
    cidr="${PYIMGSIZE_ENGINE_CIDR:-172.31.0.1/24}"
    name="the private Docker engine at unix://$socket"
    export DOCKER_HOST="unix://$socket"
    [[ -s "$dir/daemon.json" ]] || echo '{}' >"$dir/daemon.json"
    flags=(
        --host "unix://$socket" --pidfile "$pidfile"
        --data-root "$dir/data" --exec-root "$dir/exec"
        --config-file "$dir/daemon.json"
        --bridge "$bridge" --iptables=false --ip-forward=false
        --containerd-namespace pyimgsize --containerd-plugins-namespace pyimgsize-plugins
    )
    ;;
*)
    echo "error: unknown argument $1 (usage: start-dockerd.sh [--private DIR])" >&2
    exit 2
    ;;
esac

engine_answers() {
    timeout 20 docker info >/dev/null 2>&1
}

if ! command -v docker >/dev/null 2>&1; then
    echo "error: the docker CLI is not installed; install the Debian package docker.io" >&2
    exit 1
fi

if engine_answers; then
    echo "start-dockerd: $name already answers"
    exit 0
fi

# A dockerd that is still starting up owns the pid file: wait for it rather than start a second.
pid=""
if [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
    [[ "$(cat "/proc/$(cat "$pidfile")/comm" 2>/dev/null)" == dockerd ]]; then
    pid="$(cat "$pidfile")"
    echo "start-dockerd: dockerd (pid $pid) is running but not answering yet; waiting"
else
    if ! command -v "$dockerd_bin" >/dev/null 2>&1; then
        echo "error: dockerd is not installed; install the Debian package docker.io" >&2
        exit 1
    fi
    if [[ "$(id -u)" != 0 ]]; then
        echo "error: dockerd is not running and starting it needs root" >&2
        exit 1
    fi
    if [[ -n "${bridge:-}" ]] && ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add "$bridge" type bridge
        ip addr add "$cidr" dev "$bridge"
        ip link set "$bridge" up
    fi
    mkdir -p "$(dirname "$log")"
    # A session of its own: a Ctrl-C meant for the tests (or for this script's caller) must not
    # reach dockerd; it stops when stop-dockerd.sh (or whoever runs the machine) says so.
    setsid nohup "$dockerd_bin" "${flags[@]}" "${extra[@]}" >"$log" 2>&1 </dev/null &
    pid=$!
    echo "start-dockerd: started dockerd (pid $pid) for $name, log: $log"
fi

for ((waited = 0; waited < timeout_s; waited++)); do
    if engine_answers; then
        echo "start-dockerd: $name answers after ${waited}s"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "error: dockerd (pid $pid) exited before answering" >&2
        break
    fi
    sleep 1
done

if engine_answers; then
    echo "start-dockerd: $name answers"
    exit 0
fi
echo "error: $name did not answer within ${timeout_s}s; last lines of $log:" >&2
tail -n 40 "$log" >&2 2>/dev/null || echo "(no log at $log)" >&2
exit 1
