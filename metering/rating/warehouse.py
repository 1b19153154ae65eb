"""The DuckDB warehouse: one file with stable, documented views over the lake.

Finance opens it with a stock DuckDB CLI (``duckdb warehouse.duckdb``) or ``metering sql``.
It holds no data of its own except small reference tables (rates, rate cards, tenants):
views read the lake's Parquet files by absolute path, so they always show the lake's
current state. Every view and column is described in docs/data-dictionary.md.

The file is rebuilt whole into a temp file and moved into place (``os.replace``), so a
reader never sees half a warehouse and rebuilding is idempotent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from metering.config import ProviderConfig
from metering.errors import MeteringError, RatingError
from metering.lake.schemas import DATASETS
from metering.rating.engine import connect, quote, register_table
from metering.rating.run import OUTPUTS, load_inputs
from metering.rating.tables import catalog_tables, pricing_tables

REFERENCE_TABLES = (
    "rates",
    "rate_cards",
    "fixed_fees",
    "products",
    "tenants",
    "tenant_orgs",
    "tenant_rate_overrides",
)


def lake_views(lake: Path) -> dict[str, str]:
    """View name → glob of the Parquet files behind it (only those that have files)."""
    globs: dict[str, str] = {}
    for name in DATASETS:
        if any((lake / name).glob("site=*/date=*/*.parquet")):
            globs[name] = str(lake / name / "site=*" / "date=*" / "*.parquet")
    if any((lake / "usage_intervals").glob("date=*/*.parquet")):
        globs["usage_intervals"] = str(lake / "usage_intervals" / "date=*" / "*.parquet")
    for name in OUTPUTS:
        if any((lake / "rating" / name).glob("month=*/*.parquet")):
            globs[name] = str(lake / "rating" / name / "month=*" / "*.parquet")
    return globs


def build_warehouse(config: ProviderConfig) -> Path:
    """(Re)build the warehouse file at ``config.warehouse_path``; returns its path."""
    target = config.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".duckdb", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file itself
    try:
        con = connect(tmp)
        try:
            for name, pattern in sorted(lake_views(config.lake_dir).items()):
                con.execute(
                    f"create view {name} as select * from read_parquet({quote(pattern)}, "
                    "hive_partitioning = false, union_by_name = true)"
                )
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
