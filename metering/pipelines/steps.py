"""The step registry: a plain dict from the step names used in ``pipelines/*.toml`` to code.

Each step calls one stage entry point (docs/architecture.md). The stage modules are imported
inside the step, so loading the scheduler never imports DuckDB, WeasyPrint or the collectors
before a step needs them. Every step must be idempotent: a run that was interrupted is run
again from its first step, and the stages write atomically, keyed by period, so a second
run replaces rather than adds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metering.config import ProviderConfig
from metering.errors import IncompleteMonth, SourceUnavailable
from metering.window import Window

log = logging.getLogger("metering.pipelines")


@dataclass(frozen=True)
class StepContext:
    """What a step gets: the config and the period its run covers."""

    config: ProviderConfig
    pipeline: str
    period: str
    window: Window
    run_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    progress: bool = False
    accept_gaps: str | None = None  # a person's recorded reason to close despite gaps

    @property
    def at(self) -> datetime:
        """The sample instant of a collect run (the start of its window)."""
        return self.window.start

    @property
    def month(self) -> Window:
        """The calendar month the run's window starts in."""
        start = self.window.start
        return Window.month(start.year, start.month)


StepFn = Callable[[StepContext], int | None]
Registry = Mapping[str, StepFn]


def rows_of(result: Any) -> int:
    """A best-effort row count from a stage's result, for the run history."""
    if result is None:
        return 0
    if isinstance(result, bool):
        return int(result)
    if isinstance(result, int):
        return result
    if isinstance(result, list | tuple):
        return sum(rows_of(item) for item in result)
    for name in ("rows", "row_count", "rows_written", "total_rows"):
        value = getattr(result, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def _raise_failed_sources(ctx: StepContext, summaries: list[Any]) -> None:
    """A source that could not be read fails the step as transient: a later attempt may work.

    What the other sources returned is already in the lake (written atomically per file),
    and re-running the step replaces it, so the retry adds nothing twice.
    """
    results = [r for summary in summaries for r in summary.results]
    failed = [f"{r.site}/{r.source}: {r.error or r.status}" for r in results if _unread(r)]
    quarantined = sum(r.quarantined for r in results)
    if quarantined:
        # Bad records are kept in the quarantine dataset with their reason for a person to
        # look at; reading the source again would reject them again, so it is no retry.
        log.warning(
            "%s %s: %d record(s) quarantined (see the quarantine dataset)",
            ctx.pipeline,
            ctx.period,
            quarantined,
            extra={"pipeline": ctx.pipeline, "period": ctx.period},
        )
    if failed:
        shown = "; ".join(failed[:4]) + (f"; and {len(failed) - 4} more" if len(failed) > 4 else "")
        raise SourceUnavailable(f"{len(failed)} source(s) not fully collected: {shown}")


def _unread(result: Any) -> bool:
    """Whether part of a source could not be read or written (quarantine alone is not that)."""
    return bool(result.status == "failed" or result.errors)


def collect_step(ctx: StepContext) -> int:
    """Sample the sources due at the run's instant (every source at the day's first)."""
    from metering.sources.collect import collect, sources_due

    summary = collect(ctx.config, ctx.at, sources=sources_due(ctx.at))
    _raise_failed_sources(ctx, [summary])
    return rows_of(summary)


def backfill_step(ctx: StepContext) -> int:
    """Re-collect the day from sources that keep their own history; report lasting gaps."""
    from metering.sources.collect import backfill

    summaries = backfill(ctx.config, ctx.window)
    _raise_failed_sources(ctx, summaries)
    unfilled = [gap for summary in summaries for gap in summary.unfilled]
    if unfilled:
        # A gap no source can fill is not an error: a sample holds for up to the configured
        # gap, and the metering rules say what a longer gap means. Say it, once, per night.
        log.warning(
            "%s %s: %d sample(s) missing that no source can fill (first: %s)",
            ctx.pipeline,
            ctx.period,
            len(unfilled),
            unfilled[0],
            extra={"pipeline": ctx.pipeline, "period": ctx.period, "step": "backfill"},
        )
    return rows_of(summaries)


def consolidate_step(ctx: StepContext) -> int:
    """Samples of the day → usage intervals; and the day's coverage (collected vs expected
    instants per site × source × hour), so the warehouse's ``coverage`` view is current."""
    from metering.completeness.coverage import write_day
    from metering.rating.consolidate import consolidate_day

    rows = rows_of(consolidate_day(ctx.config, ctx.window.start.date()))
    write_day(ctx.config, ctx.window.start.date())
    return rows


def rate_month_step(ctx: StepContext) -> int:
    """Rate the month the run's window falls in (month-to-date for a nightly run)."""
    from metering.rating.run import rate_month

    return rows_of(rate_month(ctx.config, ctx.month))


def close_month_step(ctx: StepContext) -> int:
    """Close the month: invoices, reports, FOCUS export."""
    from metering.close.run import close_month

    # the pipeline's previous step rated the whole month; closing is idempotent: an
    # unchanged month issues nothing new, so a re-run never duplicates an invoice
    result = close_month(
        ctx.config,
        ctx.month,
        rate=False,
        show_progress=ctx.progress,
        accept_gaps=ctx.accept_gaps,
    )
    if result.unmapped:
        log.warning(
            "%s %s: unmapped org(s) held until the tenant catalog maps them: %s",
            ctx.pipeline,
            ctx.period,
            ", ".join(result.unmapped),
            extra={"pipeline": ctx.pipeline, "period": ctx.period, "step": "close_month"},
        )
    if result.refused:
        # the ready tenants are issued; the rest wait for a person (the failure alerts)
        raise IncompleteMonth(
            f"close {result.month} refused for {len(result.held)} tenant(s):\n"
            + "\n".join(result.problems)
        )
    return len(result.invoices) + len(result.credit_notes)


def refresh_warehouse_step(ctx: StepContext) -> int:
    """Rebuild the DuckDB warehouse (finance and showback views over the lake)."""
    from metering.rating.warehouse import build_warehouse

    build_warehouse(ctx.config)
    return 0


STEPS: dict[str, StepFn] = {
    "collect": collect_step,
    "backfill": backfill_step,
    "consolidate": consolidate_step,
    "rate_month_to_date": rate_month_step,
    "rate_month": rate_month_step,
    "close_month": close_month_step,
    "refresh_warehouse": refresh_warehouse_step,
}
