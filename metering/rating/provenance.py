"""Settings provenance: what each consolidated day was built with.

``consolidate_day`` records, in the key-value metadata of the day's Parquet file (written
with the intervals, so they can never disagree), every setting consolidation reads and the
version of its rules: a hash of the consolidation SQL. Rating compares each day of the month
with the settings in force: a day built with other settings (or before provenance was
recorded) is **stale**, and is consolidated again from its samples before the month is rated
(``[rating] stale_days = "reconsolidate"``, the default), or rating refuses, naming the days
and the command that rebuilds them (``"refuse"``). A stale day whose samples are no longer in
the lake is always refused: rebuilding it would bill nothing. The provider report states the
settings recorded in the days it reports on (docs/metering-rules.md, docs/reports.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date

import pyarrow as pa

from metering.lake.storage import LakePath, ObjectPath
from metering.rating.settings import RatingSettings
from metering.resources import read_sql

KEY = b"metering.consolidation"


def rules_version(models: Iterable[str]) -> str:
    """A short hash of the consolidation SQL: any change of the rules changes it."""
    digest = hashlib.sha256()
    for name in models:
        digest.update(name.encode() + b"\0" + read_sql(name).encode() + b"\0")
    return digest.hexdigest()[:16]


def recorded_settings(settings: RatingSettings, rules: str) -> dict[str, str]:
    """Every setting consolidation reads, as text, and the rules version."""
    interval = settings.sampling_interval
    gap_intervals = settings.gap // interval if interval else 0
    return {
        "rules_version": rules,
        "sampling_interval_minutes": str(int(interval.total_seconds()) // 60),
        "gap_intervals": str(gap_intervals),
        "dse_vcpus_per_core": str(settings.dse_vcpus_per_core),
        "dse_include_sidecars": "true" if settings.dse_include_sidecars else "false",
        "series_site_order": ",".join(settings.series_site_order),
        "home_sites": ",".join(f"{org}={site}" for org, site in sorted(settings.home_sites)),
    }


def with_footer_json(table: pa.Table, key: bytes, values: Mapping[str, str]) -> pa.Table:
    """``table`` with ``values`` as a JSON object under ``key`` in its schema metadata (kept
    in the Parquet footer)."""
    metadata = dict(table.schema.metadata or {})
    metadata[key] = json.dumps(dict(values), sort_keys=True).encode()
    return table.replace_schema_metadata(metadata)


def read_footer_json(path: LakePath, key: bytes) -> dict[str, str] | None:
    """The JSON object of text values under ``key`` in a Parquet file's footer (None when the
    file has none), local or in object storage."""
    import pyarrow.parquet as pq

    if isinstance(path, ObjectPath):
        with path.fs.open_input_file(path.fs_path) as handle:
            schema = pq.read_schema(handle)
    else:
        schema = pq.read_schema(path)
    raw = (schema.metadata or {}).get(key)
    if raw is None:
        return None
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None


def stamp(table: pa.Table, recorded: Mapping[str, str]) -> pa.Table:
    """``table`` with ``recorded`` in its schema metadata (kept in the Parquet footer)."""
    return with_footer_json(table, KEY, recorded)


def read_recorded(path: LakePath) -> dict[str, str] | None:
    """The settings a day file records (None: built before provenance, or by hand)."""
    return read_footer_json(path, KEY)


def differences(recorded: Mapping[str, str] | None, current: Mapping[str, str]) -> list[str]:
    """What differs, as ``key: recorded → current`` (all of it when nothing is recorded)."""
    if recorded is None:
        return ["no settings recorded (consolidated by an earlier version)"]
    return [
        f"{key}: {recorded.get(key, '(none)')} → {value}"
        for key, value in current.items()
        if recorded.get(key) != value
    ]


def describe(days: Mapping[date, list[str]]) -> str:
    """One line per stale day: the day and what differs."""
    return "; ".join(f"{day.isoformat()} ({', '.join(diff)})" for day, diff in sorted(days.items()))
