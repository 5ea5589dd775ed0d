#!/usr/bin/env bash
# Stop a private engine started by `scripts/start-dockerd.sh --private DIR` and remove its bridge.
#
#   stop-dockerd.sh --private DIR
#
# Only the dockerd whose pid is in DIR/docker.pid is signalled (SIGTERM, then SIGKILL after
# $PYIMGSIZE_DOCKERD_STOP_TIMEOUT seconds, default 30); the machine's default engine is never
# touched, so there is deliberately no mode without --private. The bridge
# ($PYIMGSIZE_ENGINE_BRIDGE, default pyimgsize0) is deleted once dockerd is gone. The data root
# stays in DIR for the next run. Exits 0 when nothing runs any more.
set -euo pipefail

if [[ "${1:-}" != --private || -z "${2:-}" ]]; then
    echo "error: usage: stop-dockerd.sh --private DIR" >&2
    exit 2
fi
dir="$(cd "$2" 2>/dev/null && pwd || echo "$2")"
pidfile="$dir/docker.pid"
bridge="${PYIMGSIZE_ENGINE_BRIDGE:-pyimgsize0}"
timeout_s="${PYIMGSIZE_DOCKERD_STOP_TIMEOUT:-30}"

# Alive (a zombie is gone: its parent may never reap it) and still a dockerd (pids are reused).
is_our_dockerd() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ "$stat" == "$1 (dockerd) "* && "$stat" != "$1 (dockerd) Z "* ]]
}

if [[ -s "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    if is_our_dockerd "$pid"; then
        kill -TERM "$pid"
        for ((waited = 0; waited < timeout_s * 10; waited++)); do
            is_our_dockerd "$pid" || break
            sleep 0.1
        done
        if is_our_dockerd "$pid"; then
            echo "stop-dockerd: dockerd (pid $pid) ignored SIGTERM for ${timeout_s}s; killing it" >&2
            kill -KILL "$pid"
            while is_our_dockerd "$pid"; do sleep 0.1; done
        fi
        echo "stop-dockerd: stopped the private engine (pid $pid)"
    fi
fi
# A dockerd that was killed leaves its containerd (and any shims) behind: every process whose
# command line names DIR/exec/ belongs to this engine.
for proc in /proc/[0-9]*; do
    cmdline="$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline")" || continue
    if [[ "$cmdline" == *"$dir/exec/"* ]]; then
        echo "stop-dockerd: killing leftover ${proc#/proc/}: $cmdline"
        kill -KILL "${proc#/proc/}" 2>/dev/null || true
    fi
done
if ip link show "$bridge" >/dev/null 2>&1; then
    ip link delete "$bridge" type bridge
fi
