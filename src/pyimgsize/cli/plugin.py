"""The Docker CLI plugin ``docker-pyimgsize``: ``docker pyimgsize inspect IMAGE``.

Contract (docker/cli ``cli-plugins/manager``, ``cli-plugins/socket``):

- ``docker-pyimgsize docker-cli-plugin-metadata`` (``argv[1]`` exactly) prints the plugin's
  metadata as JSON. The CLI runs it for every plugin on each ``docker --help`` and
  ``docker info``, so this path imports nothing heavy (no docker SDK, typer or pydantic).
- Otherwise the plugin gets the *full original* docker argv: ``docker --context x pyimgsize
  inspect IMG`` runs ``[path, "--context", "x", "pyimgsize", "inspect", "IMG"]``. Docker's global
  options before the plugin name are not applied by the CLI; the plugin applies them itself, as
  environment variables the docker SDK reads (``DOCKER_HOST``, ``DOCKER_CONTEXT``,
  ``DOCKER_CONFIG``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``), then runs pyimgsize's CLI.
- ``DOCKER_CLI_PLUGIN_SOCKET``: the CLI closes this socket to ask the plugin to stop (it got a
  signal that the plugin may not have); the plugin then interrupts itself (exit 130).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyimgsize import __version__
from pyimgsize.cli.install import EXECUTABLE_NAME, PLUGIN_NAME
from pyimgsize.errors import UsageError

METADATA_COMMAND = "docker-cli-plugin-metadata"
SHORT_DESCRIPTION = "Where the bytes of an image go, Python-wise"
EXIT_INTERRUPTED = 130

# Docker's global options (docker/cli cli/flags/options.go), long and short spellings.
_VALUE_OPTIONS: dict[str, str] = {
    "--config": "config",
    "--context": "context",
    "-c": "context",
    "--host": "host",
    "-H": "host",
    "--log-level": "log_level",
    "-l": "log_level",
    "--tlscacert": "tlscacert",
    "--tlscert": "tlscert",
    "--tlskey": "tlskey",
}
_FLAG_OPTIONS: dict[str, str] = {
    "--debug": "debug",
    "-D": "debug",
    "--tls": "tls",
    "--tlsverify": "tlsverify",
}
_TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE_WORDS = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_CERT_FILES = (("tlscacert", "ca.pem"), ("tlscert", "cert.pem"), ("tlskey", "key.pem"))


@dataclass(frozen=True, slots=True)
class DockerGlobals:
    """Docker's global options as given before the plugin name (``None``: not given)."""

    config: str | None = None
    context: str | None = None
    host: str | None = None
    log_level: str | None = None
    debug: bool = False
    tls: bool | None = None
    tlsverify: bool | None = None
    tlscacert: str | None = None
    tlscert: str | None = None
    tlskey: str | None = None


def plugin_metadata() -> dict[str, str]:
    """The metadata document the Docker CLI reads (Go field names; ``SchemaVersion`` 0.1.0)."""
    metadata = {
        "SchemaVersion": "0.1.0",
        "Vendor": "pyimgsize",
        "Version": __version__,
        "ShortDescription": SHORT_DESCRIPTION,
    }
    url = _project_url()
    if url:
        metadata["URL"] = url
    return metadata


def _project_url() -> str | None:
    """The project's home page from the installed distribution's metadata, if it declares one."""
    from importlib import metadata

    try:
        urls = metadata.metadata(PLUGIN_NAME).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in {"homepage", "home", "source", "repository"} and url.strip():
            return str(url.strip())
    return None


def _parse_bool(option: str, value: str) -> bool:
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    raise UsageError(f"invalid value {value!r} for docker option {option}: expected true or false")


def parse_docker_argv(argv: Sequence[str]) -> tuple[DockerGlobals, list[str]]:
    """Split the docker argv a plugin receives into docker's global options and our arguments.

    ``argv[0]`` is the plugin's path; options up to the plugin name are docker's (``--opt value``,
    ``--opt=value``, ``-o value``, ``-ovalue``, ``-o=value``, clustered short flags like ``-DH``,
    booleans as ``--tls`` or ``--tls=false``). Everything after the plugin name is returned as is.
    """
    values: dict[str, str | bool] = {}
    args = list(argv[1:])
    index = 0

    def take_value(option: str, inline: str | None) -> str:
        nonlocal index
        if inline is not None:
            return inline
        if index >= len(args):
            raise UsageError(f"docker option {option} needs a value")
        value = args[index]
        index += 1
        return value

    def store(option: str, field: str, value: str | bool) -> None:
        if field == "host" and "host" in values and values["host"] != value:
            raise UsageError("docker: specify only one -H/--host")
        values[field] = value

    while index < len(args):
        arg = args[index]
        index += 1
        if arg == PLUGIN_NAME:
            return DockerGlobals(**values), args[index:]  # type: ignore[arg-type]
        if arg.startswith("--"):
            name, has_inline, inline = arg.partition("=")
            if name in _VALUE_OPTIONS:
                store(name, _VALUE_OPTIONS[name], take_value(name, inline if has_inline else None))
            elif name in _FLAG_OPTIONS:
                store(name, _FLAG_OPTIONS[name], _parse_bool(name, inline) if has_inline else True)
            else:
                raise UsageError(f"unknown docker global option {name}")
        elif arg.startswith("-") and len(arg) > 1:
            # pflag shorthand rules: flags may be clustered; a value option takes the rest of
            # the argument (after an optional "=") or, when nothing is left, the next one.
            position = 1
            while position < len(arg):
                short = f"-{arg[position]}"
                rest = arg[position + 1 :]
                if short in _VALUE_OPTIONS:
                    inline_value = rest.removeprefix("=") if rest else None
                    store(short, _VALUE_OPTIONS[short], take_value(short, inline_value))
                    break
                if short in _FLAG_OPTIONS:
                    if rest.startswith("="):
                        store(short, _FLAG_OPTIONS[short], _parse_bool(short, rest[1:]))
                        break
                    store(short, _FLAG_OPTIONS[short], True)
                    position += 1
                    continue
                raise UsageError(f"unknown docker global option {short}")
        else:
            raise UsageError(
                f"{EXECUTABLE_NAME} is a Docker CLI plugin: run `docker {PLUGIN_NAME} ...` "
                f"(or `{PLUGIN_NAME} ...` directly); got {arg!r} before the plugin name"
            )
    raise UsageError(
        f"{EXECUTABLE_NAME} is a Docker CLI plugin: run `docker {PLUGIN_NAME} ...` "
        f"(or `{PLUGIN_NAME} ...` directly)"
    )


def apply_docker_globals(
    options: DockerGlobals, environ: MutableMapping[str, str] | None = None
) -> Path | None:
    """Apply docker's global options the way the docker CLI would, as SDK environment variables.

    ``--config`` sets ``DOCKER_CONFIG``. ``--context NAME`` sets ``DOCKER_CONTEXT`` and, as the
    CLI's flag beats ``DOCKER_HOST``, drops ``DOCKER_HOST`` and its TLS variables (except for the
    ``default`` context, which is built from them). ``-H`` sets ``DOCKER_HOST``. ``--tls`` /
    ``--tlsverify`` (with ``--tlscacert/--tlscert/--tlskey``, defaulting to ``ca.pem``,
    ``cert.pem``, ``key.pem`` in ``DOCKER_CERT_PATH`` or the docker config directory) set
    ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``. The SDK only takes a directory with those
    three names, so files named otherwise are linked into a fresh temporary directory, which is
    returned (the caller removes it); otherwise returns ``None``.
    """
    env = os.environ if environ is None else environ
    if options.context is not None and options.host is not None:
        raise UsageError("conflicting docker options: either specify --host or --context, not both")
    default_cert_dir = Path(
        env.get("DOCKER_CERT_PATH") or env.get("DOCKER_CONFIG") or Path.home() / ".docker"
    )
    if options.config is not None:
        env["DOCKER_CONFIG"] = options.config
    named_context = options.context is not None and options.context != "default"
    if options.context is not None:
        env["DOCKER_CONTEXT"] = options.context
        if named_context:
            for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
                env.pop(name, None)
    if options.host is not None:
        env["DOCKER_HOST"] = options.host
        env.pop("DOCKER_CONTEXT", None)

    cert_flags = {field: getattr(options, field) for field, _ in _CERT_FILES}
    tls_given = (
        options.tls is not None
        or options.tlsverify is not None
        or any(value is not None for value in cert_flags.values())
    )
    if named_context or not tls_given:
        return None  # a named context brings its own TLS settings, as in the docker CLI
    verify = (
        options.tlsverify
        if options.tlsverify is not None
        else env.get("DOCKER_TLS_VERIFY", "") != ""
    )
    if not (options.tls or options.tlsverify is not None or verify):
        return None  # certificate flags without --tls/--tlsverify are ignored by the CLI too
    files = {
        standard: Path(cert_flags[field] or default_cert_dir / standard).expanduser().absolute()
        for field, standard in _CERT_FILES
    }
    scratch: Path | None = None
    parents = {path.parent for path in files.values()}
    if len(parents) == 1 and all(path.name == standard for standard, path in files.items()):
        cert_path = parents.pop()
    else:
        scratch = Path(tempfile.mkdtemp(prefix="pyimgsize-tls-"))
        for standard, path in files.items():
            (scratch / standard).symlink_to(path)
        cert_path = scratch
    env["DOCKER_CERT_PATH"] = str(cert_path)
    env["DOCKER_TLS_VERIFY"] = "1" if verify else ""
    return scratch


def pyimgsize_argv(options: DockerGlobals, rest: Sequence[str]) -> list[str]:
    """The argv for ``cli.app.main``: our arguments, plus ``--debug`` for docker's ``-D``."""
    return ["--debug", *rest] if options.debug else list(rest)


def _watch_cli_socket(environ: MutableMapping[str, str]) -> None:
    """Interrupt this process when the Docker CLI closes ``DOCKER_CLI_PLUGIN_SOCKET``."""
    address = environ.get("DOCKER_CLI_PLUGIN_SOCKET")
    if not address:
        return
    import signal
    import socket
    import threading

    # Go writes Linux abstract socket names with a leading "@" for the leading NUL byte.
    path = "\0" + address[1:] if address.startswith("@") else address
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return

    def wait_for_close() -> None:
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
        finally:
            sock.close()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=wait_for_close, name="docker-cli-plugin-socket", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``docker-pyimgsize``; ``argv`` is the full argv, ``argv[0]`` the path."""
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == METADATA_COMMAND:
        sys.stdout.write(json.dumps(plugin_metadata(), indent=2) + "\n")
        return 0
    scratch: Path | None = None
    try:
        options, rest = parse_docker_argv(args)
        scratch = apply_docker_globals(options)
        _watch_cli_socket(os.environ)
        from pyimgsize.cli.app import main as cli_main

        code: int = cli_main(pyimgsize_argv(options, rest), prog_name="docker pyimgsize")
        return code
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return EXIT_INTERRUPTED
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
