#!/usr/bin/env bash
# Run a test command with the Docker engine the tests need: `make test` and `make e2e` run
# their pytest through this script, and so does CI (.ci/run calls make).
#
#   test-env.sh [--rerun 'make test'] [--] COMMAND [ARG...]
#
# The engine, first that applies:
#   1. One answers (DOCKER_HOST, else the default socket; probed with the docker SDK the tests
#      use, from $PYTHON): COMMAND runs against it.
#   2. Root: a private engine is started (scripts/start-dockerd.sh --private DIR, with
#      DIR=$PYIMGSIZE_ENGINE_DIR, default ~/.cache/pyimgsize-dev/engine), COMMAND runs with
#      DOCKER_HOST pointing at it, and the engine is stopped afterwards (scripts/stop-dockerd.sh)
#      whatever COMMAND's outcome. Runs sharing DIR take turns (a lock in DIR).
#   3. Otherwise (not root; no dockerd and no apt-get; the private engine did not start):
#      COMMAND still runs, with PYIMGSIZE_ENGINE_UNAVAILABLE (why) and PYIMGSIZE_ENGINE_HINT
#      (the command that would run the engine tests: sudo plus --rerun's command) set. The tests
#      that need the engine do not run; tests/conftest.py names them in one line at the end,
#      and fails the run only under CI / PYIMGSIZE_REQUIRE_ENGINE.
# As root with apt-get, the missing Debian packages of scripts/test-packages.txt (docker.io,
# busybox-static, ...) are installed first. The exit status is COMMAND's.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

say() {
    echo "test-env: $*" >&2
}

# 0: an engine answers; 1: none answers; 3: the docker SDK is not installed for $python.
probe() {
    "$python" - <<'PY' >/dev/null 2>&1
import sys

try:
    import docker
except ImportError:
    sys.exit(3)
try:
    docker.from_env(timeout=15).ping()
except Exception:
    sys.exit(1)
PY
}

# Run COMMAND without an engine, telling tests/conftest.py why and what would run the tests.
without_engine() {
    local reason="$1" hint="$2"
    shift 2
    exec 9>&-
    say "$reason: the tests that need it will not run"
    export PYIMGSIZE_ENGINE_UNAVAILABLE="$reason" PYIMGSIZE_ENGINE_HINT="$hint"
    exec "$@"
}

stop_private() {
    bash "$here/stop-dockerd.sh" --private "$dir" 9>&- >&2 || say "stopping the private engine failed"
}

main() {
    python="${PYTHON:-python3}"
    local rerun="make test"
    if [[ "${1:-}" == --rerun ]]; then
        rerun="$2"
        shift 2
    fi
    [[ "${1:-}" == -- ]] && shift
    if (($# == 0)); then
        echo "error: usage: test-env.sh [--rerun COMMAND] [--] COMMAND [ARG...]" >&2
        exit 2
    fi
    [[ "$python" == python3 ]] || rerun="$rerun PYTHON=$python"
    # tests/conftest.py names it (with sudo when not root) for tests that cannot run here.
    export PYIMGSIZE_RERUN="$rerun"

    local root=""
    [[ "$(id -u)" == 0 ]] && root=1
    if [[ -n "$root" ]] && command -v apt-get >/dev/null 2>&1; then
        bash "$here/install-packages.sh" >&2 || say "installing the missing Debian packages failed"
    fi

    local where="${DOCKER_HOST:+DOCKER_HOST=$DOCKER_HOST}" rc=0
    where="${where:-the default socket}"
    probe || rc=$?
    if ((rc == 0)); then
        say "using the Docker engine at $where"
        exec "$@"
    elif ((rc == 3)); then
        say "$python has no docker SDK (run \`make install\` first)"
        exec "$@"
    fi

    local reason="no Docker engine answers at $where"
    if [[ -z "$root" ]]; then
        without_engine "$reason and starting a private one needs root" "sudo $rerun" "$@"
    fi
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 ||
        ! command -v ip >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then
            without_engine "$reason and installing Debian's docker.io failed" "$rerun" "$@"
        fi
        without_engine "$reason, dockerd is not installed and there is no apt-get to install it" \
            "install Debian's docker.io, then: $rerun" "$@"
    fi

    dir="${PYIMGSIZE_ENGINE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/pyimgsize-dev/engine}"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    exec 9>"$dir/lock"
    if ! flock -n 9; then
        say "another run uses the private engine in $dir; waiting for it (up to 30 minutes)"
        if ! flock -w 1800 9; then
            without_engine "$reason and the private engine in $dir stayed busy" "$rerun" "$@"
        fi
    fi

    trap stop_private EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    say "$reason: starting a private engine in $dir"
    local started=$SECONDS
    if ! bash "$here/start-dockerd.sh" --private "$dir" 9>&- >&2; then
        stop_private
        trap - EXIT
        without_engine "$reason and the private engine did not start (log: $dir/dockerd.log)" \
            "$rerun" "$@"
    fi
    say "private engine up in $((SECONDS - started))s"

    unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
    export DOCKER_HOST="unix://$dir/docker.sock"
    local status=0
    "$@" 9>&- || status=$?
    exit "$status"
}

# Everything above is read before anything runs: editing this file during a run is harmless.
main "$@"
