"""``metering scheduler``, ``metering run nightly|close|collect`` and ``metering pipeline-runs``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import ProviderConfig, load_config
from metering.errors import MeteringError, UsageError
from metering.pipelines.history import RunHistory
from metering.pipelines.logs import configure_logging
from metering.pipelines.runner import RunOutcome
from metering.pipelines.settings import load_settings
from metering.window import Window, parse_utc

run_app = typer.Typer(
    name="run",
    help="Run a pipeline by hand, under the same lock and run history as the scheduler.",
    no_args_is_help=True,
)
app.add_typer(run_app)
console = Console()

LOG_FORMAT_OPTION = typer.Option("text", "--log-format", help="Log lines as 'text' or 'json'.")


def _setup(config_path: Path, log_format: str) -> ProviderConfig:
    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, got {log_format!r}")
    configure_logging(log_format)
    return load_config(config_path)


@app.command("scheduler")
def scheduler_command(
    config: Path = CONFIG_OPTION,
    log_format: str = LOG_FORMAT_OPTION,
    once: bool = typer.Option(
        False, "--once", help="Catch up what is due now (missed nights, a due close), then exit."
    ),
) -> None:
    """Run collect, nightly ingest and the month-end close on their schedules, with catch-up."""
    from metering.pipelines.catchup import catch_up
    from metering.pipelines.scheduler import PipelineScheduler

    provider = _setup(config, log_format)
    scheduler = PipelineScheduler(provider)
    if once:
        scheduler.lock.acquire()
        try:
            now = scheduler.runner.clock.now()
            waiting: list[tuple[str, str, str]] = []
            outcomes = catch_up(scheduler.runner, now, "catch-up", waiting)
        finally:
            scheduler.lock.release()
        _print_outcomes(outcomes, waiting)
        failed = [o for o in outcomes if not o.ok]
        if failed:
            raise MeteringError(
                f"{len(failed)} run(s) failed; see the log and `metering pipeline-runs`"
            )
        return
    scheduler.run_forever()


def _print_outcomes(outcomes: list[RunOutcome], waiting: list[tuple[str, str, str]]) -> None:
    """What ``scheduler --once`` ran and what waits, one line each, on stdout (the log is
    on stderr)."""
    if not outcomes:
        typer.echo("nothing was due" if not waiting else "nothing ran")
    else:
        typer.echo(f"ran {len(outcomes)} pipeline run(s):")
    width = max((len(o.pipeline) for o in outcomes), default=0)
    for o in outcomes:
        head = f"  {o.pipeline.ljust(width)}  {o.period:<10}  {o.status}"
        if o.ok:
            typer.echo(f"{head}  {o.rows:,} rows  (run {o.run_id})")
        else:
            typer.echo(f"{head} at step {o.step}: {o.error}  (run {o.run_id})")
    for _, _, reason in waiting:
        typer.echo(f"waiting: {reason}")


@run_app.command("nightly")
def run_nightly_command(
    day: str = typer.Option(..., "--date", help="The UTC day to ingest, YYYY-MM-DD."),
    config: Path = CONFIG_OPTION,
    log_format: str = LOG_FORMAT_OPTION,
) -> None:
    """Ingest one UTC day: re-collect, consolidate, rate the month to date."""
    from metering.pipelines.api import run_nightly

    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, got {day!r}") from None
    outcome = run_nightly(_setup(config, log_format), parsed)
    console.print(f"nightly {outcome.period} succeeded: {outcome.rows} rows (run {outcome.run_id})")


@run_app.command("close")
def run_close_command(
    month: str = typer.Option(..., "--month", help="The month to close, YYYY-MM."),
    accept_gaps: str | None = typer.Option(
        None,
        "--accept-gaps",
        metavar="REASON",
        help="Issue despite the completeness gate's problems; the reason is recorded on the"
        " documents, in the register and in the warehouse.",
    ),
    config: Path = CONFIG_OPTION,
    log_format: str = LOG_FORMAT_OPTION,
) -> None:
    """Close one month, once every night of it has succeeded."""
    from metering.pipelines.api import run_close

    try:
        window = Window.parse_month(month)
    except ValueError as exc:
        raise UsageError(f"--month: {exc}") from None
    outcome = run_close(_setup(config, log_format), window, accept_gaps=accept_gaps)
    console.print(f"close {outcome.period} succeeded (run {outcome.run_id})")


@run_app.command("collect")
def run_collect_command(
    at: str = typer.Option(..., "--at", help="The sampling instant, ISO 8601 (UTC)."),
    config: Path = CONFIG_OPTION,
    log_format: str = LOG_FORMAT_OPTION,
) -> None:
    """Collect one sampling instant through the collect pipeline."""
    from metering.pipelines.api import run_collect

    try:
        instant = parse_utc(at)
    except ValueError:
        raise UsageError(f"--at must be an ISO 8601 time, got {at!r}") from None
    outcome = run_collect(_setup(config, log_format), instant)
    console.print(f"collect {outcome.period} succeeded: {outcome.rows} rows")


@app.command("pipeline-runs")
def pipeline_runs_command(
    config: Path = CONFIG_OPTION,
    pipeline: str | None = typer.Option(None, "--pipeline", "-p", help="Only this pipeline."),
    status: str | None = typer.Option(None, "--status", help="Only runs in this state."),
    limit: int = typer.Option(30, "--limit", "-n", help="How many runs, newest first."),
) -> None:
    """Show pipeline runs from the run history: step, window, status, duration, rows, error."""
    settings = load_settings(load_config(config))
    if not settings.history_path.exists():
        console.print("no pipeline runs yet")
        return
    runs = RunHistory(settings.history_path).runs(pipeline, status=status, limit=limit)
    table = Table(
        "pipeline", "period", "trigger", "status", "step", "started", "duration", "rows", "error"
    )
    for run in runs:
        duration = run.duration_seconds
        table.add_row(
            run.pipeline,
            run.period,
            run.trigger,
            run.status,
            run.step or "",
            run.started_at[:19].replace("T", " "),
            "" if duration is None else f"{duration:.1f}s",
            str(run.rows),
            run.error or "",
        )
    # piped output (a log, a test) gets full-width rows instead of 80 columns of ellipses
    (console if console.is_terminal else Console(width=220)).print(table)
