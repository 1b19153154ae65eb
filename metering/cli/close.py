"""``metering close`` (month-end close) and ``metering showback`` (a tenant's estimate so far)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION, month_option
from metering.config import load_config
from metering.errors import ConfigError
from metering.window import Window

console = Console()


@app.command("close")
def close_command(
    month: str = typer.Option(..., "--month", help="Month to close (YYYY-MM, UTC)."),
    config: Path = CONFIG_OPTION,
    rate: bool = typer.Option(True, "--rate/--no-rate", help="Rate the month first."),
    workers: int = typer.Option(0, "--workers", help="Render processes (0: from config)."),
    draft: bool = typer.Option(False, "--draft", help="Only draft: number and issue nothing."),
) -> None:
    """Close a month: freeze it, issue numbered invoices (credit notes for corrections),
    render the PDFs, write the provider report and the FOCUS export.

    Safe to run again: an unchanged month issues nothing, an interrupted close resumes.
    """
    from metering.close.run import close_month
    from metering.pipelines.api import pipeline_lock

    provider = load_config(config)
    with pipeline_lock(provider, "metering close"):
        result = close_month(
            provider, month_option(month), rate=rate, workers=workers or None, draft_only=draft
        )
    if draft:
        console.print(f"{month}: drafts written to the register; nothing issued.")
        return
    table = Table("issued", "numbers", title=f"Close {result.month}")
    table.add_row("invoices", _numbers(result.invoices))
    table.add_row("credit notes", _numbers(result.credit_notes))
    table.add_row("credited invoices", _numbers(result.credited))
    table.add_row("PDFs rendered", str(len(result.rendered)))
    console.print(table)
    if not result.changed:
        console.print(f"{result.month} is closed and unchanged: nothing new issued.")
    console.print(f"documents and reports: {result.out_dir}", highlight=False)


def _numbers(numbers: tuple[str, ...]) -> str:
    if not numbers:
        return "-"
    if len(numbers) <= 3:
        return ", ".join(numbers)
    return f"{len(numbers)}: {numbers[0]} … {numbers[-1]}"


@app.command("showback")
def showback_command(
    tenant: str = typer.Option(..., "--tenant", help="Tenant id (as in the tenant catalog)."),
    month: str = typer.Option("", "--month", help="Month (YYYY-MM); default: this month."),
    month_to_date: bool = typer.Option(
        False, "--month-to-date", help="This month so far: rate it first, then show it."
    ),
    config: Path = CONFIG_OPTION,
) -> None:
    """Render a tenant's usage and cost so far as HTML: an estimate, not an invoice."""
    from metering.close.run import rate_if_installed
    from metering.reports.showback import write_showback

    provider = load_config(config)
    now = datetime.now(UTC)
    if month and month_to_date:
        raise ConfigError("give either --month or --month-to-date, not both")
    window = month_option(month) if month else Window.month(now.year, now.month)
    if month_to_date:
        rate_if_installed(provider, window)
    path = write_showback(provider, tenant, window, now=now)
    console.print(f"showback (estimate) for {tenant}: {path}", highlight=False)
