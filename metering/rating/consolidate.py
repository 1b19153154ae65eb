"""Consolidation: one UTC day of samples → usage intervals in the lake.

``consolidate_day`` reads the samples of the day and of its neighbours (a sample taken
before midnight holds into the day; the next run after midnight ends the last one), runs
``sql/staging`` → ``sql/intermediate`` → ``sql/marts/usage_intervals.sql`` and writes
``<lake>/usage_intervals/date=YYYY-MM-DD/part.parquet`` atomically. Re-running a day
replaces the file (idempotent); a day with no usage still gets an (empty) file, which marks
the day as consolidated for rating.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pyarrow as pa

from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.lake.store import write_file
from metering.rating.engine import connect, quote, register_lake, run_models
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.settings import RatingSettings, rating_settings
from metering.window import Window

INTERVALS = "usage_intervals"

LAKE_INPUTS = (
    "vcd_vm",
    "cse_cluster",
    "alp_app",
    "dse_instance",
    "cloudian_usage",
    "cloudian_group",
    "runs",
)

MODELS = (
    "staging/stg_vcd__vm.sql",
    "staging/stg_cse__cluster.sql",
    "staging/stg_alp__app.sql",
    "staging/stg_dse__instance.sql",
    "staging/stg_cloudian__usage.sql",
    "staging/stg_cloudian__group.sql",
    "intermediate/int_sample_levels.sql",
    "intermediate/int_usage_holds.sql",
    "intermediate/int_level_intervals.sql",
    "intermediate/int_cloudian_intervals.sql",
)


def intervals_path(lake: LakePath, day: date) -> LakePath:
    return lake / INTERVALS / f"date={day.isoformat()}" / "part.parquet"


def set_consolidation_params(
    con: duckdb.DuckDBPyConnection, day: date, settings: RatingSettings
) -> None:
    """The one-row view ``consolidation_params`` the SQL reads its parameters from."""
    window = Window.day(day)
    gap_seconds = int(settings.gap.total_seconds())
    con.execute(
        "create or replace temp view consolidation_params as select "
        f"cast({quote(window.start.isoformat())} as timestamptz) as day_start, "
        f"cast({quote(window.end.isoformat())} as timestamptz) as day_end, "
        f"to_seconds(cast({gap_seconds} as bigint)) as gap, "
        f"cast({quote(str(settings.cores_per_vcpu))} as decimal(18, 9)) as cores_per_vcpu, "
        f"{'true' if settings.dse_include_sidecars else 'false'} as include_sidecars"
    )


def consolidated_intervals(
    con: duckdb.DuckDBPyConnection, lake: LakePath, day: date, settings: RatingSettings
) -> pa.Table:
    """Run the consolidation SQL for ``day`` on ``con`` and return the intervals."""
    days = [day - timedelta(days=1), day, day + timedelta(days=1)]
    register_lake(con, lake, LAKE_INPUTS, days)
    set_consolidation_params(con, day, settings)
    run_models(con, [m for m in MODELS if m.startswith("staging/")])
    run_models(con, [m for m in MODELS if m.startswith("intermediate/")], materialize=True)
    run_models(con, ["marts/usage_intervals.sql"], materialize=True)
    return con.sql("select * from usage_intervals").to_arrow_table().cast(INTERVALS_SCHEMA)


def consolidate_day(config: ProviderConfig, day: date) -> int:
    """Consolidate one UTC day of samples into usage intervals; returns the rows written."""
    settings = rating_settings(config)
    con = connect()
    try:
        table = consolidated_intervals(con, config.lake, day, settings)
    finally:
        con.close()
    write_file(intervals_path(config.lake, day), table)
    return int(table.num_rows)
