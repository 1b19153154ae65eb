"""Consolidation: one UTC day of samples → usage intervals in the lake.

``consolidate_day`` reads the samples that can hold into the day (those of the day, and of
the day before within the gap: a sample taken before midnight holds into the day), runs
``sql/staging`` → ``sql/intermediate`` → ``sql/marts/usage_intervals.sql`` and writes
``<lake>/usage_intervals/date=YYYY-MM-DD/part.parquet`` atomically. Re-running a day
replaces the file (idempotent); a day with no usage still gets an (empty) file, which marks
the day as consolidated for rating.

Merging unchanged contiguous samples into intervals is a hash aggregate: a resource's
identical raw samples become one group with bitmasks over the day's numbered runs
(``int_resource_runs``), their levels are computed per group (``int_sample_levels``) and
each product's stretches come from the bits (``int_run_intervals``), with no sort of the
samples; resources it cannot take (duplicate samples, more than 64 runs a day) go through the
sorted passes (``int_resource_intervals``, ``int_level_intervals``), which keep one sample
per resource and run (the one collected last; docs/metering-rules.md). Only the run instants,
the groups (a few rows per resource) and Cloudian's group → org map are stored; the samples
stream from Parquet, and every other model is a view, so DuckDB runs the rest as one query.
DuckDB's memory is bounded (``engine.bounded_connection``); past it, tables, sorts and windows
spill to a temporary directory instead of growing.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa

from metering.config import ProviderConfig
from metering.lake.schemas import DATASETS
from metering.lake.storage import LakePath
from metering.lake.store import key_time, write_file
from metering.rating.catalog import load_catalog
from metering.rating.day_digest import DAY_MODELS, check_day, with_digest
from metering.rating.engine import (
    bounded_connection,
    day_files,
    quote,
    register_files,
    register_table,
    run_models,
)
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.provenance import recorded_settings, rules_version, stamp
from metering.rating.settings import RatingSettings, rating_settings
from metering.resources import read_sql
from metering.window import Window

INTERVALS = "usage_intervals"

# Samples (and the runs log): a date partition holds the samples taken that UTC day.
SAMPLE_INPUTS = (
    "vcd_vm",
    "vcd_org_vdc",
    "vcd_disk",
    "vcd_vm_snapshot",
    "vcd_media",
    "vcd_edge_gateway",
    "vcd_vapp_template",
    "cse_cluster",
    "alp_app",
    "dse_instance",
    "runs",
)
# Cloudian's hourly series (an hour may be filed under its end) and its groups.
SERIES_INPUTS = ("cloudian_usage", "cloudian_group")
LAKE_INPUTS = SAMPLE_INPUTS + SERIES_INPUTS

MODELS = (
    "staging/stg_vcd__vm.sql",
    "staging/stg_vcd__org_vdc.sql",
    "staging/stg_vcd__disk.sql",
    "staging/stg_vcd__vm_snapshot.sql",
    "staging/stg_vcd__media.sql",
    "staging/stg_vcd__edge_gateway.sql",
    "staging/stg_vcd__vapp_template.sql",
    "staging/stg_cse__cluster.sql",
    "staging/stg_alp__app.sql",
    "staging/stg_dse__instance.sql",
    "staging/stg_cloudian__usage.sql",
    "staging/stg_cloudian__group.sql",
    "intermediate/int_samples.sql",
    "intermediate/int_run_holds.sql",
    "intermediate/int_resource_runs.sql",
    "intermediate/int_unmerged_holds.sql",
    "intermediate/int_usage_holds.sql",
    "intermediate/int_sample_levels.sql",
    "intermediate/int_run_intervals.sql",
    "intermediate/int_resource_intervals.sql",
    "intermediate/int_level_intervals.sql",
    "intermediate/int_filled_intervals.sql",
    "intermediate/int_cloudian_groups.sql",
    "intermediate/int_cloudian_intervals.sql",
    "marts/usage_intervals.sql",
)

# Stored as temp tables, the rest are views: the run instants (a few rows) are read by the groups,
# the holds and the intervals, the groups of identical samples (a few per resource) by both
# merges; with the unmerged samples (usually none) stored too, no later view binds the samples'
# Parquet scans again (creating a view binds it: ~0.15 s a time over a day's files). The samples
# are not stored: reading their Parquet columns again for the run instants costs less than
# writing millions of rows with their strings into a table. Cloudian's groups (a few thousand)
# are stored so that DuckDB knows their count and builds the org join on them, not on the usage.
STORED = (
    "intermediate/int_run_holds.sql",
    "intermediate/int_resource_runs.sql",
    "intermediate/int_unmerged_holds.sql",
    "intermediate/int_cloudian_groups.sql",
)


# The samples of resources the bitmask merge cannot take (usually none; docs above).
UNMERGED = "intermediate/int_unmerged_holds.sql"


def _any_unmerged(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any resource goes through the sorted passes: ``int_unmerged_holds`` keeps only
    the samples of resources ``int_resource_runs`` marks ``not by_masks``, so with none of
    those it is empty, and is created empty without reading the samples (~12 % of a small
    day's CPU)."""
    row = con.execute("select count(*) from int_resource_runs where not by_masks").fetchone()
    return row is not None and int(row[0]) > 0


@functools.cache
def rules() -> str:
    """The version of the consolidation rules: a hash of the SQL it runs (the day's check and
    digest included)."""
    return rules_version(MODELS + DAY_MODELS)


def consolidation_settings(config: ProviderConfig) -> RatingSettings:
    """The ``[rating]`` settings with the tenants' home sites from the catalog: everything
    consolidation reads besides the samples."""
    settings = rating_settings(config)
    tenants = load_catalog(config.tenant_catalog, settings.default_plan)
    homes = sorted({(org, t.home_site) for t in tenants if t.home_site for org in t.orgs})
    return replace(settings, home_sites=tuple(homes))


def current_recorded(config: ProviderConfig) -> dict[str, str]:
    """What a day consolidated now would record (``metering.rating.provenance``)."""
    return recorded_settings(consolidation_settings(config), rules())


def has_samples(lake: LakePath, day: date) -> bool:
    """Whether the lake still holds anything consolidation reads for ``day``."""
    return any(day_files(lake, name, [day]) for name in LAKE_INPUTS)


def intervals_path(lake: LakePath, day: date) -> LakePath:
    return lake / INTERVALS / f"date={day.isoformat()}" / "part.parquet"


def set_consolidation_params(
    con: duckdb.DuckDBPyConnection, day: date, settings: RatingSettings
) -> None:
    """The one-row view ``consolidation_params`` the SQL reads its parameters from."""
    window = Window.day(day)
    gap_seconds = int(settings.gap.total_seconds())
    interval_seconds = int(settings.sampling_interval.total_seconds())
    con.execute(
        "create or replace temp view consolidation_params as select "
        f"cast({quote(window.start.isoformat())} as timestamptz) as day_start, "
        f"cast({quote(window.end.isoformat())} as timestamptz) as day_end, "
        f"to_seconds(cast({gap_seconds} as bigint)) as gap, "
        f"to_seconds(cast({interval_seconds} as bigint)) as sampling_interval, "
        f"cast({quote(str(settings.cores_per_vcpu))} as decimal(18, 9)) as cores_per_vcpu, "
        f"{'true' if settings.dse_include_sidecars else 'false'} as include_sidecars"
    )
    homes = [{"org_name": org, "home_site": site} for org, site in settings.home_sites]
    register_table(
        con,
        "home_sites",
        pa.Table.from_pylist(
            homes, schema=pa.schema([("org_name", pa.string()), ("home_site", pa.string())])
        ),
    )
    ranks = [{"site": s, "site_rank": i} for i, s in enumerate(settings.series_site_order)]
    register_table(
        con,
        "series_sites",
        pa.Table.from_pylist(
            ranks, schema=pa.schema([("site", pa.string()), ("site_rank", pa.int32())])
        ),
    )


def disable_partial_aggregate_pushdown(con: duckdb.DuckDBPyConnection) -> None:
    """Turn off DuckDB's partial aggregate pushdown where this DuckDB has it.

    It would pre-aggregate the samples by every attribute and sample time below their join
    with the run instants (millions of groups of one row each, ~40 % more CPU at full size)
    before ``int_resource_runs`` groups them by resource. Older DuckDB releases do not have
    it (and reject its name).
    """
    name = "partial_aggregate_pushdown"
    known = con.execute("select count(*) from duckdb_optimizers() where name = ?", [name])
    row = known.fetchone()
    if row is not None and row[0]:
        con.execute(f"set disabled_optimizers = {quote(name)}")


def keyed_from(files: list[LakePath], start: datetime, end: datetime) -> list[LakePath]:
    """The files keyed by an instant in ``[start, end]`` (to the minute, as keys are);
    a file whose name is not keyed by an instant is kept."""
    lo, hi = start.replace(second=0, microsecond=0), end
    return [f for f in files if (t := key_time(f)) is None or lo <= t <= hi]


def input_files(lake: LakePath, day: date, settings: RatingSettings) -> dict[str, list[LakePath]]:
    """The lake files consolidation reads for ``day``, by dataset.

    A sample file is keyed by its rows' sample time (docs/architecture.md, "The lake"), so of
    the days before only the files keyed within the gap before midnight can hold a sample
    that reaches the day (``int_samples`` reads nothing earlier): the hour or two before
    midnight, not the whole day before (at small size ~45 % of the files a day read, each
    costing its footer checks and scans). Cloudian's usage series is keyed by the hour it
    starts, and only hours starting in the day are read: the day's files and, should an hour
    be filed under its end, the neighbours' files an hour either side. Cloudian's group
    lists of the day and both neighbours are all read (the group → org map takes them all).
    """
    window = Window.day(day)
    first = (window.start - settings.gap).date()
    sample_days = [first + timedelta(days=d) for d in range((day - first).days + 1)]
    around = [day - timedelta(days=1), day, day + timedelta(days=1)]
    hour = timedelta(hours=1)
    reach = window.start - settings.gap
    files = {
        name: keyed_from(day_files(lake, name, sample_days), reach, window.end)
        for name in SAMPLE_INPUTS
    }
    files["cloudian_usage"] = keyed_from(
        day_files(lake, "cloudian_usage", around), window.start - hour, window.end + hour
    )
    files["cloudian_group"] = day_files(lake, "cloudian_group", around)
    return files


def consolidated_intervals(
    con: duckdb.DuckDBPyConnection, lake: LakePath, day: date, settings: RatingSettings
) -> pa.Table:
    """Run the consolidation SQL for ``day`` on ``con`` and return the intervals.

    Samples are read from the files that can hold one taken within the gap before the day, up
    to the day itself: a later sample could only end a hold at midnight, where the day cuts it
    anyway. Cloudian's series are read around the day (:func:`input_files`).
    """
    for name, files in input_files(lake, day, settings).items():
        register_files(con, name, files, DATASETS[name].schema, lake)
    set_consolidation_params(con, day, settings)
    disable_partial_aggregate_pushdown(con)
    for model in MODELS:
        if model == UNMERGED and not _any_unmerged(con):
            # the samples are not scanned again for a table that must be empty
            sql = read_sql(model).strip().rstrip(";")
            empty = f"select * from (\n{sql}\n) limit 0"
            con.execute(f"create or replace temp table int_unmerged_holds as {empty}")
            continue
        run_models(con, [model], materialize=model in STORED)
    return con.sql("select * from usage_intervals").to_arrow_table().cast(INTERVALS_SCHEMA)


def consolidate_day(config: ProviderConfig, day: date) -> int:
    """Consolidate one UTC day of samples into usage intervals; returns the rows written.
    The intervals are checked first (none overlaps another of its resource, all inside the
    day: :mod:`metering.rating.day_digest`); the file records the settings and rules it was
    built with (its provenance) and the day's digest."""
    settings = consolidation_settings(config)
    with bounded_connection() as con:
        table = consolidated_intervals(con, config.lake, day, settings)
        digest = check_day(con, day, table)
    table = with_digest(stamp(table, recorded_settings(settings, rules())), digest)
    write_file(intervals_path(config.lake, day), table)
    return int(table.num_rows)
