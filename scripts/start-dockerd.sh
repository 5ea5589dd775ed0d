#!/usr/bin/env bash
# Start Debian's dockerd (package docker.io) in the background unless an engine already answers.
#
# Idempotent: exits 0 at once when `docker info` answers. Otherwise starts `dockerd` (as root),
# logging to $PYIMGSIZE_DOCKERD_LOG (default /tmp/pyimgsize-dockerd.log), and waits up to
# $PYIMGSIZE_DOCKERD_TIMEOUT seconds (default 90) for `docker info`; when it never answers it
# prints the log's tail and exits 1. Extra daemon flags may be given in $PYIMGSIZE_DOCKERD_ARGS.
set -euo pipefail

log="${PYIMGSIZE_DOCKERD_LOG:-/tmp/pyimgsize-dockerd.log}"
timeout_s="${PYIMGSIZE_DOCKERD_TIMEOUT:-90}"
pidfile=/var/run/docker.pid

engine_answers() {
    docker info >/dev/null 2>&1
}

if ! command -v docker >/dev/null 2>&1; then
    echo "error: the docker CLI is not installed; install the Debian package docker.io" >&2
    exit 1
fi

if engine_answers; then
    echo "start-dockerd: the Docker engine already answers"
    exit 0
fi

# A dockerd that is still starting up owns the pid file: wait for it rather than start a second.
pid=""
if [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    pid="$(cat "$pidfile")"
    echo "start-dockerd: dockerd (pid $pid) is running but not answering yet; waiting"
else
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "error: dockerd is not installed; install the Debian package docker.io" >&2
        exit 1
    fi
    if [[ "$(id -u)" != 0 ]]; then
        echo "error: dockerd is not running and starting it needs root" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$log")"
    # shellcheck disable=SC2086  # PYIMGSIZE_DOCKERD_ARGS is a list of flags
    nohup dockerd ${PYIMGSIZE_DOCKERD_ARGS:-} >"$log" 2>&1 </dev/null &
    pid=$!
    echo "start-dockerd: started dockerd (pid $pid), log: $log"
fi

for ((waited = 0; waited < timeout_s; waited++)); do
    if engine_answers; then
        echo "start-dockerd: the Docker engine answers after ${waited}s"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "error: dockerd (pid $pid) exited before answering" >&2
        break
    fi
    sleep 1
done

if engine_answers; then
    echo "start-dockerd: the Docker engine answers"
    exit 0
fi
echo "error: the Docker engine did not answer within ${timeout_s}s; last lines of $log:" >&2
tail -n 40 "$log" >&2 2>/dev/null || echo "(no log at $log)" >&2
exit 1
