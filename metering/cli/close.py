"""``metering close`` (month-end close) and ``metering showback`` (a tenant's estimate so far)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION, month_option
from metering.config import load_config
from metering.errors import UsageError
from metering.window import Window

if TYPE_CHECKING:
    from metering.close.run import CloseResult

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)  # one line per problem, never wrapped


class FocusPeriod(StrEnum):
    """FOCUS charge rows: one per whole month, or one per day of usage."""

    month = "month"
    day = "day"


FOCUS_PERIOD_OPTION = typer.Option(
    None,
    "--focus-period",
    help="FOCUS charge rows per 'month' or per 'day' of usage "
    "(default: [invoicing] focus_period, else month).",
)


@app.command("close")
def close_command(
    month: str = typer.Option(..., "--month", help="Month to close (YYYY-MM, UTC)."),
    config: Path = CONFIG_OPTION,
    rate: bool = typer.Option(True, "--rate/--no-rate", help="Rate the month first."),
    workers: int = typer.Option(0, "--workers", help="Render processes (0: from config)."),
    draft: bool = typer.Option(
        False, "--draft", help="Only draft: watermarked DRAFT PDFs, nothing numbered."
    ),
    accept_gaps: str | None = typer.Option(
        None,
        "--accept-gaps",
        help="Issue despite the completeness gate's gaps; the reason is recorded on the documents.",
    ),
    focus_period: FocusPeriod | None = FOCUS_PERIOD_OPTION,
) -> None:
    """Close a month: freeze it, issue numbered invoices (credit notes for corrections),
    render the PDFs, write the provider report and the FOCUS export.

    Only a complete month is issued: it has ended (plus [close] grace_hours), every night
    is consolidated, nothing is unrated and coverage meets [close] coverage_threshold.
    Tenants a problem touches, and unmapped orgs, wait as drafts without a number; the
    command then exits 1 with one line per problem and the command that fixes it.
    Safe to run again: an unchanged month issues nothing, an interrupted close resumes.
    """
    from metering.close.run import close_month
    from metering.pipelines.api import pipeline_lock
    from metering.rating.warehouse import build_warehouse

    provider = load_config(config)
    with pipeline_lock(provider, "metering close"):
        result = close_month(
            provider,
            month_option(month),
            rate=rate,
            workers=workers or None,
            draft_only=draft,
            accept_gaps=accept_gaps,
            focus_period=focus_period.value if focus_period else None,
        )
        if not draft:  # as the close pipeline does: documents, invoice_totals' status
            build_warehouse(provider)
    if draft:
        _print_draft(result)
        return
    _print_issued(result)
    _print_gate(result)
    if result.refused:
        raise typer.Exit(1)


def _print_draft(result: CloseResult) -> None:
    console.print(
        f"{result.month}: drafts only, nothing numbered; DRAFT PDFs in "
        f"{result.out_dir / 'drafts' / result.month}",
        highlight=False,
    )
    if result.problems:
        console.print(f"a final close would refuse {len(result.held)} tenant(s):")
        for line in result.problems:
            console.print(f"  {line}", highlight=False, markup=False)
    else:
        console.print("a final close would pass the completeness gate.")
    _print_unmapped(result)


def _print_unmapped(result: CloseResult) -> None:
    if result.unmapped:
        console.print(
            f"unmapped orgs held (no number until the tenant catalog maps them): "
            f"{', '.join(result.unmapped)}",
            highlight=False,
            markup=False,
        )


def _print_gate(result: CloseResult) -> None:
    if result.problems and result.accepted_gaps is not None:
        console.print(
            f"issued despite {len(result.problems)} gap(s), accepted: {result.accepted_gaps!r}",
            highlight=False,
            markup=False,
        )
        for line in result.problems:
            console.print(f"  {line}", highlight=False, markup=False)
    elif result.problems:
        gap_held = [t for t, why in result.held.items() if t not in result.unmapped]
        err_console.print(
            f"{result.month} is incomplete: {len(gap_held)} tenant(s) held, nothing numbered "
            'for them. Fix, or accept with --accept-gaps "reason":',
            highlight=False,
            markup=False,
        )
        for line in result.problems:
            err_console.print(line, highlight=False, markup=False)
    _print_unmapped(result)


def _print_issued(result: CloseResult) -> None:
    table = Table("issued", "numbers", title=f"Close {result.month}")
    table.add_row("invoices", _numbers(result.invoices))
    table.add_row("credit notes", _numbers(result.credit_notes))
    table.add_row("credited invoices", _numbers(result.credited))
    table.add_row("PDFs rendered", str(len(result.rendered)))
    table.add_row("held (drafts)", str(len(result.held)))
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
        raise UsageError("give either --month or --month-to-date, not both")
    window = month_option(month) if month else Window.month(now.year, now.month)
    if month_to_date:
        rate_if_installed(provider, window)
    path = write_showback(provider, tenant, window, now=now)
    console.print(f"showback (estimate) for {tenant}: {path}", highlight=False)
