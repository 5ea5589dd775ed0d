"""Installing the Docker CLI plugin: a small ``docker-pyimgsize`` launcher in the CLI's plugin
directory that names the Python interpreter pyimgsize is installed for (a symlink into a
virtual environment would vanish silently with it); ``plugin_state`` is what
``install-plugin --check`` reports.

Kept apart from ``plugin`` (the plugin's entry point, which runs ``app``) so that ``app`` can
offer ``install-plugin`` without importing its own caller.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import MutableMapping
from pathlib import Path

from pyimgsize.errors import UsageError
from pyimgsize.plugin_state import LAUNCHER_MARKER, PluginState, PluginStatus

PLUGIN_NAME = "pyimgsize"
EXECUTABLE_NAME = f"docker-{PLUGIN_NAME}"


def default_plugin_dir(environ: MutableMapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/cli-plugins``, or ``~/.docker/cli-plugins``: the CLI's per-user dir."""
    env = os.environ if environ is None else environ
    config_dir = env.get("DOCKER_CONFIG")
    return (Path(config_dir) if config_dir else Path.home() / ".docker") / "cli-plugins"


def find_plugin_executable() -> Path:
    """The installed ``docker-pyimgsize`` script: beside ``sys.executable``, else on ``PATH``."""
    beside = Path(sys.executable).parent / EXECUTABLE_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside.absolute()
    found = shutil.which(EXECUTABLE_NAME)
    if found:
        return Path(found).absolute()
    raise UsageError(
        f"cannot find the {EXECUTABLE_NAME} executable beside {sys.executable} or on PATH; "
        "reinstall pyimgsize with pip"
    )


def _launcher_python(path: Path) -> Path | None:
    """The interpreter a launcher written by ``install_plugin`` names; None for any other file."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if f"# {LAUNCHER_MARKER}" not in head:
        return None
    import shlex

    for line in head.splitlines():
        if line.startswith("PYIMGSIZE_PYTHON="):
            words = shlex.split(line.removeprefix("PYIMGSIZE_PYTHON="))
            return Path(words[0]) if words else None
    return None


def _is_our_link(path: Path) -> bool:
    """A symlink to a ``docker-pyimgsize`` (what older versions installed), dangling or not."""
    return path.is_symlink() and Path(os.readlink(path)).name == EXECUTABLE_NAME


def install_plugin(target_dir: Path | None = None, *, force: bool = False) -> Path:
    """Write the ``docker-pyimgsize`` launcher into the Docker CLI's plugin directory.

    ``target_dir`` defaults to ``$DOCKER_CONFIG/cli-plugins`` (``~/.docker/cli-plugins``) and is
    created if needed. The launcher runs pyimgsize with this interpreter (``sys.executable``)
    and says so clearly when that interpreter is gone. Idempotent; a launcher for another
    interpreter and a link installed by an older version are replaced; any other file only
    with ``force``. Returns the launcher's path. Raises ``UsageError`` (one line) when the
    directory is unusable.
    """
    from pyimgsize import __version__
    from pyimgsize.render.plugin import render_launcher

    directory = default_plugin_dir() if target_dir is None else Path(target_dir)
    path = directory / EXECUTABLE_NAME
    text = render_launcher(str(Path(sys.executable).absolute()), __version__)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        ours = _launcher_python(path) is not None or _is_our_link(path)
        if (path.is_symlink() or path.exists()) and not ours and not force:
            raise UsageError(
                f"{path} already exists and is not this pyimgsize's plugin; "
                "use --force to replace it"
            )
        scratch = directory / f".{EXECUTABLE_NAME}.{os.getpid()}.tmp"
        scratch.write_text(text, encoding="utf-8")
        scratch.chmod(0o755)
        os.replace(scratch, path)
    except OSError as exc:
        raise UsageError(
            f"cannot install the Docker CLI plugin at {path}: {exc.strerror or exc}"
        ) from exc
    return path


def plugin_state(target_dir: Path | None = None) -> PluginState:
    """Whether ``docker pyimgsize`` works, and with which interpreter (it is run to see that
    pyimgsize still imports there)."""
    directory = default_plugin_dir() if target_dir is None else Path(target_dir)
    path = directory / EXECUTABLE_NAME
    if _is_our_link(path):
        target = Path(os.readlink(path))
        target = target if target.is_absolute() else path.parent / target
        status = PluginStatus.LINK if path.exists() else PluginStatus.DANGLING_LINK
        return PluginState(path, status, target)
    if not path.exists() and not path.is_symlink():
        return PluginState(path, PluginStatus.MISSING)
    python = _launcher_python(path)
    if python is None:
        return PluginState(path, PluginStatus.FOREIGN)
    current = python == Path(sys.executable).absolute()
    if not (python.is_file() and os.access(python, os.X_OK)):
        return PluginState(path, PluginStatus.PYTHON_GONE, python, current)
    probe = subprocess.run(
        [str(python), "-P", "-c", "import pyimgsize.cli.plugin"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    status = PluginStatus.OK if probe.returncode == 0 else PluginStatus.PYIMGSIZE_GONE
    return PluginState(path, status, python, current)
