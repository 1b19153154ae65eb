"""Run the collectors for every site and source and land the results in the lake.

:func:`collect` takes one sample at ``at`` (sites concurrently; within a site every source
and part concurrently, bounded by the site's HTTP concurrency). Each part's datasets are
written only when the part succeeded as a whole, so a file present in the lake means that
dataset was completely collected at that sample time; a failed part leaves a gap, recorded
in the ``runs`` log, and never stops the other parts, sources or sites.

:func:`backfill` re-reads what the sources keep history of (Cloudian's hourly usage series)
for a window, and Cloudian's group list for a day that has none, and reports the sample gaps
it cannot fill.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from metering.config import ProviderConfig, SiteConfig
from metering.errors import ConfigError, MeteringError
from metering.lake import store
from metering.lake.schemas import SOURCES
from metering.sources import alp, cloudian, cse, dse, ose, vcd, vcd_snapshots, vcd_templates
from metering.sources.base import Context, Part
from metering.sources.http import RetryPolicy, SiteClient, Sleep, run_loop
from metering.sources.landing import (
    SERIES_DATASET,
    failed,
    quarantine_rows,
    run_row,
    write_batches,
)
from metering.sources.limits import limits_from_config
from metering.sources.records import Batch, Quarantined
from metering.sources.records import _text as text
from metering.sources.summary import CollectSummary, SourceResult
from metering.window import Window, utc

__all__ = [
    "COLLECTORS",
    "CollectSummary",
    "Options",
    "SourceResult",
    "backfill",
    "backfill_async",
    "collect",
    "collect_async",
]

COLLECTORS: dict[str, tuple[Part, ...]] = {
    "vcd": vcd.PARTS + vcd_snapshots.PARTS + vcd_templates.PARTS,
    "cse": cse.PARTS,
    "alp": alp.PARTS,
    "dse": dse.PARTS,
    "ose": ose.PARTS,
    "cloudian": cloudian.PARTS,
}
log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
# Sources whose state can only be seen when it is sampled are read at every sampling instant.
# OSE and Cloudian keep their own history (Cloudian's hourly usage series, re-read whole by
# the nightly backfill) or feed the month-end report (tenant usage, buckets, backups, groups,
# storage policies), so they are read once a day, at the day's first instant: sampling them
# hourly made nine requests in ten of every collection and changed no invoice line.
DAILY_SOURCES = frozenset({"ose", "cloudian"})


def sources_due(at: datetime) -> tuple[str, ...]:
    """The sources a regular collection at ``at`` reads."""
    first_of_day = at.hour == 0 and at.minute == 0 and at.second == 0
    return tuple(s for s in COLLECTORS if first_of_day or s not in DAILY_SOURCES)


def _expected_times(config: ProviderConfig, window: Window, source: str) -> list[datetime]:
    """The sample times a source's datasets should have in ``window``."""
    times = list(window.steps(config.sampling_interval))
    return [t for t in times if source in sources_due(t)]


LOOKBACK_HOURS = 24


@dataclass(frozen=True)
class Options:
    """Test and tuning hooks: an HTTP transport (ASGI), retry policy, sleep, progress."""

    transport: httpx.AsyncBaseTransport | None = None
    retry: RetryPolicy | None = None
    sleep: Sleep | None = None
    on_result: Callable[[SourceResult], None] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _pick(names: Sequence[str] | None, known: Iterable[str], what: str) -> list[str]:
    known = list(known)
    if names is None:
        return known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown {what} {unknown}; known: {', '.join(known)}")
    return [n for n in known if n in names]


def series_hours(config: ProviderConfig, site: str, at: datetime) -> tuple[datetime, ...]:
    """The Cloudian hours a regular run at ``at`` reads: the last complete hour, plus any
    hour of the last day missing from the lake after the first one already there."""
    last = at.replace(minute=0, second=0, microsecond=0) - HOUR
    window = Window(last - HOUR * (LOOKBACK_HOURS - 1), last + HOUR)
    have = store.sample_keys(config.lake, SERIES_DATASET, site, window)
    hours = list(window.steps(HOUR))
    present = [h for h in hours if store.time_key(h) in have]
    missing = [h for h in hours if present and h > present[0] and store.time_key(h) not in have]
    return tuple(sorted({*missing, last}))


def known_buckets(
    config: ProviderConfig, site: str, hours: tuple[datetime, ...]
) -> tuple[dict[str, Any], ...]:
    """Buckets the lake holds for ``site`` around ``hours`` (usage series and bucket samples),
    each with ``seen_at``: the earliest sample time the lake shows it at."""
    if not hours:
        return ()
    window = Window(min(hours), max(hours) + 2 * HOUR)
    columns = ["group_id", "user_id", "bucket", "storage_policy"]
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for dataset in (SERIES_DATASET, "cloudian_bucket_usage"):
        table = store.read_dataset(config.lake, dataset, site=site, window=window)
        grouped = table.group_by(columns).aggregate([("sample_time", "min")])
        for row in grouped.to_pylist():
            if row["user_id"] and row["bucket"]:
                key = (row["group_id"], row["user_id"], row["bucket"])
                seen = row.pop("sample_time_min")
                earlier = found.get(key, {}).get("seen_at")
                found[key] = {**row, "seen_at": min(seen, earlier) if earlier else seen}
    return tuple(found.values())


async def _run_part(ctx: Context, part: Part) -> list[Batch] | BaseException:
    """One part's batches, or the error that failed it: whatever a part raises fails that
    part alone (a hostile answer must never end the run; the traceback goes to the log)."""
    try:
        return await part.run(ctx)
    except MeteringError as exc:
        return exc
    except Exception as exc:  # the boundary of one part
        log.warning("site %s: part %s failed", ctx.site.name, part.datasets, exc_info=True)
        return MeteringError(f"{type(exc).__name__}: {text(exc)[:300]}", site=ctx.site.name)


async def _run_source(
    config: ProviderConfig,
    ctx: Context,
    source: str,
    parts: Sequence[Part],
    run_id: str,
) -> tuple[SourceResult, list[Quarantined]]:
    started = time.monotonic()
    result = SourceResult(ctx.site.name, source, "ok")
    meta = {"site": ctx.site.name, "run_id": run_id, "collected_at": _now()}
    outcomes = await asyncio.gather(*(_run_part(ctx, p) for p in parts))
    rejected: list[Quarantined] = []
    for part, outcome in zip(parts, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            failed(result, part.datasets, str(outcome))
            continue
        try:
            result.rows += write_batches(config, ctx, source, outcome, meta, ctx.limits)
        except MeteringError as exc:  # e.g. the lake cannot be written
            failed(result, part.datasets, str(exc))
            continue
        except Exception as exc:  # the boundary of one part
            log.warning("site %s: writing %s failed", ctx.site.name, part.datasets, exc_info=True)
            failed(result, part.datasets, f"{type(exc).__name__}: {text(exc)[:300]}")
            continue
        result.datasets.extend(part.datasets)
        rejected.extend(q for b in outcome for q in b.rejected)
        result.problems.extend(f"{b.dataset}: {note}" for b in outcome for note in b.notes)
    result.quarantined = len(rejected)
    result.error = result.summary_error()
    if not result.datasets:
        result.status = "failed"
    elif result.problems or rejected:
        result.status = "partial"
    result.seconds = time.monotonic() - started
    return result, rejected


async def _collect_site(
    config: ProviderConfig,
    site: SiteConfig,
    plan: dict[str, tuple[Part, ...]],
    at: datetime,
    hours: tuple[datetime, ...],
    run_id: str,
    options: Options,
) -> list[tuple[SourceResult, list[Quarantined]]]:
    """Every source of one site, concurrently, over one shared client."""
    try:
        client = SiteClient(
            site, transport=options.transport, retry=options.retry, sleep=options.sleep
        )
    except MeteringError as exc:  # e.g. an unreadable CA bundle: every source of it fails
        return [
            (SourceResult(site.name, src, "failed", errors=1, error=str(exc)), []) for src in plan
        ]
    async with client:
        ctx = Context(client, at, hours, known_buckets(config, site.name, hours))
        ctx.limits = limits_from_config(config)
        pairs = list(
            await asyncio.gather(
                *(_run_source(config, ctx, src, parts, run_id) for src, parts in plan.items())
            )
        )
    for result, _ in pairs:
        result.api_version = client.api_version
    return pairs


async def _run_site(
    config: ProviderConfig,
    site: SiteConfig,
    plan: dict[str, tuple[Part, ...]],
    at: datetime,
    hours: tuple[datetime, ...],
    run_id: str,
    options: Options,
    qsuffix: str = "",
) -> list[SourceResult]:
    started = _now()
    pairs = await _collect_site(config, site, plan, at, hours, run_id, options)
    results, runs = [], []
    for (result, rejected), source in zip(pairs, plan, strict=True):
        window = _window_of(config, source, at, hours, plan[source])
        qrows = quarantine_rows(rejected, site.name, source, run_id, at)
        qpath = store.partition_path(config.lake, "quarantine", site.name, at, source + qsuffix)
        if qrows:  # replaces what an earlier run of this sample quarantined
            store.write_partition(
                config.lake, "quarantine", site.name, at, qrows, suffix=source + qsuffix
            )
        elif not result.errors:  # a clean re-run clears; a failed part keeps its old data
            qpath.unlink(missing_ok=True)
        runs.append(run_row(result, at, run_id, window, started))
        results.append(result)
        if options.on_result:
            options.on_result(result)
    store.write_partition(config.lake, "runs", site.name, at, runs, suffix=run_id)
    return results


def _window_of(
    config: ProviderConfig,
    source: str,
    at: datetime,
    hours: tuple[datetime, ...],
    parts: Sequence[Part],
) -> Window:
    only_series = all(p.datasets == (SERIES_DATASET,) for p in parts)
    if only_series and hours:
        return Window(min(hours), max(hours) + HOUR)
    return Window(at, at + config.sampling_interval)


def _plan(sources: Sequence[str] | None, series_only: bool = False) -> dict[str, tuple[Part, ...]]:
    chosen = _pick(sources, SOURCES, "source(s)")
    plan = {s: COLLECTORS[s] for s in chosen}
    if series_only:
        plan = {
            s: tuple(p for p in parts if SERIES_DATASET in p.datasets) for s, parts in plan.items()
        }
        plan = {s: parts for s, parts in plan.items() if parts}
    return plan


def new_run_id(at: datetime) -> str:
    return f"{store.time_key(at)}-{uuid.uuid4().hex[:8]}"


async def collect_async(
    config: ProviderConfig,
    at: datetime,
    *,
    sites: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    options: Options | None = None,
) -> CollectSummary:
    """Async form of :func:`collect` (for callers that already run an event loop)."""
    at = utc(at)
    options = options or Options()
    limits_from_config(config)  # a bad [collect.limits] is one config error, before any request
    chosen = _pick(sites, [s.name for s in config.sites], "site(s)")
    plan = _plan(sources)
    run_id = new_run_id(at)
    per_site = await asyncio.gather(
        *(
            _run_site(
                config, config.site(name), plan, at, series_hours(config, name, at), run_id, options
            )
            for name in chosen
        )
    )
    return CollectSummary(run_id, at, [r for site in per_site for r in site])


def collect(
    config: ProviderConfig,
    at: datetime,
    *,
    sites: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    options: Options | None = None,
) -> CollectSummary:
    """Take one sample of every (chosen) site and source at ``at`` and write it to the lake."""
    return run_loop(collect_async(config, at, sites=sites, sources=sources, options=options))


def _chunks(window: Window) -> list[Window]:
    """Whole UTC days (clipped to the window) so one backfill call stays bounded."""
    out, start = [], window.start.replace(minute=0, second=0, microsecond=0)
    while start < window.end:
        end = min(window.end, (start + timedelta(days=1)).replace(hour=0))
        out.append(Window(start, end))
        start = end
    return out


def sample_gaps(config: ProviderConfig, window: Window, site: str) -> list[str]:
    """``dataset@time`` for every sample time in ``window`` with no file (nothing to backfill)."""
    gaps: list[str] = []
    for source, parts in COLLECTORS.items():
        expected = _expected_times(config, window, source)
        for dataset in (d for p in parts for d in p.datasets if d != SERIES_DATASET):
            have = store.sample_keys(config.lake, dataset, site, window)
            gaps.extend(
                f"{dataset}@{store.time_key(t)}" for t in expected if store.time_key(t) not in have
            )
    return gaps


async def _reread_groups(
    config: ProviderConfig, chunk: Window, sites: Sequence[str], run_id: str, options: Options
) -> list[SourceResult]:
    """Cloudian's group list for a day whose own is missing (the day's first instant was not
    collected: the scheduler was down). Consolidation maps each usage series' group to its
    org with the lists around the day; without one, the day's object storage has no tenant.
    Cloudian keeps no history of it, so the list read now stands in, written at the day's
    first instant (a group renamed since shows its present name)."""
    part = tuple(p for p in COLLECTORS["cloudian"] if p.datasets == ("cloudian_group",))
    missing = [
        n
        for n in sites
        if config.site(n).cloudian_url is not None
        and not store.dataset_files(config.lake, "cloudian_group", site=n, window=chunk)
    ]
    per_site = await asyncio.gather(
        *(
            _run_site(
                config,
                config.site(n),
                {"cloudian": part},
                chunk.start,
                (),
                run_id,
                options,
                "-groups",
            )
            for n in missing
        )
    )
    return [r for s in per_site for r in s]


async def backfill_async(
    config: ProviderConfig,
    window: Window,
    *,
    sites: Sequence[str] | None = None,
    options: Options | None = None,
) -> list[CollectSummary]:
    """Async form of :func:`backfill`."""
    options = options or Options()
    chosen = _pick(sites, [s.name for s in config.sites], "site(s)")
    plan = _plan(None, series_only=True)
    summaries = []
    for chunk in _chunks(window):
        hours = tuple(chunk.steps(HOUR))
        run_id = new_run_id(chunk.end)
        groups = await _reread_groups(config, chunk, chosen, run_id, options)
        per_site = await asyncio.gather(
            *(
                _run_site(
                    config, config.site(n), plan, chunk.end, hours, run_id, options, "-backfill"
                )
                for n in chosen
            )
        )
        summary = CollectSummary(run_id, chunk.end, [*groups, *(r for s in per_site for r in s)])
        summary.unfilled = [f"{n}:{g}" for n in chosen for g in sample_gaps(config, chunk, n)]
        summaries.append(summary)
    return summaries


def backfill(
    config: ProviderConfig,
    window: Window,
    *,
    sites: Sequence[str] | None = None,
    options: Options | None = None,
) -> list[CollectSummary]:
    """Re-read the Cloudian hourly series for ``window`` (replacing those hours' files) and
    list the sample-dataset gaps in it that no source can fill any more."""
    return run_loop(backfill_async(config, window, sites=sites, options=options))
