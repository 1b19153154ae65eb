"""``metering coverage``: what was collected of a month, per site and day, from the lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION, month_option
from metering.config import load_config
from metering.window import Window

console = Console(soft_wrap=True)


@app.command("coverage")
def coverage_command(
    month: str = typer.Option(..., "--month", help="Month (YYYY-MM, UTC)."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Print a per-site, per-day table of collected / expected instants for each source,
    with why instants are missing (failed or interrupted runs, outages); also writes the
    rows to the lake's ``coverage`` dataset (the warehouse's ``coverage`` view)."""
    from metering.completeness.coverage import by_day, month_coverage, site_sources
    from metering.completeness.settings import gate_settings

    provider = load_config(config)
    window = month_option(month)
    now = datetime.now(UTC)
    days = [d for d in window.days() if Window.day(d).end <= now]
    threshold = gate_settings(provider).coverage_threshold
    cells = {(d.site, d.day, d.source): d for d in by_day(month_coverage(provider, days, now))}
    short = 0
    for site in provider.sites:
        sources = site_sources(site)
        table = Table("day", *sources, title=f"Coverage {month}, site {site.name}")
        for day in days:
            row = []
            for source in sources:
                cell = cells[(site.name, day, source)]
                text = f"{cell.collected}/{cell.expected}"
                if cell.ratio < threshold:
                    short += 1
                    text = f"[red]{text} {cell.cause}[/]"
                row.append(text)
            table.add_row(day.isoformat(), *row)
        console.print(table)
    console.print(
        f"{short} site × source × day(s) below the threshold {threshold} "
        "([close] coverage_threshold)"
        if short
        else f"every site × source × day at or above the threshold {threshold}"
    )
