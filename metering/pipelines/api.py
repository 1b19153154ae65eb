"""The pipelines as functions: one night, one close, one collect, or a whole window replayed.

These are what ``metering run ...`` and ``metering demo`` call. They use the same runner,
lock and run history as the scheduler, so a manual run never overlaps a scheduled one and
every run shows up in ``metering pipeline-runs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

import httpx
from rich.progress import Progress

from metering.config import ProviderConfig
from metering.errors import CloseError, MeteringError
from metering.pipelines.definitions import period_key
from metering.pipelines.runner import Clock, PipelineRunner, RunOutcome
from metering.pipelines.steps import STEPS, Registry
from metering.window import Window, utc


@contextmanager
def pipeline_lock(config: ProviderConfig, holder: str) -> Iterator[None]:
    """Hold the scheduler's run lock for a stage run by hand (``metering close``,
    ``metering collect``, ...), so it never overlaps a scheduled or another manual run;
    raises :class:`LockError` naming the holder when the lock is taken."""
    with PipelineRunner(config, holder=holder).locked():
        yield


def run_nightly(
    config: ProviderConfig,
    day: date,
    *,
    clock: Clock | None = None,
    registry: Registry = STEPS,
) -> RunOutcome:
    """Run the nightly pipeline for UTC ``day`` by hand; raise on failure (one line)."""
    runner = PipelineRunner(config, clock=clock, registry=registry, holder="a manual run")
    if Window.day(day).end > runner.clock.now():
        raise MeteringError(f"nightly {day}: the day has not ended yet (all days are UTC)")
    with runner.locked():
        outcome = runner.run("nightly", day.isoformat(), "manual")
    outcome.raise_for_status()
    return outcome


def run_close(
    config: ProviderConfig,
    month: Window,
    *,
    clock: Clock | None = None,
    registry: Registry = STEPS,
    accept_gaps: str | None = None,
) -> RunOutcome:
    """Close ``month`` by hand, only if every night of it succeeded (else say which).
    ``accept_gaps``: issue despite the completeness gate's problems, recording this reason
    (as ``metering close --accept-gaps`` does)."""
    runner = PipelineRunner(config, clock=clock, registry=registry, holder="a manual run")
    if month.end > runner.clock.now():
        raise CloseError(f"close {month.start:%Y-%m}: the month has not ended yet")
    with runner.locked():
        outcome = _close(runner, month, "manual", accept_gaps)
    outcome.raise_for_status()
    return outcome


def _close(
    runner: PipelineRunner, month: Window, trigger: str, accept_gaps: str | None = None
) -> RunOutcome:
    close = runner.pipeline("close")
    period = period_key("month", month.start)
    blockers = runner.blockers(close, period)
    if blockers:
        raise CloseError(runner.waiting_reason(close, period, blockers))
    return runner.run("close", period, trigger, accept_gaps=accept_gaps)


def run_collect(config: ProviderConfig, at: datetime, *, registry: Registry = STEPS) -> RunOutcome:
    """Collect one sampling instant by hand."""
    runner = PipelineRunner(config, registry=registry, holder="a manual run")
    with runner.locked():
        outcome = runner.run("collect", period_key("instant", utc(at)), "manual")
    outcome.raise_for_status()
    return outcome


def replay(
    config: ProviderConfig,
    window: Window,
    *,
    set_time: Callable[[datetime], None] | None = None,
    registry: Registry = STEPS,
    progress: bool = False,
) -> list[RunOutcome]:
    """Live through ``window``: collect every sampling instant, run each night, then close.

    ``set_time(t)`` is called before each collect (the demo moves the simulated provider's
    clock there). Each whole UTC day of the window gets its nightly run once its instants
    are collected; each whole month of the window is then closed. Everything runs under one
    hold of the run lock and is recorded in the run history; the first failure raises.
    """
    runner = PipelineRunner(config, registry=registry, holder="a replay")
    runner.progress = progress
    outcomes: list[RunOutcome] = []
    instants = list(window.steps(runner.settings.interval))
    with runner.locked(), Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("replaying", total=len(instants))
        for day in window.days():
            day_window = Window.day(day)
            for t in instants:
                if t in day_window:
                    if set_time is not None:
                        set_time(t)
                    outcomes.append(
                        _checked(runner.run("collect", period_key("instant", t), "replay"))
                    )
                    bar.update(task, advance=1, description=f"collect {t:%Y-%m-%d %H:%M}Z")
            if day_window.start >= window.start and day_window.end <= window.end:
                if set_time is not None:
                    # a nightly runs once its day has ended (the scheduler's 02:00): sources
                    # serve a day's last hour of history only then
                    set_time(day_window.end)
                bar.update(task, description=f"nightly {day}")
                outcomes.append(_checked(runner.run("nightly", day.isoformat(), "replay")))
        for month in _whole_months(window):
            outcomes.append(_checked(_close(runner, month, "replay")))
    return outcomes


def _checked(outcome: RunOutcome) -> RunOutcome:
    outcome.raise_for_status()
    return outcome


def _whole_months(window: Window) -> list[Window]:
    months = []
    month = Window.month(window.start.year, window.start.month)
    while month.end <= window.end:
        if month.start >= window.start:
            months.append(month)
        month = Window.month(month.end.year, month.end.month)
    return months


def simulator_clock(base_url: str) -> Callable[[datetime], None]:
    """A ``set_time`` for :func:`replay` that moves a simulated provider's clock over HTTP."""

    def set_time(at: datetime) -> None:
        response = httpx.post(
            f"{base_url.rstrip('/')}/_sim/clock", json={"now": utc(at).isoformat()}
        )
        response.raise_for_status()

    return set_time
