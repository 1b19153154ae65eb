"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import typer

from metering.errors import UsageError
from metering.window import Window

CONFIG_OPTION = typer.Option(
    Path("provider.toml"), "--config", "-c", envvar="METERING_CONFIG", help="Provider config TOML."
)


def month_option(text: str, option: str = "--month") -> Window:
    """``YYYY-MM`` from the command line → that UTC month, or a one-line error naming the option."""
    try:
        return Window.parse_month(text)
    except ValueError:
        raise UsageError(f"{option}: must be YYYY-MM, got {text!r}") from None
