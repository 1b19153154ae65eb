"""What is due at a given "now", and running it: the heart of the scheduler.

The scheduler's jobs never carry state of their own: each tick asks "at this instant,
which nights and which closes should have run?" and runs the ones the history does not
show as succeeded, oldest first. So a tick that fired late, a tick that never fired
(the machine was off) and a restart all converge on the same result: every missed night
runs once, in order, and a month closes only after all of its nights succeeded. A close
the completeness gate refuses is never retried on its own: it alerts and waits for a person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from metering.errors import MeteringError
from metering.pipelines.alerts import alert_body, send_alert
from metering.pipelines.definitions import Pipeline, Schedule, period_key
from metering.pipelines.history import RunRecord
from metering.pipelines.runner import PipelineRunner, RunOutcome
from metering.window import Window, utc

log = logging.getLogger("metering.pipelines")

EPOCH_KEY = "epoch"


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return utc(datetime.combine(day, at, tzinfo=tz))


def due_time(schedule: Schedule, window: Window, tz: ZoneInfo) -> datetime:
    """When the run for ``window`` falls due: the first scheduled instant after it ended.

    A daily run is due at the first ``at`` (local) at or after the day's end; a monthly run
    at ``at`` on ``day`` of the next month (local), and never before the month has ended.
    """
    end_local = window.end.astimezone(tz)
    if schedule.kind == "monthly":
        candidate = _local(end_local.date().replace(day=schedule.day), schedule.at, tz)
    else:
        candidate = _local(end_local.date(), schedule.at, tz)
    while candidate < window.end:
        candidate = _local(candidate.astimezone(tz).date() + timedelta(days=1), schedule.at, tz)
    return candidate


def due_periods(pipeline: Pipeline, now: datetime, epoch: date, tz: ZoneInfo) -> Iterator[str]:
    """Every period of a daily or monthly pipeline from ``epoch`` that is due at ``now``."""
    if pipeline.period == "day":
        day = epoch
        while due_time(pipeline.schedule, Window.day(day), tz) <= now:
            yield period_key("day", Window.day(day).start)
            day += timedelta(days=1)
    elif pipeline.period == "month":
        month = Window.month(epoch.year, epoch.month)
        while due_time(pipeline.schedule, month, tz) <= now:
            yield period_key("month", month.start)
            month = Window.month(month.end.year, month.end.month)


def epoch(runner: PipelineRunner, now: datetime) -> date:
    """The first day the scheduler is responsible for: ``start_date``, else its first start."""
    if runner.settings.start_date is not None:
        return runner.settings.start_date
    return date.fromisoformat(runner.history.set_state_once(EPOCH_KEY, utc(now).date().isoformat()))


def should_run(runs: list[RunRecord], runner: PipelineRunner, now: datetime) -> bool:
    """Does a due period need a run, given its history (newest first)?"""
    if any(run.status == "succeeded" for run in runs):
        return False
    attempts = [run for run in runs if run.status in ("failed", "interrupted")]
    if not attempts:
        return True  # never ran, or only waited
    latest = attempts[0]
    if latest.status == "interrupted":
        return True  # died or stopped mid-run: run it again now
    if latest.error_kind != "transient" or len(attempts) >= runner.settings.max_attempts:
        return False  # a person must act (`metering run ...`)
    finished = datetime.fromisoformat(latest.finished_at or latest.started_at)
    return now - finished >= runner.settings.retry_delay


def catch_up(
    runner: PipelineRunner,
    now: datetime,
    trigger: str = "catch-up",
    waiting: list[tuple[str, str, str]] | None = None,
) -> list[RunOutcome]:
    """Run every due night, then every due close, oldest first; return what ran. A due run
    that waits for others is logged, and appended to ``waiting`` as (pipeline, period,
    reason) when a list is given."""
    outcomes: list[RunOutcome] = []
    now = utc(now)
    with runner.locked():
        first = epoch(runner, now)
        ordered = sorted(runner.pipelines.values(), key=lambda p: p.requires is not None)
        for pipeline in ordered:
            if pipeline.period == "instant":
                continue
            history = runner.history.latest_by_period(pipeline.name)
            for period in due_periods(pipeline, now, first, runner.settings.timezone):
                if runner.stop.is_set():
                    return outcomes
                if not should_run(history.get(period, []), runner, now):
                    continue
                blockers = runner.blockers(pipeline, period)
                if blockers:
                    reason = _wait(runner, pipeline, period, blockers)
                    if waiting is not None:
                        waiting.append((pipeline.name, period, reason))
                    continue
                outcome = runner.run(pipeline.name, period, trigger)
                outcomes.append(outcome)
                if pipeline.period == "month" and not outcome.ok:
                    _alert(runner, outcome)
    return outcomes


def _alert(runner: PipelineRunner, outcome: RunOutcome) -> None:
    """A close that failed and will not be retried on its own (the gate refused it, or a
    terminal error): alert a person (``[alerts]``); the history shows it failed."""
    if outcome.error_kind == "transient":
        return  # retried after retry_delay_minutes; the last attempt's failure is terminal
    lines = (outcome.error or "").splitlines()
    refused = bool(lines) and " refused" in lines[0]
    body = alert_body(
        runner.config,
        "close_refused" if refused else "close_failed",
        pipeline=outcome.pipeline,
        period=outcome.period,
        run_id=outcome.run_id,
        step=outcome.step,
        summary=lines[0] if lines else outcome.status,
        problems=lines[1:],
        action=(
            f"fix the problems and run `metering run close --month {outcome.period}`, or "
            f'issue anyway: `metering close --month {outcome.period} --accept-gaps "reason"`'
        ),
    )
    try:
        send_alert(runner.config, body)
    except MeteringError as exc:  # a bad [alerts] section must not stop the scheduler
        log.error("cannot send the alert for %s %s: %s", outcome.pipeline, outcome.period, exc)


def _wait(runner: PipelineRunner, pipeline: Pipeline, period: str, blockers: list[str]) -> str:
    reason = runner.waiting_reason(pipeline, period, blockers)
    window = runner.window(pipeline, period)
    if runner.history.record_waiting(pipeline.name, period, window, reason):
        log.warning(
            reason, extra={"pipeline": pipeline.name, "period": period, "status": "waiting"}
        )
    return reason


def collect_due(runner: PipelineRunner, now: datetime) -> RunOutcome | None:
    """Collect the sampling instant ``now`` falls in, unless it already succeeded."""
    collect = next((p for p in runner.pipelines.values() if p.period == "instant"), None)
    if collect is None:
        return None
    now = utc(now)
    step = runner.settings.interval
    day = Window.day(now.date())
    at = day.start + ((now - day.start) // step) * step
    if now - at > runner.settings.misfire_grace:
        log.warning(
            "collect %s skipped: more than the misfire grace late", period_key("instant", at)
        )
        return None
    period = period_key("instant", at)
    with runner.locked():
        runs = runner.history.runs(collect.name, period=period)
        if any(run.status == "succeeded" for run in runs):
            return None
        return runner.run(collect.name, period, "schedule")
