"""Run one pipeline for one period, under the run lock, recorded in the run history.

:class:`PipelineRunner` is the single way any pipeline runs: the scheduler's ticks, the
catch-up after downtime, ``metering run nightly|close`` and the demo's replay all go
through :meth:`PipelineRunner.run`, so they share the lock and the history.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from metering.config import ProviderConfig
from metering.errors import ConfigError, MeteringError, TerminalError, TransientError
from metering.lake.maintenance import sweep_temp_files
from metering.pipelines.definitions import Pipeline, period_key, period_window
from metering.pipelines.history import RunHistory, RunRecord
from metering.pipelines.lock import PipelineLock
from metering.pipelines.settings import SchedulerSettings, load_settings
from metering.pipelines.steps import STEPS, Registry, StepContext
from metering.window import Window

log = logging.getLogger("metering.pipelines")


class Clock(Protocol):
    """Where "now" comes from; tests and the replay inject their own."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended."""

    pipeline: str
    period: str
    run_id: str
    status: str  # succeeded | failed | interrupted
    rows: int = 0
    step: str | None = None
    error: str | None = None
    error_kind: str | None = None  # transient | terminal | interrupted

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def raise_for_status(self) -> None:
        """Raise the failure as one clear line (transient or terminal, as it was)."""
        if self.ok:
            return
        message = f"{self.pipeline} {self.period} {self.status} at step {self.step}: {self.error}"
        raise (TransientError if self.error_kind == "transient" else TerminalError)(message)


class PipelineRunner:
    """Runs pipelines of one provider config; see the module docstring."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        registry: Registry = STEPS,
        clock: Clock | None = None,
        settings: SchedulerSettings | None = None,
        holder: str = "a manual run",
        stop: threading.Event | None = None,
    ) -> None:
        config.require_writable()  # one config error, before the history or a lock is opened
        self.config = config
        self.registry = registry
        self.clock = clock or SystemClock()
        self.settings = settings or load_settings(config)
        self.pipelines = self.settings.pipelines()
        self.history = RunHistory(self.settings.history_path, now=self.clock.now)
        self.lock = PipelineLock(self.settings.lock_dir, "run", self.history, holder)
        self.stop = stop or threading.Event()
        self.progress = False  # steps may show rich progress bars (interactive runs only)
        self._swept = False  # temp files left by killed runs: removed at the first lock
        self._check_registry()

    def _check_registry(self) -> None:
        for pipeline in self.pipelines.values():
            for step in pipeline.steps:
                if step.name not in self.registry:
                    where = pipeline.source_file.name if pipeline.source_file else pipeline.name
                    raise ConfigError(f"{where}: step {step.name!r} is not a known step")

    def pipeline(self, name: str) -> Pipeline:
        try:
            return self.pipelines[name]
        except KeyError:
            known = ", ".join(sorted(self.pipelines))
            raise ConfigError(f"no pipeline named {name!r} (known: {known})") from None

    def window(self, pipeline: Pipeline, period: str) -> Window:
        return period_window(pipeline.period, period, self.settings.interval)

    @contextmanager
    def locked(self) -> Iterator[PipelineRunner]:
        """Hold the run lock (re-entrant within this runner); mark dead runs interrupted."""
        if self.lock.held:
            yield self
            return
        self.lock.acquire()
        try:
            for run in self.history.mark_abandoned():
                log.warning(
                    "%s %s was interrupted (process %s died during step %s); it will run again",
                    run.pipeline,
                    run.period,
                    run.pid,
                    run.step,
                    extra={"pipeline": run.pipeline, "period": run.period, "run_id": run.run_id},
                )
            self._sweep()
            yield self
        finally:
            self.lock.release()

    def _sweep(self) -> None:
        """Once per runner: remove the temp files of atomic writes whose process died."""
        if self._swept:
            return
        self._swept = True
        config = self.config
        removed = sweep_temp_files([config.data_dir, config.out_dir, config.lake])
        if removed:
            log.warning("removed %d temp file(s) left by killed runs", len(removed))

    # --- requirements -----------------------------------------------------------------------

    def blockers(self, pipeline: Pipeline, period: str) -> list[str]:
        """Why ``period`` of ``pipeline`` may not run yet: each required run not succeeded.

        Consecutive periods in the same state read as one range ("nightly 2026-10-02 ..
        2026-10-31 have not run"); a failure is listed with its error.
        """
        if pipeline.requires is None:
            return []
        required = self.pipeline(pipeline.requires)
        runs = self.history.latest_by_period(required.name)
        groups: list[tuple[str, str, str]] = []  # (first, last, state)
        window = self.window(pipeline, period)
        for start in _sub_periods(required, window, self.settings):
            key = period_key(required.period, start)
            state = _blocker(runs.get(key, []))
            if state is None:
                continue
            if groups and groups[-1][2] == state and not state.startswith("failed"):
                groups[-1] = (groups[-1][0], key, state)
            else:
                groups.append((key, key, state))
        return [_describe(required.name, first, last, state) for first, last, state in groups]

    def waiting_reason(self, pipeline: Pipeline, period: str, blockers: list[str]) -> str:
        shown = "; ".join(blockers[:5])
        more = f"; and {len(blockers) - 5} more" if len(blockers) > 5 else ""
        return f"{pipeline.name} {period} waits: {shown}{more}"

    # --- running ----------------------------------------------------------------------------

    def run(
        self, name: str, period: str, trigger: str, *, accept_gaps: str | None = None
    ) -> RunOutcome:
        """Run every step of ``name`` for ``period``; the caller holds :meth:`locked`.
        ``accept_gaps`` (a manual close only) is the reason recorded to close despite gaps."""
        if not self.lock.held:
            raise RuntimeError("PipelineRunner.run needs the run lock (use runner.locked())")
        pipeline = self.pipeline(name)
        window = self.window(pipeline, period)
        run_id = self.history.start_run(name, period, window, trigger)
        extra = {"pipeline": name, "period": period, "run_id": run_id, "trigger": trigger}
        log.info("%s %s started (%s)", name, period, trigger, extra=extra)
        ctx = StepContext(
            self.config, name, period, window, run_id, self.stop, self.progress, accept_gaps
        )
        total, began = 0, time.monotonic()
        for seq, step in enumerate(pipeline.steps):
            if self.stop.is_set():
                return self._stopped(ctx, step.name, total)
            outcome, rows = self._step(ctx, seq, step.name)
            if outcome is not None:
                return outcome
            total += rows
        self.history.finish_run(run_id, "succeeded")
        log.info(
            "%s %s succeeded: %d rows in %.1fs",
            name,
            period,
            total,
            time.monotonic() - began,
            extra={**extra, "status": "succeeded", "rows": total},
        )
        return RunOutcome(name, period, run_id, "succeeded", rows=total)

    def _step(self, ctx: StepContext, seq: int, step: str) -> tuple[RunOutcome | None, int]:
        """Run one step; (None, rows) when it succeeded, else the run's (failed) outcome."""
        extra = {"pipeline": ctx.pipeline, "period": ctx.period, "run_id": ctx.run_id, "step": step}
        self.history.start_step(ctx.run_id, seq, step)
        began = time.monotonic()
        try:
            rows = self.registry[step](ctx) or 0
        except MeteringError as exc:
            kind = "transient" if isinstance(exc, TransientError) else "terminal"
            return self._failed(ctx, seq, step, str(exc), kind, exc), 0
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            return self._failed(ctx, seq, step, error, "terminal", exc), 0
        except BaseException:  # KeyboardInterrupt, SystemExit: record, then let it unwind
            self.history.finish_step(ctx.run_id, seq, "interrupted")
            self.history.finish_run(
                ctx.run_id,
                "interrupted",
                error=f"stopped during step {step}",
                error_kind="interrupted",
            )
            log.warning(
                "%s %s interrupted during step %s", ctx.pipeline, ctx.period, step, extra=extra
            )
            raise
        self.history.finish_step(ctx.run_id, seq, "succeeded", rows)
        log.info(
            "%s %s: step %s done (%d rows, %.1fs)",
            ctx.pipeline,
            ctx.period,
            step,
            rows,
            time.monotonic() - began,
            extra={**extra, "rows": rows},
        )
        return None, rows

    def _failed(
        self, ctx: StepContext, seq: int, step: str, error: str, kind: str, exc: BaseException
    ) -> RunOutcome:
        self.history.finish_step(ctx.run_id, seq, "failed", error=error)
        self.history.finish_run(ctx.run_id, "failed", error=error, error_kind=kind)
        extra = {
            "pipeline": ctx.pipeline,
            "period": ctx.period,
            "run_id": ctx.run_id,
            "step": step,
            "status": "failed",
            "error_kind": kind,
        }
        # One clear line; the traceback goes to the log at debug level (or always, for a bug).
        log.error("%s %s failed at step %s: %s", ctx.pipeline, ctx.period, step, error, extra=extra)
        bug = not isinstance(exc, MeteringError)
        log.log(logging.ERROR if bug else logging.DEBUG, "detail", exc_info=exc, extra=extra)
        return RunOutcome(ctx.pipeline, ctx.period, ctx.run_id, "failed", 0, step, error, kind)

    def _stopped(self, ctx: StepContext, step: str, rows: int) -> RunOutcome:
        error = f"shutdown requested before step {step}"
        self.history.finish_run(ctx.run_id, "interrupted", error=error, error_kind="interrupted")
        log.warning(
            "%s %s stopped before step %s (shutdown); it will run again",
            ctx.pipeline,
            ctx.period,
            step,
            extra={"pipeline": ctx.pipeline, "period": ctx.period, "run_id": ctx.run_id},
        )
        return RunOutcome(
            ctx.pipeline, ctx.period, ctx.run_id, "interrupted", rows, step, error, "interrupted"
        )


def _sub_periods(
    required: Pipeline, window: Window, settings: SchedulerSettings
) -> Iterator[datetime]:
    if required.period == "day":
        yield from (Window.day(day).start for day in window.days())
    elif required.period == "instant":
        yield from window.steps(settings.interval)
    else:
        yield window.start


def _blocker(runs: list[RunRecord]) -> str | None:
    """The state of a required period that blocks, or None when it succeeded."""
    if any(run.status == "succeeded" for run in runs):
        return None
    if not runs:
        return "not run"
    latest = runs[0]
    if latest.status == "failed":
        return f"failed ({latest.error})"
    return latest.status


def _describe(name: str, first: str, last: str, state: str) -> str:
    """``nightly 2026-10-14 failed (...)``, ``nightly 2026-10-02 .. 2026-10-31 have not run``."""
    if state.startswith("failed"):
        return f"{name} {first} {state}"
    if first == last:
        return f"{name} {first} " + ("has not run" if state == "not run" else f"is {state}")
    return f"{name} {first} .. {last} " + ("have not run" if state == "not run" else f"are {state}")
