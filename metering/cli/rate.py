"""``metering consolidate`` and ``metering rate``: samples → intervals → priced month."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION, month_option
from metering.config import ProviderConfig, load_config
from metering.errors import UsageError
from metering.extras import require_extra
from metering.pipelines.api import pipeline_lock
from metering.window import Window

if TYPE_CHECKING:
    from metering.rating.engines import EngineChoice

console = Console()


@app.command("rate")
def rate_command(
    month: str = typer.Option(..., "--month", help="Month to rate (YYYY-MM, UTC)."),
    config: Path = CONFIG_OPTION,
    consolidate: bool = typer.Option(
        False, "--consolidate", help="Consolidate every day of the month first (from samples)."
    ),
    engine: str = typer.Option(
        "duckdb", "--engine", help="duckdb (default) or spark (needs the spark extra)."
    ),
    spark_master: str | None = typer.Option(
        None,
        "--spark-master",
        help="Spark master (local[N], spark://host:7077, yarn) or Spark Connect URL "
        "(sc://host:15002); default local[2].",
    ),
    per_site: int = typer.Option(
        0, "--per-site", help="DuckDB: rate each site in its own process, N at a time."
    ),
) -> None:
    """Rate a month: price its usage intervals, audit, write the outputs, refresh the warehouse.

    Idempotent: rating the same month again gives identical outputs, on every engine.
    """
    from metering.rating.engines import EngineChoice, rate_month_with
    from metering.rating.warehouse import build_warehouse

    window = month_option(month)
    choice = EngineChoice(engine=engine, master=spark_master, site_workers=per_site)
    if choice.engine == "spark":  # before the lock and any consolidation
        require_extra("spark", "rate --engine spark")
    provider = load_config(config)
    with pipeline_lock(provider, "metering rate"):
        if consolidate:
            _consolidate_month(provider, window)
        with console.status(f"rating {month} on {_engine_label(choice)}"):
            result = rate_month_with(provider, window, choice)
            build_warehouse(provider)
    table = Table("currency", "total (incl. tax)", title=f"Rated {month}")
    for currency, total in sorted(result.totals.items()):
        table.add_row(currency, f"{total:,.2f}")
    console.print(table)
    console.print(
        f"{result.tenants} tenants, {result.invoice_lines} invoice lines, {result.rows} rated "
        f"usage rows, {result.unrated_rows} unrated",
        highlight=False,
    )
    if result.reused_days:
        console.print(
            f"{len(result.reused_days)} day(s) read from the lineage an earlier rating of the "
            "month kept (unchanged rows, prices and settings); the others rated from their "
            "intervals",
            highlight=False,
        )
    if result.reconsolidated:
        days = ", ".join(d.isoformat() for d in result.reconsolidated)
        console.print(
            f"consolidated again first (built with other settings or rules): {days}",
            highlight=False,
        )
    if result.estimated_lines:
        console.print(
            f"{result.estimated_lines} invoice line(s) estimated: they hold hours carried over "
            "missed collection instants (the fill policy, docs/metering-rules.md)",
            highlight=False,
        )
    if result.missing_days:
        days = ", ".join(d.isoformat() for d in result.missing_days)
        console.print(
            f"{len(result.missing_days)} day(s) not consolidated, so not billed at all: {days} "
            f"(`metering rate --month {month} --consolidate` consolidates them)",
            highlight=False,
        )


def _engine_label(choice: EngineChoice) -> str:
    if choice.engine == "spark":
        return f"Spark ({choice.master or 'local'})"
    if choice.site_workers:
        return f"DuckDB, one process per site ({choice.site_workers} at a time)"
    return "DuckDB"


def _consolidate_month(provider: ProviderConfig, window: Window) -> None:
    from metering.rating.consolidate import consolidate_day

    days: list[date] = list(window.days())
    with Progress(
        TextColumn("consolidating"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("days", total=len(days))
        for day in days:
            consolidate_day(provider, day)
            progress.advance(task)


@app.command("consolidate")
def consolidate_command(
    day: str = typer.Option(..., "--day", help="UTC day to consolidate (YYYY-MM-DD)."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Turn one day's samples into usage intervals (idempotent)."""
    from metering.rating.consolidate import consolidate_day

    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise UsageError(f"--day: must be YYYY-MM-DD, got {day!r}") from None
    provider = load_config(config)
    with pipeline_lock(provider, "metering consolidate"):
        rows = consolidate_day(provider, parsed)
    console.print(f"{day}: {rows} usage intervals", highlight=False)
