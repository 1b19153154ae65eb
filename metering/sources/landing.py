"""Landing one collection in the lake: a part's batches (screened row by row first), the
quarantine rows and the run-log row of a site x source.

Split from :mod:`metering.sources.collect`, which schedules the requests; this module only
turns their results into lake rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from metering.config import ProviderConfig
from metering.lake import store
from metering.sources.base import Context
from metering.sources.limits import Limits, screen
from metering.sources.records import Batch, Quarantined
from metering.sources.summary import SourceResult
from metering.window import Window

SERIES_DATASET = "cloudian_usage"


def _now() -> datetime:
    return datetime.now(UTC)


def write_batches(
    config: ProviderConfig,
    ctx: Context,
    source: str,
    batches: list[Batch],
    meta: dict[str, Any],
    limits: Limits,
) -> int:
    """Write a part's batches; rows out of range or not fitting their schema are refused
    onto the batch's quarantine first, so one bad row never loses its dataset."""
    rows = 0
    common = {**meta, "source": source}
    for batch in batches:
        if batch.dataset == SERIES_DATASET:
            by_hour: dict[datetime, list[dict[str, Any]]] = {h: [] for h in ctx.series_hours}
            series = screen(
                batch, limits, lambda r: {**r, **common, "sample_time": r["interval_end"]}
            )
            for row in series:
                by_hour[row["interval_start"]].append(row)
            for hour, hour_rows in by_hour.items():
                store.write_partition(config.lake, SERIES_DATASET, ctx.site.name, hour, hour_rows)
            rows += len(series)
        else:
            out = screen(batch, limits, lambda r: {**r, **common, "sample_time": ctx.sample_time})
            store.write_partition(config.lake, batch.dataset, ctx.site.name, ctx.sample_time, out)
            rows += len(out)
    return rows


def failed(result: SourceResult, datasets: Sequence[str], error: str) -> None:
    result.errors += 1
    result.failed_datasets.extend(datasets)
    result.problems.append(error)


def quarantine_rows(
    rejected: list[Quarantined], site: str, source: str, run_id: str, at: datetime
) -> list[dict[str, Any]]:
    now = _now()
    return [
        {
            "dataset": q.dataset,
            "site": site,
            "source": source,
            "run_id": run_id,
            "sample_time": at,
            "collected_at": now,
            "record_key": q.record_key,
            "reason": q.reason,
            "raw_record": q.raw_record,
        }
        for q in rejected
    ]


def run_row(
    result: SourceResult, at: datetime, run_id: str, window: Window, started: datetime
) -> dict[str, Any]:
    finished = _now()
    return {
        "run_id": run_id,
        "site": result.site,
        "source": result.source,
        "sample_time": at,
        "window_start": window.start,
        "window_end": window.end,
        "status": result.status,
        "rows": result.rows,
        "quarantined": result.quarantined,
        "errors": result.errors,
        "error": result.error,
        "datasets": result.datasets,
        "started_at": started,
        "finished_at": finished,
        "duration_ms": int(result.seconds * 1000),
        "api_version": result.api_version,
    }
