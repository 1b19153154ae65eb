"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import typer

CONFIG_OPTION = typer.Option(
    Path("provider.toml"), "--config", "-c", envvar="METERING_CONFIG", help="Provider config TOML."
)
