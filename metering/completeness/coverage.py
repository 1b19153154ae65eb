"""Coverage as data: per site × source × hour, what should have been collected and what was.

A source is due at the sampling instants :func:`metering.sources.collect.sources_due` names
(VCD, CSE, ALP and DSE at every instant, OSE and Cloudian at the day's first). An instant
counts as collected when every sample dataset of the source has its file for it in the lake
(a file exists only for a dataset collected completely). Cloudian's hourly usage series adds
one expected instant per hour: the hour's ``cloudian_usage`` file. A shortfall is explained
by the ``runs`` log (a failed run), the pipeline history (a collect run interrupted when its
process died) or by nothing at all (an outage: nothing ran).

The rows are written to ``<lake>/coverage/site=<site>/date=<day>/<day>.parquet`` (one file
per site and day, replaced when computed again) and read by the close's gate, by
``metering coverage`` and by the warehouse's ``coverage`` view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from metering.config import ProviderConfig, SiteConfig
from metering.lake import store
from metering.lake.schemas import COVERAGE_SCHEMA, SOURCES, datasets_of
from metering.window import Window

DATASET = "coverage"
HOUR = timedelta(hours=1)
SERIES = "cloudian_usage"


@dataclass(frozen=True)
class DayCoverage:
    """One site × source × day, summed over its hours."""

    site: str
    source: str
    day: date
    expected: int
    collected: int
    failed_runs: int
    interrupted_runs: int

    @property
    def ratio(self) -> Decimal:
        """collected / expected (1 when nothing was due)."""
        if not self.expected:
            return Decimal(1)
        return Decimal(self.collected) / Decimal(self.expected)

    @property
    def cause(self) -> str:
        """Why instants are missing: failed runs, interrupted runs, or an outage."""
        if self.failed_runs:
            return f"{self.failed_runs} failed run(s)"
        if self.interrupted_runs:
            return f"{self.interrupted_runs} interrupted run(s)"
        return "outage: no collection ran"


def site_sources(site: SiteConfig) -> tuple[str, ...]:
    """The sources a site is collected from (OSE and Cloudian only where configured)."""
    skip = {"ose"} if site.ose_url is None else set()
    if site.cloudian_url is None:
        skip.add("cloudian")
    return tuple(s for s in SOURCES if s not in skip)


def _sample_datasets(source: str) -> list[str]:
    return [d.name for d in datasets_of(source) if not d.series]


def _interrupted(config: ProviderConfig, day: date) -> Counter[datetime]:
    """Collect instants of ``day`` whose pipeline run was interrupted (from the history)."""
    from metering.pipelines.history import RunHistory
    from metering.pipelines.settings import load_settings

    path = load_settings(config).history_path
    found: Counter[datetime] = Counter()
    if not path.is_file():
        return found
    history = RunHistory(path)
    try:
        runs = history.runs("collect", status="interrupted")
    finally:
        history.close()
    prefix = day.isoformat()
    for run in runs:
        if run.period.startswith(prefix):
            at = datetime.fromisoformat(run.period.replace("Z", "+00:00"))
            found[at.replace(minute=0, second=0, microsecond=0)] += 1
    return found


def _failed_runs(
    config: ProviderConfig, site: str, window: Window
) -> Counter[tuple[str, datetime]]:
    runs = store.read_dataset(config.lake, "runs", site=site, window=window)
    found: Counter[tuple[str, datetime]] = Counter()
    for row in runs.select(["source", "sample_time", "status", "errors"]).to_pylist():
        if row["status"] == "failed" or row["errors"]:
            hour = row["sample_time"].replace(minute=0, second=0, microsecond=0)
            found[(row["source"], hour)] += 1
    return found


def day_rows(config: ProviderConfig, day: date, now: datetime) -> list[dict[str, object]]:
    """Every site × source × hour row of ``day``."""
    from metering.sources.collect import sources_due

    window = Window.day(day)
    instants = list(window.steps(config.sampling_interval))
    interrupted = _interrupted(config, day)
    rows: list[dict[str, object]] = []
    for site in config.sites:
        failed = _failed_runs(config, site.name, window)
        for source in site_sources(site):
            keys = [
                store.sample_keys(config.lake, d, site.name, window)
                for d in _sample_datasets(source)
            ]
            series = store.sample_keys(config.lake, SERIES, site.name, window)
            for hour in window.steps(HOUR):
                due = [t for t in instants if hour <= t < hour + HOUR and source in sources_due(t)]
                have = [t for t in due if all(store.time_key(t) in k for k in keys)]
                expected, collected = len(due), len(have)
                if source == "cloudian":
                    expected += 1
                    collected += store.time_key(hour) in series
                rows.append(
                    _row(site.name, source, hour, expected, collected, failed, interrupted, now)
                )
    return rows


def _row(
    site: str,
    source: str,
    hour: datetime,
    expected: int,
    collected: int,
    failed: Counter[tuple[str, datetime]],
    interrupted: Counter[datetime],
    now: datetime,
) -> dict[str, object]:
    failed_runs = failed[(source, hour)]
    stopped = interrupted[hour] if collected < expected else 0
    if not expected:
        status = "not_due"
    elif collected >= expected:
        status = "complete"
    elif failed_runs:
        status = "failed"
    elif stopped:
        status = "interrupted"
    else:
        status = "outage"
    return {
        "site": site,
        "source": source,
        "hour": hour,
        "expected": expected,
        "collected": collected,
        "failed_runs": failed_runs,
        "interrupted_runs": stopped,
        "status": status,
        "computed_at": now,
    }


def write_day(config: ProviderConfig, day: date, now: datetime | None = None) -> pa.Table:
    """Compute ``day``'s coverage and write one file per site; returns all its rows."""
    rows = day_rows(config, day, now or datetime.now(UTC))
    table = pa.Table.from_pylist(rows, schema=COVERAGE_SCHEMA)
    start = Window.day(day).start
    for site in config.sites:
        mine = [r for r in rows if r["site"] == site.name]
        path = store.partition_dir(config.lake, DATASET, site.name, day) / (
            store.time_key(start) + ".parquet"
        )
        store.write_file(path, pa.Table.from_pylist(mine, schema=COVERAGE_SCHEMA))
    return table


def month_coverage(
    config: ProviderConfig, days: Iterable[date], now: datetime | None = None
) -> pa.Table:
    """Coverage of ``days``, computed from the lake now and written (replacing older rows)."""
    tables = [write_day(config, day, now) for day in days]
    if not tables:
        return COVERAGE_SCHEMA.empty_table()
    return pa.concat_tables(tables)


def by_day(table: pa.Table) -> list[DayCoverage]:
    """Hour rows summed per site × source × day, in site, source, day order."""
    sums: dict[tuple[str, str, date], list[int]] = {}
    for row in table.to_pylist():
        key = (row["site"], row["source"], row["hour"].date())
        acc = sums.setdefault(key, [0, 0, 0, 0])
        for i, name in enumerate(("expected", "collected", "failed_runs", "interrupted_runs")):
            acc[i] += int(row[name])
    return [DayCoverage(s, src, d, *acc) for (s, src, d), acc in sorted(sums.items())]
