"""Runs the named SQL files of ``sql/`` on DuckDB, against views the engine registers.

Rating SQL never reads files itself (it must stay portable to Spark): the engine registers
each lake dataset as a view of the same name over the Parquet files of the days needed,
registers the pricing tables, then creates one view per SQL file, named after the file
(``intermediate/int_rate_parts.sql`` → ``int_rate_parts``). Intermediate models and marts
are materialised as temp tables: several later models and the audits read each of them, and
planning the whole view chain again for each reader costs more than the rows. The models
with a row per usage interval are the exception (``metering.rating.run.STREAMED``): past
DuckDB's memory cap a temp table goes to disk, and its readers then cost more than reading
the compressed intervals again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from metering.lake.schemas import DATASETS
from metering.lake.storage import LakePath, duckdb_scan
from metering.lake.validate import check_files
from metering.resources import read_sql


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC with a bounded thread count (the machine is shared)."""
    con = duckdb.connect(database)
    con.execute("set TimeZone = 'UTC'")
    con.execute("set threads = 2")
    # Our commands show progress with rich; DuckDB's own bar would write over it (and into logs).
    con.execute("set enable_progress_bar = false")
    cache_parquet_metadata(con)
    return con


def cache_parquet_metadata(con: duckdb.DuckDBPyConnection) -> None:
    """Keep Parquet footers in memory for the connection's life, where this DuckDB can.

    Every view over the lake's files is bound again by each model created on top of it, and
    ``union_by_name`` reads every file's footer at each bind: a consolidated day's ~1,300
    hourly files were read some 20 times (issue 21: ~12 % of a small day's CPU). The cache
    is DuckDB's own, per connection (ours live for one day or one month), and checks a
    file's modification time before using an entry. Older DuckDB releases lack the setting.
    """
    name = "parquet_metadata_cache"
    row = con.execute("select count(*) from duckdb_settings() where name = ?", [name]).fetchone()
    if row is not None and row[0]:
        con.execute(f"set {name} = true")


# DuckDB's own memory (buffers, sorts, windows, temp tables) per connection that works on usage;
# the Arrow results and Python come on top. Past it, DuckDB spills to a temporary directory
# instead of growing (a full-size day's consolidation needs about 2 GB).
MEMORY_LIMIT = "2GB"


@contextmanager
def bounded_connection(limit: str = MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A :func:`connect` connection capped at ``limit`` (:data:`MEMORY_LIMIT` unless a
    stage sets its own), spilling to a temp dir."""
    with tempfile.TemporaryDirectory(prefix="metering-duckdb-") as spill:
        con = connect()
        try:
            con.execute(f"set memory_limit = {quote(limit)}")
            con.execute(f"set temp_directory = {quote(spill)}")
            yield con
        finally:
            con.close()


def quote(path: Path | str) -> str:
    """A SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def day_files(lake: LakePath, dataset: str, days: Iterable[date]) -> list[LakePath]:
    """The Parquet files of ``dataset`` in the date partitions of ``days`` (any site)."""
    root = lake / dataset
    files: list[LakePath] = []
    for day in days:
        files += sorted(root.glob(f"site=*/date={day.isoformat()}/*.parquet"))
        files += sorted(root.glob(f"date={day.isoformat()}/*.parquet"))
    return files


def register_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into a temp table ``name`` (types kept exactly)."""
    handle = f"__arrow_{name}"
    con.register(handle, table)
    try:
        con.execute(f"create or replace temp table {name} as select * from {handle}")
    finally:
        con.unregister(handle)


def register_files(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: list[LakePath],
    schema: pa.Schema,
    lake: LakePath | None = None,
) -> None:
    """View ``name`` over ``files``, each checked against ``schema`` first (one line naming
    a file that does not match and how to repair it); with no files, an empty table.

    Files written before a nullable column was added lack it: the view has every column of
    ``schema`` all the same (null where no file has it), unioned by name with an empty table
    of the schema, so the SQL can read a new column on any lake. Only then are the files
    read by name: when every file has exactly the schema's columns (the check just read each
    footer), DuckDB binds the view on one file's footer instead of all of them, again for
    every model created over it (issue 21: ~20 % of a small night's CPU).
    """
    same = check_files(files, schema, lake, name)
    if not files:
        register_table(con, name, schema.empty_table())
        return
    shape = f"__schema_{name}"
    register_table(con, shape, schema.empty_table())
    con.execute(
        f"create or replace temp view {name} as select * from "
        + duckdb_scan(con, name, files, schema, by_name=not same)
        + f" union all by name select * from {shape}"
    )


def register_lake(
    con: duckdb.DuckDBPyConnection, lake: LakePath, datasets: Iterable[str], days: Iterable[date]
) -> None:
    """Register each lake dataset as a view over the files of ``days``."""
    wanted = list(days)
    for name in datasets:
        register_files(con, name, day_files(lake, name, wanted), DATASETS[name].schema, lake)


def run_models(
    con: duckdb.DuckDBPyConnection, names: Iterable[str], *, materialize: bool = False
) -> None:
    """Create one view (or table) per named SQL file, in the order given."""
    for name in names:
        stem = Path(name).stem
        sql = read_sql(name).strip().rstrip(";")
        kind = "table" if materialize else "view"
        con.execute(f"create or replace temp {kind} {stem} as {sql}")


def audit(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, object]]:
    """Run an audit query; it returns the bad rows (none when the invariant holds)."""
    rows: list[dict[str, object]] = con.sql(read_sql(name)).to_arrow_table().to_pylist()
    return rows
