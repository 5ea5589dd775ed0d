"""Words for the Docker CLI plugin: the launcher script `install-plugin` writes, and the state
`install-plugin --check` reports."""

from __future__ import annotations

import json
import shlex
from typing import assert_never

from pyimgsize.plugin_state import LAUNCHER_MARKER, PluginState, PluginStatus

BROKEN_DESCRIPTION = "BROKEN: its Python environment is gone; run pyimgsize install-plugin again"
_REINSTALL = "reinstall pyimgsize and run `pyimgsize install-plugin` again"


def render_launcher(python: str, version: str) -> str:
    """The `docker-pyimgsize` launcher: runs pyimgsize's plugin with the interpreter it was
    installed with. When that interpreter (or pyimgsize in it) is gone, the plugin still answers
    the Docker CLI's metadata call, so `docker pyimgsize ...` reaches a clear error instead of
    docker's "'pyimgsize' is not a docker command"."""
    broken = json.dumps(
        {
            "SchemaVersion": "0.1.0",
            "Vendor": "pyimgsize",
            "Version": version,
            "ShortDescription": BROKEN_DESCRIPTION,
        }
    )
    gone = (
        f"error: docker pyimgsize: the Python interpreter it was installed with, {python}, "
        f"is gone (a removed virtual environment?); {_REINSTALL}"
    )
    missing = (
        f"error: docker pyimgsize: pyimgsize is no longer installed for {python}; {_REINSTALL}"
    )
    program = "\n".join(
        [
            "import sys",
            "try:",
            "    from pyimgsize.cli.plugin import main",
            "except ImportError:",
            '    if sys.argv[2:3] == ["docker-cli-plugin-metadata"]:',
            f"        print({json.dumps(broken)})",
            "        sys.exit(0)",
            f"    print({json.dumps(missing)}, file=sys.stderr)",
            "    sys.exit(2)",
            "sys.exit(main(sys.argv[1:]))",
        ]
    )
    return "\n".join(
        [
            "#!/bin/sh",
            f"# {LAUNCHER_MARKER} {version}: the Docker CLI plugin `docker pyimgsize`,",
            "# written by `pyimgsize install-plugin`; it runs pyimgsize with this interpreter:",
            f"PYIMGSIZE_PYTHON={shlex.quote(python)}",
            'if [ -x "$PYIMGSIZE_PYTHON" ]; then',
            f'    exec "$PYIMGSIZE_PYTHON" -P -c {shlex.quote(program)} "$0" "$@"',
            "fi",
            'if [ "$1" = docker-cli-plugin-metadata ]; then',
            f"    echo {shlex.quote(broken)}",
            "    exit 0",
            "fi",
            f"echo {shlex.quote(gone)} >&2",
            "exit 2",
            "",
        ]
    )


def render_plugin_state(state: PluginState) -> str:
    """What `install-plugin --check` prints: where the plugin is and whether it runs."""
    head = f"docker pyimgsize: {state.path}"
    python = str(state.python) if state.python is not None else "?"
    match state.status:
        case PluginStatus.OK:
            which = "this pyimgsize's interpreter" if state.current else "another interpreter"
            return f"{head}\n  ok: runs pyimgsize with {python} ({which})"
        case PluginStatus.MISSING:
            return f"{head}\n  not installed: run `pyimgsize install-plugin`"
        case PluginStatus.PYTHON_GONE:
            return (
                f"{head}\n  BROKEN: its Python interpreter {python} is gone; "
                "run `pyimgsize install-plugin` to use this one"
            )
        case PluginStatus.PYIMGSIZE_GONE:
            return (
                f"{head}\n  BROKEN: pyimgsize is no longer installed for {python}; "
                "run `pyimgsize install-plugin` to use this one"
            )
        case PluginStatus.LINK:
            return (
                f"{head}\n  ok for now: a link to {python}, which stops working silently when "
                "its environment goes; run `pyimgsize install-plugin` to install a launcher"
            )
        case PluginStatus.DANGLING_LINK:
            return (
                f"{head}\n  BROKEN: a link to {python}, which is gone; "
                "run `pyimgsize install-plugin` to install a launcher"
            )
        case PluginStatus.FOREIGN:
            return (
                f"{head}\n  not pyimgsize's: another program has this name; "
                "`pyimgsize install-plugin --force` replaces it"
            )
        case _:
            assert_never(state.status)
