"""``metering lake set-aside`` and ``metering lake sweep``: repairs an operator runs by hand
(docs/operations.md, "Repairing lake files")."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import load_config

lake_app = typer.Typer(
    name="lake", help="Repair the lake: set a damaged file aside, remove stale temp files."
)
app.add_typer(lake_app)
console = Console()


@lake_app.command("set-aside")
def set_aside_command(
    file: str = typer.Argument(..., help="File relative to the lake root, as the error names it."),
    config: Path = CONFIG_OPTION,
    reason: str = typer.Option("set aside by an operator", "--reason", help="Kept in a note."),
) -> None:
    """Move a damaged lake file to <lake>/_set_aside/ (kept, never deleted): readers then see
    a gap where it was."""
    from metering.lake.maintenance import set_aside
    from metering.pipelines.api import pipeline_lock

    provider = load_config(config)
    with pipeline_lock(provider, "metering lake set-aside"):
        target = set_aside(provider.lake, file.strip(), reason)
    console.print(f"set aside: {file} -> {target}", highlight=False)


@lake_app.command("sweep")
def sweep_command(config: Path = CONFIG_OPTION) -> None:
    """Remove the temp files atomic writes left behind when their process was killed (every
    pipeline run also does this when it starts)."""
    from metering.lake.maintenance import sweep_temp_files
    from metering.pipelines.api import pipeline_lock

    provider = load_config(config)
    with pipeline_lock(provider, "metering lake sweep"):
        removed = sweep_temp_files([provider.data_dir, provider.out_dir, provider.lake])
    console.print(f"removed {len(removed)} stale temp file(s)", highlight=False)
