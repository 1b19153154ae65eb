"""The `metering` command.

Each sub-command lives in its own module under ``metering/cli/`` and registers itself on
``app`` (see ``_COMMAND_MODULES``). Errors derived from :class:`MeteringError` print as one
line; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape

from metering import __version__
from metering.errors import MeteringError

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


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning our errors into one clear line."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # without standalone mode click returns a command's typer.Exit code instead of raising
        code = app(args=argv, standalone_mode=False)
    except MeteringError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        return 1
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except Exception as exc:  # click usage errors and anything unexpected
        usage, abort = _click_kinds()
        if isinstance(exc, usage):
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
