"""Rating a month: usage intervals + pricing → rated usage, invoice lines and totals.

``rate_month`` loads the pricing policies and the tenant catalog, registers them and the
month's ``usage_intervals`` as views, runs ``sql/intermediate`` and ``sql/marts``, runs every
audit in ``sql/audits`` (any bad row fails the rating), and writes the four outputs to
``<lake>/rating/<table>/month=YYYY-MM/part.parquet`` atomically. Re-rating a month gives
identical files' contents (idempotent).

The outputs never become Python tables: each is streamed out of DuckDB in row groups into
its file (:mod:`metering.rating.publish`), so memory does not grow with the month; the
audits run as SQL on the engine before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa

from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.rating import day_lineage
from metering.rating.catalog import Tenant, load_catalog
from metering.rating.day_digest import usage_days, usage_days_of
from metering.rating.days import MonthUsage, month_usage
from metering.rating.engine import (
    audit,
    bounded_connection,
    register_files,
    register_table,
    run_models,
)
from metering.rating.manifest import entry, publish_unit
from metering.rating.outputs import (
    OUTPUT_SCHEMAS,
    add_totals,
    conform,
    raise_on_audit,
    rating_inputs,
)
from metering.rating.policy import Pricing, load_pricing
from metering.rating.publish import ROW_GROUP_ROWS, Batches, Staged, commit_all, write_staged
from metering.rating.settings import RatingSettings, rating_settings
from metering.rating.tables import check_plans
from metering.resources import resource_dir
from metering.window import Window

OUTPUTS = ("rated_usage", "invoice_lines", "invoice_totals", "unrated_usage")

INTERMEDIATE = (
    "intermediate/int_rating_usage.sql",
    "intermediate/int_usage_levels.sql",
    "intermediate/int_tenants.sql",
    "intermediate/int_tenant_rates.sql",
    "intermediate/int_usage_keys.sql",
    "intermediate/int_usage_rates.sql",
    "intermediate/int_rate_parts.sql",
    "intermediate/int_unrated_parts.sql",
    "intermediate/int_rated_usage.sql",
    "intermediate/int_charge_keys.sql",
    "intermediate/int_charge_periods.sql",
    "intermediate/int_charge_bands.sql",
)
# The models up to the lineage of the invoice lines (int_rated_usage): what a day's kept
# lineage is the result of (metering.rating.day_lineage), and what DuckDB per site runs in
# each site's process (metering.rating.per_site).
THROUGH_LINEAGE = INTERMEDIATE[: INTERMEDIATE.index("intermediate/int_rated_usage.sql") + 1]
# Models with a row per usage interval (52.7 M at full size) stay views: each reader streams
# them from the Parquet intervals with only the columns it needs. Materialised, they outgrow
# the memory cap and go to DuckDB's temp files, and writing and reading those back cost more
# than reading the compressed intervals again (full month: ~4 GB written, and every scan of
# them slower than a scan of the Parquet). Every other model is small, or read by several
# later models, and is materialised. The parts are grouped once, into int_rated_usage (20.9 M
# rows, materialised: the charge keys and rated_usage read it); rated_usage is a view of it
# (its columns, sorted) that only the writer reads, so the month is held once, not twice.
STREAMED = frozenset({"int_rating_usage", "int_rate_parts", "rated_usage"})

MARTS = (
    "marts/rated_usage.sql",
    "marts/invoice_lines.sql",
    "marts/invoice_totals.sql",
    "marts/unrated_usage.sql",
)


@dataclass(frozen=True)
class RatingResult:
    """What a rating run produced."""

    month: Window
    tenants: int
    rows: int  # rated_usage rows
    invoice_lines: int
    unrated_rows: int
    # days of the month with no consolidated intervals: not billed at all (not estimated)
    missing_days: tuple[date, ...]
    # invoice lines with filled hours (docs/metering-rules.md, fill policy)
    estimated_lines: int
    # days rebuilt first because they had been consolidated with other settings
    reconsolidated: tuple[date, ...] = ()
    # days whose lineage an earlier rating of the month computed (metering.rating.day_lineage)
    reused_days: tuple[date, ...] = ()
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → Σ total_amount
    paths: dict[str, LakePath] = field(default_factory=dict)


def output_path(lake: LakePath, table: str, month: Window) -> LakePath:
    return lake / "rating" / table / f"month={month.start:%Y-%m}" / "part.parquet"


# Double counting first: a duplicated interval also breaks conservation, and this says why.
AUDIT_ORDER = ("audit_no_double_counting", "audit_no_negatives", "audit_conservation")


def audit_names() -> list[str]:
    """Every audit in sql/audits, the ones that best explain a failure first."""
    names = sorted(p.stem for p in (resource_dir("sql") / "audits").glob("*.sql"))
    ranked = sorted(names, key=lambda n: AUDIT_ORDER.index(n) if n in AUDIT_ORDER else 99)
    return [f"audits/{n}.sql" for n in ranked]


def load_inputs(config: ProviderConfig) -> tuple[RatingSettings, Pricing, tuple[Tenant, ...]]:
    """Settings, pricing and catalog, checked against each other."""
    settings = rating_settings(config)
    pricing = load_pricing(config.pricing_dir)
    tenants = load_catalog(config.tenant_catalog, settings.default_plan)
    check_plans(pricing, tenants, settings.default_plan)
    return settings, pricing, tenants


def register_inputs(
    con: duckdb.DuckDBPyConnection,
    month: Window,
    settings: RatingSettings,
    pricing: Pricing,
    tenants: tuple[Tenant, ...],
) -> None:
    """Pricing, catalog and ``rating_params`` as temp tables (every engine reads the same)."""
    tables = rating_inputs(month, settings, pricing, tenants)
    for name, table in tables.items():
        register_table(con, name, table)


def rate_on(
    con: duckdb.DuckDBPyConnection,
    month: Window,
    settings: RatingSettings,
    pricing: Pricing,
    tenants: tuple[Tenant, ...],
    *,
    lineage: tuple[day_lineage.MonthLineage, LakePath] | None = None,
) -> None:
    """Run the rating SQL on ``con`` (``usage_intervals`` already registered) and audit it;
    the four outputs are left as temp tables of those names (see :func:`duckdb_outputs`).
    With ``lineage``, the days it reuses are read from their lineage files, not rated again
    (metering.rating.day_lineage); without, every day is rated from its intervals."""
    register_inputs(con, month, settings, pricing, tenants)
    if lineage is not None:
        day_lineage.register(con, *lineage)
    for name in (*INTERMEDIATE, *MARTS):
        run_models(con, [name], materialize=Path(name).stem not in STREAMED)
    for name in audit_names():
        raise_on_audit(name, audit(con, name), month)


def _duckdb_reader(con: duckdb.DuckDBPyConnection, name: str) -> pa.RecordBatchReader:
    relation = con.sql(f"select * from {name}")
    # DuckDB 2 names it to_arrow_reader (the 1.x name is deprecated there); pyproject allows 1.1
    opener = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader: pa.RecordBatchReader = opener(ROW_GROUP_ROWS)
    return reader


def duckdb_outputs(con: duckdb.DuckDBPyConnection) -> dict[str, Batches]:
    """The outputs rated on ``con``, each opened as a stream of Arrow batches when written
    (one at a time: a DuckDB connection runs one query at once)."""
    return {name: partial(_duckdb_reader, con, name) for name in OUTPUTS}


def output_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The outputs rated on ``con`` as whole Arrow tables (small months, comparisons)."""
    return {name: con.sql(f"select * from {name}").to_arrow_table() for name in OUTPUTS}


def month_days(month: Window) -> list[date]:
    return list(month.days())


def register_month_usage(
    con: duckdb.DuckDBPyConnection, usage: MonthUsage, lake: LakePath | None = None
) -> None:
    """Register the month's consolidated usage intervals as the view ``usage_intervals``, and
    the digests their files record as ``usage_days`` (audits/audit_no_double_counting.sql)."""
    from metering.rating.intervals import INTERVALS_SCHEMA

    register_files(con, "usage_intervals", usage.files, INTERVALS_SCHEMA, lake)
    register_table(con, "usage_days", usage_days(usage.files))


def register_usage_table(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    """Usage intervals not read from day files (a test's table) as ``usage_intervals``, with
    their own digests as ``usage_days``: each day taken as consolidated as it is."""
    register_table(con, "usage_intervals", table)
    register_table(con, "usage_days", usage_days_of(table))


def rate_month(config: ProviderConfig, month: Window) -> RatingResult:
    """Rate ``month`` from the lake's usage intervals and write the rating outputs."""
    settings, pricing, tenants = load_inputs(config)
    # its own cap ([rating] memory_limit): the month's aggregates spill less than at the
    # consolidation's 2 GB
    with bounded_connection(settings.memory_limit) as con:
        usage = month_usage(config, month)
        register_month_usage(con, usage, config.lake)
        inputs = rating_inputs(month, settings, pricing, tenants)
        lineage = day_lineage.plan(config.lake, month, usage.files, inputs, THROUGH_LINEAGE)
        rate_on(con, month, settings, pricing, tenants, lineage=(lineage, config.lake))
        # the days just rated from their intervals, for the month's next rating (audited)
        day_lineage.write(con, lineage, config.lake)
        result = publish(config, month, duckdb_outputs(con), usage=usage)
        return replace(result, reused_days=tuple(sorted(lineage.reused)))


def _count_estimated(counter: list[int], lines: pa.Table) -> None:
    counter[0] += sum(1 for flag in lines.column("estimated").to_pylist() if flag)


def publish(
    config: ProviderConfig,
    month: Window,
    outputs: Mapping[str, Batches],
    *,
    usage: MonthUsage | None = None,
) -> RatingResult:
    """Write the four outputs to the lake and sum up; every engine ends here. Each output is
    streamed to a staged file in the exact output schema (a lossless cast only), and the
    files replace the month's previous ones only once all four are written, followed by the
    month's manifest naming them (metering.rating.manifest)."""
    totals: dict[str, Decimal] = {}
    estimated = [0]
    observers = {
        "invoice_totals": partial(add_totals, totals),
        "invoice_lines": partial(_count_estimated, estimated),
    }
    staged: dict[str, Staged] = {}
    try:
        for name in OUTPUTS:
            staged[name] = write_staged(
                output_path(config.lake, name, month),
                OUTPUT_SCHEMAS[name],
                outputs[name],
                partial(conform, name),
                observers.get(name),
            )
    except BaseException:
        for item in staged.values():
            item.discard()
        raise
    # the manifest goes last: until it is written the close refuses the month's outputs
    entries = {
        name: entry(config.lake, item.path, item.tmp, item.rows) for name, item in staged.items()
    }
    paths: dict[str, LakePath] = {}
    try:
        publish_unit(config.lake, month, entries, lambda: paths.update(commit_all(staged)))
    finally:
        for item in staged.values():
            item.discard()
    return RatingResult(
        month=month,
        tenants=staged["invoice_totals"].rows,
        rows=staged["rated_usage"].rows,
        invoice_lines=staged["invoice_lines"].rows,
        unrated_rows=staged["unrated_usage"].rows,
        missing_days=usage.missing_days if usage else (),
        estimated_lines=estimated[0],
        reconsolidated=usage.reconsolidated if usage else (),
        totals=totals,
        paths=paths,
    )
