"""Installing the Docker CLI plugin: link ``docker-pyimgsize`` into the CLI's plugin directory.

Kept apart from ``plugin`` (the plugin's entry point, which runs ``app``) so that ``app`` can
offer ``install-plugin`` without importing its own caller.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import MutableMapping
from pathlib import Path

from pyimgsize.errors import UsageError

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


def install_plugin(target_dir: Path | None = None, *, force: bool = False) -> Path:
    """Symlink the installed ``docker-pyimgsize`` into the Docker CLI's plugin directory.

    ``target_dir`` defaults to ``$DOCKER_CONFIG/cli-plugins`` (``~/.docker/cli-plugins``) and is
    created if needed. Idempotent: a link to the same executable is kept; a dangling link is
    replaced; any other file there is replaced only with ``force``. Returns the link's path.
    Raises ``UsageError`` (one line) when the executable or the directory is unusable.
    """
    executable = find_plugin_executable()
    directory = default_plugin_dir() if target_dir is None else Path(target_dir)
    link = directory / EXECUTABLE_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            if link.exists() and link.resolve() == executable.resolve():
                return link
            if link.exists() and not force:
                raise UsageError(
                    f"{link} already exists and is not this pyimgsize's plugin; "
                    "use --force to replace it"
                )
            link.unlink()
        link.symlink_to(executable)
    except OSError as exc:
        raise UsageError(
            f"cannot install the Docker CLI plugin at {link}: {exc.strerror or exc}"
        ) from exc
    return link
