"""The `metering` command.

Each sub-command lives in its own module under ``metering/cli/`` and registers itself on
``app`` (see ``_COMMAND_MODULES``); its ``--help`` examples are in ``metering/cli/examples.py``.
Errors derived from :class:`MeteringError` print as one line and exit 1; a wrong option or
argument (click's own checks, or our :class:`UsageError`) prints the command's usage line
and exits 2; a missing optional extra names the ``pip install`` to run. ``--debug`` shows
the traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from metering import __version__
from metering.errors import MeteringError, UsageError
from metering.extras import extra_message, extra_of

app = typer.Typer(
    name="metering",
    help="Usage metering and tenant chargeback for VMware Cloud Director providers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, soft_wrap=True)  # an error stays one line in a log

# Modules that add commands to `app` when imported. Keep one command family per module.
_COMMAND_MODULES = (
    "metering.cli.demo",
    "metering.cli.simulate",
    "metering.cli.collect",
    "metering.cli.check",
    "metering.cli.rate",
    "metering.cli.quote",
    "metering.cli.close",
    "metering.cli.coverage",
    "metering.cli.sql",
    "metering.cli.lake",
    "metering.cli.register",
    "metering.cli.scheduler",
    "metering.cli.serve",
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"metering {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Usage metering and tenant chargeback for VMware Cloud Director providers."""
    _state["debug"] = debug


def _register() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real import error inside the module: surface it
                raise
    from metering.cli.examples import add_examples

    add_examples(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning our errors into one clear line."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # without standalone mode click returns a command's typer.Exit code instead of raising
        code = app(args=argv, standalone_mode=False, prog_name="metering")
    except UsageError as exc:  # an option our code checks: like click's own usage errors
        if debug:
            raise
        _show_usage(argv, str(exc))
        return 2
    except MeteringError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        return 1
    except ModuleNotFoundError as exc:
        extra = extra_of(exc.name)
        if extra is None or debug:
            raise
        message = extra_message(extra, _command_path(argv), [str(exc.name)])
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        return 1
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except Exception as exc:  # click usage errors and anything unexpected
        usage, abort = _click_kinds()
        if isinstance(exc, usage):
            if getattr(exc, "ctx", True) is None and int(exc.exit_code) == 2:  # type: ignore[attr-defined]
                _show_usage(argv, exc.format_message())  # type: ignore[attr-defined]
            else:
                exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if isinstance(exc, abort):
            err_console.print("[bold red]aborted[/]")
            return 1
        if debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}"
            " (run with --debug for details)",
            highlight=False,
        )
        return 2
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def _usage_context(argv: list[str] | None) -> Any:
    """The click context of the deepest command ``argv`` names (``run close`` in
    ``metering run close --month x``), parsed leniently: for its usage line."""
    from typer.main import get_command

    args = argv if argv is not None else sys.argv[1:]
    command: Any = get_command(app)
    ctx = command.make_context("metering", [], resilient_parsing=True)
    for token in args:
        commands = getattr(command, "commands", None)
        if commands is None:
            break  # a command, not a group: the rest are its options and arguments
        if token in commands:
            command = commands[token]
            ctx = command.make_context(token, [], parent=ctx, resilient_parsing=True)
    return ctx


def _command_path(argv: list[str] | None) -> str:
    return str(_usage_context(argv).command_path)


def _show_usage(argv: list[str] | None, message: str) -> None:
    """Click's usage-error form: the usage line, where help is, the problem; on stderr."""
    ctx = _usage_context(argv)
    lines = [ctx.get_usage(), f"Try '{ctx.command_path} --help' for help.", ""]
    lines.append(f"Error: {message}")
    err_console.print("\n".join(lines), highlight=False, markup=False)


def _click_kinds() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Click's usage-error and abort classes: click's own and, since typer 0.17, the copy of
    click typer carries (``typer._click``), which raises its own classes. Missing either
    turned a mistyped option into an "internal error" with exit code 2."""
    usage: list[type[BaseException]] = []
    abort: list[type[BaseException]] = []
    for name in ("click.exceptions", "typer._click.exceptions", "typer.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage += [module.ClickException] if hasattr(module, "ClickException") else []
        abort += [module.Abort] if hasattr(module, "Abort") else []
    return tuple(usage), tuple(abort)


def _entry() -> None:  # pragma: no cover - thin wrapper used by `python -m metering`
    sys.exit(main())
