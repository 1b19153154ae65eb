"""The DuckDB warehouse: one file with stable, documented views over the lake.

Finance opens it with a stock DuckDB CLI (``duckdb warehouse.duckdb``) or ``metering sql``.
It holds no data of its own except small reference tables (rates, rate cards, tenants):
views read the lake's Parquet files by absolute path, so they always show the lake's
current state. Every view and column is described in docs/data-dictionary.md.

The file is rebuilt whole into a temp file and moved into place (``os.replace``), so a
reader never sees half a warehouse and rebuilding is idempotent.

On an S3 lake the file holds the reference tables only: a view over ``s3://`` needs DuckDB's
``httpfs`` extension, which cannot be assumed (offline hosts). ``metering sql`` then
registers the lake's views on its connection from Arrow datasets
(:func:`register_lake_views`); docs/lake-on-s3.md shows a stock DuckDB CLI the way.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from metering.config import ProviderConfig
from metering.errors import MeteringError, RatingError
from metering.lake.schemas import DATASETS
from metering.lake.storage import LakePath, ObjectPath, arrow_dataset
from metering.rating.engine import connect, quote, register_table
from metering.rating.run import OUTPUTS, load_inputs
from metering.rating.tables import catalog_tables, pricing_tables
from metering.resources import read_sql

REFERENCE_TABLES = (
    "rates",
    "rate_cards",
    "fixed_fees",
    "products",
    "tenants",
    "tenant_orgs",
    "tenant_rate_overrides",
)


def view_patterns() -> dict[str, str]:
    """View name → glob of its Parquet files, relative to the lake root."""
    patterns = {name: f"{name}/site=*/date=*/*.parquet" for name in DATASETS}
    patterns["usage_intervals"] = "usage_intervals/date=*/*.parquet"
    patterns.update({name: f"rating/{name}/month=*/*.parquet" for name in OUTPUTS})
    patterns["coverage"] = "coverage/site=*/date=*/*.parquet"
    patterns["documents"] = "close/documents/month=*/*.parquet"
    return patterns


def lake_views(lake: LakePath) -> dict[str, str]:
    """View name → glob of the Parquet files behind it (only those that have files)."""
    globs: dict[str, str] = {}
    for name, pattern in view_patterns().items():
        if any(lake.glob(pattern)):
            globs[name] = str(lake / pattern)
    return globs


def register_lake_views(con: duckdb.DuckDBPyConnection, config: ProviderConfig) -> list[str]:
    """On an S3 lake, the warehouse's lake views as views of ``con`` over Arrow datasets
    (lazy: DuckDB pushes projections and filters down); nothing to do on a local lake,
    whose views are in the warehouse file. Returns the names registered."""
    if not isinstance(config.lake, ObjectPath):
        return []
    names = []
    for name, pattern in view_patterns().items():
        files: list[LakePath] = list(config.lake.glob(pattern))
        if files:
            schema = DATASETS[name].schema if name in DATASETS else None
            con.register(name, arrow_dataset(files, schema))
            names.append(name)
    return names


# Views over other views, each a named file of sql/marts/, created when what it reads exists.
DERIVED_VIEWS = {"unmapped_orgs": ("marts/unmapped_orgs.sql", ("invoice_totals", "rated_usage"))}


def _derived_views(con: duckdb.DuckDBPyConnection) -> None:
    present = {str(r[0]) for r in con.execute("select view_name from duckdb_views()").fetchall()}
    for name, (sql_name, needs) in DERIVED_VIEWS.items():
        if all(n in present for n in needs):
            con.execute(f"create view {name} as {read_sql(sql_name).strip().rstrip(';')}")


def build_warehouse(config: ProviderConfig) -> Path:
    """(Re)build the warehouse file at ``config.warehouse_path``; returns its path."""
    target = config.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name: a run started after a kill removes it (lake.maintenance)
    prefix = f".{target.stem}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".duckdb", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file itself
    try:
        con = connect(tmp)
        try:
            local = config.lake if isinstance(config.lake, Path) else None
            for name, pattern in sorted(lake_views(local).items() if local else []):
                con.execute(
                    f"create view {name} as select * from read_parquet({quote(pattern)}, "
                    "hive_partitioning = false, union_by_name = true)"
                )
            _derived_views(con)
            try:
                _, pricing, tenants = load_inputs(config)
            except MeteringError as exc:
                raise RatingError(f"warehouse: cannot load pricing or catalog: {exc}") from None
            for name, table in {**pricing_tables(pricing), **catalog_tables(tenants)}.items():
                register_table(con, name, table)
                con.execute(f"create or replace table main.{name} as select * from temp.{name}")
                con.execute(f"drop table temp.{name}")
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        Path(tmp + ".wal").unlink(missing_ok=True)
        raise
    return target
