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
import re
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from metering.close.register import DOCUMENTS_SCHEMA
from metering.commerce.margin import add_cost_tables
from metering.config import ProviderConfig
from metering.errors import MeteringError, RatingError
from metering.lake.schemas import DATASETS
from metering.lake.storage import LakePath, ObjectPath, arrow_dataset
from metering.rating.dictionary import comment_columns
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


# Each set of lake files is a view of its dataset's name, except those a named file of
# sql/warehouse/ shapes: their files are a raw view in schema ``lake`` (``lake.invoice_totals``
# is the rating output exactly as written) and the public view is the file's query over it.
# Views over other public views, each a named file of sql/marts/, follow once what they read
# exists. (A pass-through view over a raw one would bind every file's schema twice.)
RAW = "lake"
SHAPED = {"invoice_totals": "warehouse/invoice_totals.sql", "documents": "warehouse/documents.sql"}
DERIVED_VIEWS = {"unmapped_orgs": ("marts/unmapped_orgs.sql", ("invoice_totals", "rated_usage"))}
# raw views with a schema of their own: there before their first file (empty), and an older
# file's missing columns read as null
KNOWN_SCHEMAS = {"documents": DOCUMENTS_SCHEMA}


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


def _shaped(name: str, raw_prefix: str) -> str:
    """The query of shaped view ``name`` over the raw views (named ``<raw_prefix><name>``)."""
    text = read_sql(SHAPED[name]).strip().rstrip(";")
    return re.sub(rf"\b{RAW}\.(\w+)", lambda m: raw_prefix + m.group(1), text)


def _shaped_and_derived(
    con: duckdb.DuckDBPyConnection, raw: list[str], raw_prefix: str, kind: str
) -> None:
    """The shaped and derived views (``kind``: ``view`` in the file, ``temp view`` on a
    connection) once their raw views ``raw`` exist."""
    for name in sorted(set(raw) & set(SHAPED)):
        con.execute(f"create {kind} {name} as {_shaped(name, raw_prefix)}")
    present = {str(r[0]) for r in con.execute("select view_name from duckdb_views()").fetchall()}
    for name, (sql_name, needs) in DERIVED_VIEWS.items():
        if all(n in present for n in needs):
            con.execute(f"create {kind} {name} as {read_sql(sql_name).strip().rstrip(';')}")


def register_lake_views(con: duckdb.DuckDBPyConnection, config: ProviderConfig) -> list[str]:
    """On an S3 lake, the warehouse's lake views as views of ``con`` over Arrow datasets
    (lazy: DuckDB pushes projections and filters down; the raw ones of shaped views named
    ``lake_<name>``); nothing to do on a local lake, whose views are in the warehouse file.
    Returns the names of the lake's datasets registered."""
    if not isinstance(config.lake, ObjectPath):
        return []
    names = []
    for name, pattern in view_patterns().items():
        files: list[LakePath] = list(config.lake.glob(pattern))
        schema = DATASETS[name].schema if name in DATASETS else KNOWN_SCHEMAS.get(name)
        handle = f"{RAW}_{name}" if name in SHAPED else name
        if files:
            con.register(handle, arrow_dataset(files, schema))
        elif name in KNOWN_SCHEMAS:
            con.register(handle, KNOWN_SCHEMAS[name].empty_table())
        else:
            continue
        names.append(name)
    _shaped_and_derived(con, names, f"{RAW}_", "temp view")
    return names


def _lake_views(con: duckdb.DuckDBPyConnection, lake: Path | None) -> list[str]:
    """The views over the local lake's files (raw ones in schema ``lake``); returns the
    names of the datasets that have them."""
    con.execute(f"create schema {RAW}")
    globs = lake_views(lake) if lake is not None else {}
    for name, pattern in sorted(globs.items()):
        source = f"read_parquet({quote(pattern)}, hive_partitioning = false, union_by_name = true)"
        view = f"{RAW}.{name}" if name in SHAPED else name
        con.execute(f"create view {view} as select * from {source}")
        schema = KNOWN_SCHEMAS.get(name)
        if schema is not None:
            have = {str(r[0]) for r in con.execute(f"describe {view}").fetchall()}
            missing = [f for f in schema if f.name not in have]
            if missing:  # written by an older version: the newer columns are null
                extra = ", ".join(f"null::{duck_type(f.type)} as {f.name}" for f in missing)
                con.execute(f"create or replace view {view} as select *, {extra} from {source}")
    names = list(globs)
    for name, schema in KNOWN_SCHEMAS.items():
        if lake is not None and name not in globs:
            register_table(con, name, schema.empty_table())
            con.execute(f"create table {RAW}.{name} as select * from temp.{name}")
            con.execute(f"drop table temp.{name}")
            names.append(name)
    return names


def duck_type(kind: pa.DataType) -> str:
    """DuckDB's name of an Arrow type (the few the known schemas use)."""
    if pa.types.is_decimal(kind):
        assert isinstance(kind, pa.Decimal128Type)
        return f"DECIMAL({kind.precision}, {kind.scale})"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    return "VARCHAR"


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
            _shaped_and_derived(con, _lake_views(con, local), f"{RAW}.", "view")
            try:
                _, pricing, tenants = load_inputs(config)
            except MeteringError as exc:
                raise RatingError(f"warehouse: cannot load pricing or catalog: {exc}") from None
            for name, table in {**pricing_tables(pricing), **catalog_tables(tenants)}.items():
                register_table(con, name, table)
                con.execute(f"create or replace table main.{name} as select * from temp.{name}")
                con.execute(f"drop table temp.{name}")
            add_cost_tables(con, config)  # cost cards and the margin view, when there are cards
            con.execute("begin transaction")  # one commit: a commit per comment is slow
            comment_columns(con)
            con.execute("commit")
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        Path(tmp + ".wal").unlink(missing_ok=True)
        raise
    return target
