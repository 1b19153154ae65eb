"""``metering collect``, ``metering backfill`` and ``metering runs``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import ProviderConfig, load_config
from metering.errors import SourceUnavailable, UsageError
from metering.lake import store
from metering.pipelines.api import pipeline_lock
from metering.sources.collect import CollectSummary, Options, SourceResult, backfill, collect
from metering.window import Window, parse_utc

console = Console()
_STYLE = {"ok": "green", "partial": "yellow", "failed": "red"}


def _time(text: str, option: str) -> datetime:
    try:
        return parse_utc(text)
    except ValueError:
        raise UsageError(f"{option}: not an ISO-8601 timestamp: {text!r}") from None


def _on_grid(config: ProviderConfig, t: datetime) -> datetime:
    """Floor ``t`` to the sampling grid (samples are taken on it)."""
    step = int(config.sampling_interval.total_seconds())
    return datetime.fromtimestamp(int(t.timestamp()) // step * step, tz=UTC)


def _split(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _print(summary: CollectSummary) -> None:
    for result in summary.results:
        style = _STYLE.get(result.status, "white")
        console.print(f"[{style}]{result.line()}[/]", highlight=False)
    console.print(
        f"run {summary.run_id} at {summary.sample_time:%Y-%m-%dT%H:%MZ}: {summary.status}, "
        f"{summary.rows} rows, {summary.quarantined} quarantined",
        highlight=False,
    )


@app.command("collect")
def collect_command(
    config: Path = CONFIG_OPTION,
    at: str | None = typer.Option(
        None, "--at", help="Sample time (ISO-8601, UTC); default: now, floored to the grid."
    ),
    sites: str | None = typer.Option(None, "--sites", help="Comma-separated site names."),
    sources: str | None = typer.Option(None, "--sources", help="vcd,cse,alp,dse,ose,cloudian"),
) -> None:
    """Take one sample of every site and source and write it to the lake."""
    asked = _time(at, "--at") if at else datetime.now(UTC)  # a usage error before the config
    provider = load_config(config)
    when = _on_grid(provider, asked)
    site_names, source_names = _split(sites), _split(sources)
    total = len(site_names or provider.sites) * len(source_names or range(6))
    with Progress(
        TextColumn("collecting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("collect", total=total)

        def done(_: SourceResult) -> None:
            progress.advance(task)

        with pipeline_lock(provider, "metering collect"):
            summary = collect(
                provider,
                when,
                sites=site_names,
                sources=source_names,
                options=Options(on_result=done),
            )
    _print(summary)
    if summary.status == "failed":
        raise SourceUnavailable(f"run {summary.run_id}: nothing collected (see the lines above)")


@app.command("backfill")
def backfill_command(
    start: str = typer.Option(..., "--from", help="Window start (ISO-8601, UTC)."),
    end: str = typer.Option(..., "--to", help="Window end, exclusive (ISO-8601, UTC)."),
    config: Path = CONFIG_OPTION,
    sites: str | None = typer.Option(None, "--sites", help="Comma-separated site names."),
) -> None:
    """Re-read what sources keep history of (Cloudian hourly usage) for a window."""
    try:
        window = Window(_time(start, "--from"), _time(end, "--to"))
    except ValueError as exc:
        raise UsageError(f"--from/--to: {exc}") from None
    provider = load_config(config)
    with console.status(f"backfilling {window}"), pipeline_lock(provider, "metering backfill"):
        summaries = backfill(provider, window, sites=_split(sites))
    for summary in summaries:
        _print(summary)
    unfilled = [gap for s in summaries for gap in s.unfilled]
    if unfilled:
        console.print(
            f"[yellow]{len(unfilled)} sample gap(s) no source keeps history for[/] "
            f"(first: {', '.join(unfilled[:5])})",
            highlight=False,
        )


@app.command("runs")
def runs_command(
    config: Path = CONFIG_OPTION,
    limit: int = typer.Option(20, "--limit", "-n", help="How many recent runs to show."),
) -> None:
    """Recent collection runs: per site and source, status, rows, quarantined, errors."""
    provider = load_config(config)
    table = store.read_dataset(provider.lake, "runs")
    rows = sorted(table.to_pylist(), key=lambda r: (r["finished_at"], r["site"], r["source"]))
    out = Table("sample time", "site", "source", "status", "rows", "quar.", "error")
    out.add_column("run", no_wrap=True)
    for r in rows[-limit:]:
        style = _STYLE.get(r["status"], "white")
        out.add_row(
            f"{r['sample_time']:%Y-%m-%d %H:%M}",
            r["site"],
            r["source"],
            f"[{style}]{r['status']}[/]",
            str(r["rows"]),
            str(r["quarantined"]),
            (r["error"] or "")[:60],
            r["run_id"],
        )
    console.print(out if rows else "no runs recorded yet")
