"""The month's lineage kept per day, so that rating a month rates only the days that changed.

``int_rated_usage`` (the rated quantity per tenant, site, resource, day, product, dimension
and rate card: the lineage the invoice lines are priced from) is the month's biggest
aggregate, and every row of it belongs to one day and depends only on that day's intervals
and on the rating's inputs (pricing, catalog, ``rating_params``). The nightly pipeline rates
the month to date every night, so by month end the lineage of every day but the last has
been computed before. Each rating writes the lineage of the days it rated from their
intervals to ``rating/day_lineage/month=YYYY-MM/<day>.parquet``, and the next rating reads a
day's file instead of rating the day again, when the file's *key* is the key the day has
now: a hash of

* the rating inputs (every table of :func:`metering.rating.outputs.rating_inputs` but the
  two this module sets), the SQL that computes the lineage and the DuckDB version, and
* the day file's fingerprint (its rows' checksum, recorded when it was consolidated:
  ``sql/audits/day/day_fingerprint.sql``).

A change of pricing, catalog or settings, of the rating SQL, or of the day's rows gives
another key, and the day is rated from its intervals again. A day file without a fingerprint
(consolidated by an earlier version) is always rated from its intervals. A lineage file that
cannot be read is ignored and written again. Whatever is reused, the month's audits still
compare the whole month's lineage with its intervals (``audit_conservation``: metered
quantity = rated + unrated per key), so a lineage file that does not match its day fails
the rating instead of being billed.

The SQL sees two tables: ``fresh_days`` (the days ``int_rated_usage`` rates from the
intervals) and ``day_lineage`` (the reused rows). Every other engine registers all days as
fresh and no lineage (their defaults in ``rating_inputs``): the same SQL rates everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pyarrow as pa

from metering.lake.storage import LakePath
from metering.lake.store import write_file
from metering.lake.validate import file_schema
from metering.rating.day_digest import fingerprints
from metering.rating.engine import register_files, register_table
from metering.rating.provenance import rules_version, with_footer_json
from metering.window import Window

# The rows of int_rated_usage, as a day's lineage file holds them.
LINEAGE_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("site", pa.string()),
        ("resource_id", pa.string()),
        ("usage_date", pa.date32()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("rate_card_id", pa.string()),
        ("resource_name", pa.string()),
        ("quantity_exact", pa.decimal128(38, 18)),
        ("parts", pa.int64()),
        ("filled_nano_hours", pa.int64()),
        ("quantity", pa.decimal128(38, 9)),
        ("filled_hours", pa.decimal128(38, 9)),
    ]
)
FRESH_DAYS_SCHEMA = pa.schema([("usage_date", pa.date32())])
# the tables this module sets; the key is made of every other rating input
FRESH_DAYS = "fresh_days"
DAY_LINEAGE = "day_lineage"
OWN_TABLES = frozenset({FRESH_DAYS, DAY_LINEAGE})
# The footer key of a lineage file: {"key": ...}.
FOOTER = b"metering.day_lineage"


def default_tables(month: Window) -> dict[str, pa.Table]:
    """Every day of ``month`` rated from its intervals, no lineage reused."""
    days = pa.Table.from_pylist([{"usage_date": d} for d in month.days()], FRESH_DAYS_SCHEMA)
    return {FRESH_DAYS: days, DAY_LINEAGE: LINEAGE_SCHEMA.empty_table()}


def lineage_path(lake: LakePath, day: date) -> LakePath:
    return lake / "rating" / "day_lineage" / f"month={day:%Y-%m}" / f"{day.isoformat()}.parquet"


def inputs_key(inputs: Mapping[str, pa.Table], models: Iterable[str]) -> str:
    """A hash of the rating inputs, of the SQL of ``models`` (those the lineage is the result
    of) and of the engine's version."""
    digest = hashlib.sha256()
    digest.update(f"duckdb {duckdb.__version__}\0{rules_version(models)}\0".encode())
    for name in sorted(set(inputs) - OWN_TABLES):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, inputs[name].schema) as writer:
            writer.write_table(inputs[name])
        digest.update(name.encode() + b"\0" + sink.getvalue().to_pybytes() + b"\0")
    return digest.hexdigest()


def _day_key(inputs: str, day: date, fingerprint: str) -> str:
    return hashlib.sha256(f"{inputs}\0{day.isoformat()}\0{fingerprint}".encode()).hexdigest()


def _recorded_key(path: LakePath) -> str | None:
    """The key a lineage file records; None when there is none, or no readable file of the
    lineage's columns (it is then rated again and written again)."""
    if not path.is_file():
        return None
    try:
        found = file_schema(path)
    except (OSError, ValueError, pa.ArrowException):
        return None
    if not found.remove_metadata().equals(LINEAGE_SCHEMA):
        return None
    raw = (found.metadata or {}).get(FOOTER)
    try:
        recorded = json.loads(raw) if raw else None
    except ValueError:
        return None
    key = recorded.get("key") if isinstance(recorded, dict) else None
    return key if isinstance(key, str) else None


@dataclass(frozen=True)
class MonthLineage:
    """Which days of a month are rated from their intervals and which reuse their lineage."""

    reused: dict[date, LakePath] = field(default_factory=dict)
    # the key each day's lineage has under the current inputs (days with a fingerprint)
    keys: dict[date, str] = field(default_factory=dict)
    fresh: tuple[date, ...] = ()


def plan(
    lake: LakePath,
    month: Window,
    usage_files: Iterable[LakePath],
    inputs: Mapping[str, pa.Table],
    models: Iterable[str],
) -> MonthLineage:
    """For every day of ``month`` with a usage file, whether its lineage file is reused
    (``models``: the rating SQL up to ``int_rated_usage``)."""
    from metering.rating.consolidate import intervals_path

    files = list(usage_files)
    named = {str(path) for path in files}
    days = [day for day in month.days() if str(intervals_path(lake, day)) in named]
    common = inputs_key(inputs, models)
    prints = fingerprints(files)
    keys = {day: _day_key(common, day, prints[day]) for day in days if day in prints}
    reused = {
        day: path
        for day, key in keys.items()
        if _recorded_key(path := lineage_path(lake, day)) == key
    }
    return MonthLineage(reused, keys, tuple(day for day in days if day not in reused))


def register(con: duckdb.DuckDBPyConnection, lineage: MonthLineage, lake: LakePath) -> None:
    """``fresh_days`` and ``day_lineage`` as ``lineage`` says (replacing the defaults)."""
    days = pa.Table.from_pylist([{"usage_date": d} for d in lineage.fresh], FRESH_DAYS_SCHEMA)
    register_table(con, FRESH_DAYS, days)
    con.execute(f"drop table if exists {DAY_LINEAGE}")
    register_files(con, DAY_LINEAGE, list(lineage.reused.values()), LINEAGE_SCHEMA, lake)


def write(con: duckdb.DuckDBPyConnection, lineage: MonthLineage, lake: LakePath) -> int:
    """Write the lineage of every day rated from its intervals (that has a key) from
    ``int_rated_usage``; returns the days written."""
    written = 0
    for day in lineage.fresh:
        key = lineage.keys.get(day)
        if key is None:
            continue
        found = con.sql("select * from int_rated_usage where usage_date = ?", params=[day])
        assert found is not None  # a select always gives a relation
        table = found.to_arrow_table().select(LINEAGE_SCHEMA.names).cast(LINEAGE_SCHEMA)
        write_file(lineage_path(lake, day), with_footer_json(table, FOOTER, {"key": key}))
        written += 1
    return written
