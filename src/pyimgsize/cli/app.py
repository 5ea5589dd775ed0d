"""The command line: the only module that prints or exits.

Every error is one line on stderr (`error: ...`) and an exit code from design.md §5; `--debug`
shows the traceback as well.
"""

from __future__ import annotations

import gc
import inspect as inspect_module
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer

try:  # typer >= 0.24 vendors click; its usage errors are typer._click's classes
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as click_exc  # type: ignore[no-redef]

from pyimgsize import __version__
from pyimgsize.cli.output import emit
from pyimgsize.cli.signals import Stopped, stop_signals
from pyimgsize.errors import ExitCode, PyImgSizeError, UsageError

if TYPE_CHECKING:
    from pyimgsize.report import InspectReport
    from pyimgsize.tree import FileTree

app = typer.Typer(
    name="pyimgsize",
    help="Where do the bytes of a container image go, Python-wise?",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pyimgsize {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Where do the bytes of a container image go, Python-wise?

    IMAGE references: docker:NAME[:TAG|@DIGEST] (the Docker engine), docker-archive:PATH
    (docker save output, plain or gzipped), oci:PATH (OCI layout, directory or tar), or a bare
    path (kind detected) or name (the engine).
    """
    _state["debug"] = debug


# --- shared plumbing -------------------------------------------------------------------------


class Progress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    def __init__(self, label: str) -> None:
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")
        self.label = label
        self._last = 0.0
        self._shown = False

    def __call__(self, what: str, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        from pyimgsize.units import format_bytes

        sys.stderr.write(f"\r\x1b[K{self.label}: {what} {format_bytes(done)}")
        sys.stderr.flush()
        self._shown = True

    def side(self, side: str, what: str, done: int) -> None:
        """Progress of one of two images read at once (diff's A and B, check's baseline)."""
        self(f"{side}: {what}", done)

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False


def refuse_html_on_terminal(fmt: str, output: Path | None) -> None:
    """An HTML page is a file to open in a browser, never text for a terminal (checked before
    any image is read)."""
    if fmt == "html" and output is None and sys.stdout.isatty():
        raise UsageError(
            "--format html writes a page for a browser, not for a terminal: "
            "add --output FILE (-o FILE)"
        )


def table_width(output: Path | None) -> int | None:
    """How wide tables may be: a file (`--output`) keeps full width; else `COLUMNS` when set
    (a user's explicit choice, honoured in pipes too), else the terminal's width when stdout
    is a terminal; a pipe keeps full width."""
    if output is not None:
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    return None


ImageArg = Annotated[
    str,
    typer.Argument(
        metavar="IMAGE",
        help="docker:REF, docker-archive:PATH, oci:PATH, a path, or an engine image name.",
        show_default=False,
    ),
]
ImageOpt = Annotated[
    str | None,
    typer.Option("--image", help="Which image of an archive or layout that holds several."),
]
PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform", help="os/arch[/variant] in a multi-platform index (default: this machine's)."
    ),
]
PullOpt = Annotated[
    bool, typer.Option("--pull", help="Let the engine pull an image it does not have.")
]
InsecureOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--insecure-registry",
        metavar="HOST",
        help="Read this registry host over plain HTTP or with an unverified certificate "
        "(repeatable; loopback hosts may always answer plain HTTP).",
        show_default=False,
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Read every layer afresh: neither use nor fill the per-layer result cache.",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write the report to FILE instead of stdout.", dir_okay=False
    ),
]


# --- inspect ---------------------------------------------------------------------------------

from pyimgsize.render import OutputFormat, SortKey  # noqa: E402


def _read_image(
    ref: str,
    fmt: OutputFormat,
    label: str,
    *,
    select: str | None,
    platform: str | None,
    pull: bool,
    insecure_registry: list[str] | None,
    no_cache: bool,
) -> tuple[InspectReport, FileTree | None]:
    """Inspect `ref` for `inspect` and `advise`, progress shown under `label`; the file tree
    is built only for the HTML page, the one format that draws it."""
    from pyimgsize.api import inspect as run_inspect
    from pyimgsize.api import inspect_with_tree

    progress = Progress(label)
    how: dict[str, Any] = {
        "image": select,
        "platform": platform,
        "pull": pull,
        "insecure_registries": tuple(insecure_registry or ()),
        "cache": not no_cache,
        "progress": progress,
    }
    try:
        if fmt is OutputFormat.HTML:
            return inspect_with_tree(ref, **how)
        return run_inspect(ref, **how), None
    finally:
        progress.done()


@app.command()
def inspect(
    image: ImageArg,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    top: Annotated[
        int, typer.Option("--top", min=1, help="How many distributions the table shows.")
    ] = 20,
    sort: Annotated[
        SortKey, typer.Option("--sort", help="Sort distributions by this column.")
    ] = SortKey.BYTES,
    output: OutputOpt = None,
    select: ImageOpt = None,
    platform: PlatformOpt = None,
    pull: PullOpt = False,
    insecure_registry: InsecureOpt = None,
    no_cache: NoCacheOpt = False,
) -> int:
    """Per-distribution, per-category and per-layer bytes of an image."""
    from pyimgsize.render import render_inspect

    refuse_html_on_terminal(fmt, output)
    report, tree = _read_image(
        image,
        fmt,
        "pyimgsize",
        select=select,
        platform=platform,
        pull=pull,
        insecure_registry=insecure_registry,
        no_cache=no_cache,
    )
    emit(
        render_inspect(report, fmt, top=top, sort=sort, tree=tree, width=table_width(output)),
        output,
    )
    return ExitCode.OK


# --- advise ----------------------------------------------------------------------------------


@app.command()
def advise(
    image: ImageArg,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    output: OutputOpt = None,
    select: ImageOpt = None,
    platform: PlatformOpt = None,
    pull: PullOpt = False,
    insecure_registry: InsecureOpt = None,
    no_cache: NoCacheOpt = False,
) -> int:
    """What to change in the Dockerfile, each fix with the bytes it saves on this image.

    Suggestions add up (no byte is claimed twice). `exact`: applying the fix removes exactly
    those bytes; `heuristic`: the bytes are exact, removing them may break something (the
    trade-off says what). Exit 0, with or without suggestions.
    """
    from pyimgsize.render.advice import render_advice
    from pyimgsize.report import AdviseReport

    refuse_html_on_terminal(fmt, output)
    report, tree = _read_image(
        image,
        fmt,
        "pyimgsize advise",
        select=select,
        platform=platform,
        pull=pull,
        insecure_registry=insecure_registry,
        no_cache=no_cache,
    )
    advice = AdviseReport.from_inspect(report)
    emit(
        render_advice(advice, fmt, inspected=report, tree=tree, width=table_width(output)),
        output,
    )
    return ExitCode.OK


# --- diff ------------------------------------------------------------------------------------


@app.command()
def diff(
    a: Annotated[
        str,
        typer.Argument(
            metavar="A",
            help="The baseline: an IMAGE or a saved `inspect --format json` report.",
            show_default=False,
        ),
    ],
    b: Annotated[
        str,
        typer.Argument(
            metavar="B", help="The candidate: an IMAGE or a saved report.", show_default=False
        ),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Also list unchanged distributions and each shared layer."),
    ] = False,
    output: OutputOpt = None,
    select: ImageOpt = None,
    select_a: Annotated[
        str | None, typer.Option("--image-a", help="Like --image, for A only.")
    ] = None,
    select_b: Annotated[
        str | None, typer.Option("--image-b", help="Like --image, for B only.")
    ] = None,
    platform: PlatformOpt = None,
    pull: PullOpt = False,
    insecure_registry: InsecureOpt = None,
    no_cache: NoCacheOpt = False,
) -> int:
    """Compare two builds: totals, categories, distributions and aligned layers, B minus A.

    A and B are read at the same time. Percentages are relative to A.
    """
    from pyimgsize.api import diff_sides
    from pyimgsize.render.diff import render_diff

    refuse_html_on_terminal(fmt, output)
    progress = Progress("pyimgsize diff")
    try:
        report, report_a, report_b = diff_sides(
            a,
            b,
            image_a=select_a or select,
            image_b=select_b or select,
            platform=platform,
            pull=pull,
            progress=progress.side,
            insecure_registries=insecure_registry or (),
            cache=not no_cache,
        )
    finally:
        progress.done()
    emit(
        render_diff(
            report, fmt, show_all=show_all, sides=(report_a, report_b), width=table_width(output)
        ),
        output,
    )
    return ExitCode.OK


# --- check -----------------------------------------------------------------------------------

from pyimgsize.check.table import RULES, Rule  # noqa: E402
from pyimgsize.render import CheckFormat  # noqa: E402


def _limit_option(rule: Rule) -> typer.models.OptionInfo:
    """A budget override flag: one rule's limit (a size such as 600MB, or a percentage)."""
    info: typer.models.OptionInfo = typer.Option(
        rule.flag, metavar=rule.metavar, help=rule.help, show_default=False
    )
    return info


def check(
    image: Annotated[
        str,
        typer.Argument(
            metavar="IMAGE",
            help="The image to gate: an IMAGE or a saved `inspect --format json` report.",
            show_default=False,
        ),
    ],
    budget_file: Annotated[
        Path | None,
        typer.Option(
            "--budget",
            "-b",
            dir_okay=False,
            help="Budget file (default: ./pyimgsize.toml, else [tool.pyimgsize.budget] in "
            "./pyproject.toml).",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="IMAGE|REPORT.json",
            help="What growth is measured against (max_growth, max_growth_percent).",
        ),
    ] = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.TABLE,
    output: OutputOpt = None,
    max_package: Annotated[
        list[str] | None,
        typer.Option(
            "--max-package",
            metavar="NAME=SIZE",
            help="Cap one distribution (repeatable).",
            show_default=False,
        ),
    ] = None,
    select: ImageOpt = None,
    platform: PlatformOpt = None,
    pull: PullOpt = False,
    insecure_registry: InsecureOpt = None,
    no_cache: NoCacheOpt = False,
    **limits: str | None,
) -> int:
    """Gate an image on a size budget: exit 0 within budget, 1 when a rule fails.

    Rules come from the budget file; --max-* flags override single rules. Sizes: MB = 10^6,
    MiB = 2^20. Exit 2 for an invalid budget or flags (every problem listed), 3 when an image
    cannot be read.
    """
    from pyimgsize.api import check as run_check
    from pyimgsize.check import load_budget
    from pyimgsize.render.check import render_check

    budget, _found = load_budget(
        Path.cwd(),
        budget_file=budget_file,
        overrides=limits,
        package_overrides=max_package or (),
    )
    progress = Progress("pyimgsize check")
    try:
        verdict = run_check(
            image,
            budget,
            baseline=baseline,
            image=select,
            platform=platform,
            pull=pull,
            progress=progress.side,
            insecure_registries=insecure_registry or (),
            cache=not no_cache,
        )
    finally:
        progress.done()
    emit(render_check(verdict, fmt, width=table_width(output)), output)
    return ExitCode.OK if verdict.passed else ExitCode.BUDGET_EXCEEDED


def _with_rule_flags(command: Callable[..., int]) -> Callable[..., int]:
    """`command` with one `--max-*` option per row of the rule table (before `--max-package`):
    a new rule gets its flag without a CLI edit. typer reads the signature and annotations."""
    signature = inspect_module.signature(command)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    at = next(i for i, p in enumerate(fixed) if p.name == "max_package")
    hints = get_type_hints(command, include_extras=True)
    flags = []
    for rule in RULES:
        annotation = Annotated[str | None, _limit_option(rule)]
        flags.append(
            inspect_module.Parameter(
                rule.name,
                inspect_module.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=annotation,
            )
        )
        hints[rule.name] = annotation
    params = [
        p.replace(
            kind=inspect_module.Parameter.KEYWORD_ONLY if i >= at else p.kind,
            annotation=hints[p.name],
        )
        for i, p in enumerate(fixed)
    ]
    params[at:at] = flags
    hints.pop("limits", None)
    command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = hints
    return command


app.command("check")(_with_rule_flags(check))


# --- cache ---------------------------------------------------------------------------------

cache_app = typer.Typer(
    help="The per-layer result cache: re-inspecting an image reads only layers it has not seen.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info() -> int:
    """Where the cache is, how many layers it holds and how large it is."""
    from pyimgsize.layers.cache import LayerCache
    from pyimgsize.render.cache import render_cache_info

    typer.echo(render_cache_info(LayerCache().info()))
    return ExitCode.OK


@cache_app.command("clear")
def cache_clear() -> int:
    """Remove every cached layer (of every cache format)."""
    from pyimgsize.layers.cache import LayerCache
    from pyimgsize.render.cache import render_cache_cleared

    cache = LayerCache()
    typer.echo(render_cache_cleared(cache.clear(), str(cache.directory)))
    return ExitCode.OK


# --- install-plugin --------------------------------------------------------------------------


@app.command("install-plugin")
def install_plugin_cmd(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Plugin directory (default: $DOCKER_CONFIG/cli-plugins or ~/.docker/cli-plugins).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Only report whether `docker pyimgsize` works (exit 1 when not)."
        ),
    ] = False,
) -> int:
    """Install `docker pyimgsize`: a launcher in the Docker CLI's plugin directory that runs
    pyimgsize with this Python interpreter."""
    from pyimgsize.cli.install import install_plugin, plugin_state
    from pyimgsize.render.plugin import render_plugin_state

    if check_only:
        state = plugin_state(directory)
        typer.echo(render_plugin_state(state))
        return ExitCode.OK if state.status.works else ExitCode.BUDGET_EXCEEDED
    target = install_plugin(directory, force=force)
    typer.echo(f"installed {target}; try: docker pyimgsize inspect IMAGE")
    return ExitCode.OK


# --- entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None, *, prog_name: str = "pyimgsize") -> int:
    """Run the CLI; returns the exit code. `prog_name` is how usage lines name the program
    (`docker pyimgsize` under the Docker CLI plugin)."""
    args, debug = _take_debug(list(sys.argv[1:] if argv is None else argv))
    if debug:
        args = ["--debug", *args]
    # The pipeline builds tens of thousands of small objects and no reference cycles: the
    # cyclic collector would only rescan them again and again (about a fifth of the run time
    # on a 40,000-file image). Reference counting frees everything; this process is short.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with stop_signals():
            result = app(args=args, prog_name=prog_name, standalone_mode=False)
    except Stopped as exc:  # Ctrl-C or SIGTERM: everything on the way has been cleaned up
        _error(str(exc))
        return exc.exit_code
    except PyImgSizeError as exc:
        if debug:
            traceback.print_exc()
        _error(str(exc))
        return int(exc.exit_code)
    except click_exc.NoArgsIsHelpError as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except click_exc.UsageError as exc:
        if debug:
            traceback.print_exc()
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _error(f"{exc.format_message()}{hint}")
        return int(ExitCode.USAGE)
    except click_exc.ClickException as exc:
        _error(exc.format_message())
        return int(ExitCode.USAGE)
    except typer.Abort:
        _error("aborted")
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, unless --debug
        if debug:
            traceback.print_exc()
        _error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)")
        return 70
    finally:
        if gc_was_enabled:
            gc.enable()
    if isinstance(result, int):
        return result
    return int(ExitCode.OK)


def _take_debug(args: list[str]) -> tuple[list[str], bool]:
    """Remove `--debug` wherever it stands (before a `--` that ends the options): it is a
    global flag, and `pyimgsize inspect IMAGE --debug` should mean what the user meant."""
    end = args.index("--") if "--" in args else len(args)
    kept = [arg for arg in args[:end] if arg != "--debug"]
    return [*kept, *args[end:]], len(kept) != end


def _error(message: str) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    sys.stderr.write(f"error: {first}\n")
    sys.stderr.flush()
