"""``metering sql``: query the finance warehouse (stable views; docs/data-dictionary.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import ProviderConfig, load_config
from metering.errors import ConfigError, MeteringError
from metering.lake.storage import quote, temp_file_beside
from metering.reports.csvfile import csv_bytes

if TYPE_CHECKING:
    import duckdb

console = Console()
FILE_OPTION = typer.Option(None, "--file", "-f", help="Read the SQL from a file.")
OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", help="Write the result to .csv or .parquet instead of printing."
)
MAX_SHOWN = 200
ROWS_PER_BATCH = 65_536


def _query_text(query: str | None, file: Path | None) -> str:
    if (query is None) == (file is None):
        raise ConfigError("give a query or --file, not both")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--file: cannot read {file}: {exc.strerror}") from None
    assert query is not None
    return query


@app.command("sql")
def sql_command(
    query: str | None = typer.Argument(None, help="SQL to run on the warehouse views."),
    file: Path | None = FILE_OPTION,
    output: Path | None = OUTPUT_OPTION,
    config: Path = CONFIG_OPTION,
    refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="Rebuild views first."),
) -> None:
    """Run a read-only query on the warehouse (views over the lake and the rating outputs):
    no statement other than a query runs, and nothing outside the lake is read or written;
    --output writes the result."""
    import duckdb

    from metering.rating.warehouse import build_warehouse, register_lake_views

    text = _query_text(query, file)
    provider = load_config(config)
    if refresh or not provider.warehouse_path.exists():
        provider.require_writable()
        build_warehouse(provider)
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--output: must end in .csv or .parquet, got {output.name!r}")
    con = duckdb.connect(str(provider.warehouse_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        register_lake_views(con, provider)  # an S3 lake's views (the file has none)
        read_only(con, provider)
        check_queries(con, text)
        relation = con.sql(text)
        if relation is None:
            raise MeteringError("the statement returned no rows to show")
        if output is not None:
            _write(relation, output)
            console.print(f"wrote {output}", highlight=False)
        else:
            _show(relation)
    except duckdb.Error as exc:
        raise MeteringError(f"sql: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


# the statements `metering sql` runs: queries only (SHOW, DESCRIBE, SUMMARIZE and FROM are
# SELECTs to DuckDB); COPY, EXPORT, ATTACH, INSTALL, SET, CREATE, ... are refused
QUERY_TYPES = ("SELECT", "EXPLAIN")


def read_only(con: duckdb.DuckDBPyConnection, provider: ProviderConfig) -> None:
    """Lock ``con`` down to reading the warehouse and the lake: DuckDB's external access off
    except for the local lake's directory (its views read it), then the settings locked so
    the query cannot turn it back on. The warehouse is opened read-only."""
    allowed = [str(provider.lake)] if isinstance(provider.lake, Path) else []
    listing = ", ".join(quote(path.rstrip("/") + "/") for path in allowed)
    con.execute(f"set allowed_directories = [{listing}]")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def check_queries(con: duckdb.DuckDBPyConnection, text: str) -> None:
    """Refuse any statement that is not a query, naming it, before anything runs."""
    import duckdb

    try:
        statements = con.extract_statements(text)
    except duckdb.Error as exc:
        raise MeteringError(f"sql: {str(exc).splitlines()[0]}") from None
    for statement in statements:
        kind = statement.type.name
        if kind not in QUERY_TYPES:
            raise ConfigError(
                f"sql: only queries run here (SELECT, EXPLAIN, SHOW, DESCRIBE), not {kind}; "
                "write a result to a file with --output"
            )


def _write(relation: object, output: Path) -> None:
    """The result to ``output`` (the explicit output flag): Parquet, or CSV through the
    shared writer (quoted where needed, text a spreadsheet would evaluate defused)."""
    import duckdb

    assert isinstance(relation, duckdb.DuckDBPyRelation)
    output.parent.mkdir(parents=True, exist_ok=True)
    # DuckDB 2 names it to_arrow_reader (the 1.x name is deprecated there)
    opener = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader: pa.RecordBatchReader = opener(ROWS_PER_BATCH)
    fd, tmp = temp_file_beside(output, prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            if output.suffix.lower() == ".csv":
                _write_csv(reader, handle)
            else:
                _write_parquet(reader, handle)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(reader: pa.RecordBatchReader, handle: BinaryIO) -> None:
    numeric = [
        f.name
        for f in reader.schema
        if pa.types.is_integer(f.type)
        or pa.types.is_decimal(f.type)
        or pa.types.is_floating(f.type)
    ]
    handle.write(csv_bytes(reader.schema.names, [], numeric=numeric))
    for batch in reader:
        rows = zip(*(column.to_pylist() for column in batch.columns), strict=True)
        handle.write(csv_bytes(reader.schema.names, rows, numeric=numeric, header_line=False))


def _write_parquet(reader: pa.RecordBatchReader, handle: BinaryIO) -> None:
    import pyarrow.parquet as pq

    with pq.ParquetWriter(handle, reader.schema, compression="zstd") as out:
        for batch in reader:
            out.write_batch(batch)


def _show(relation: object) -> None:
    import duckdb

    assert isinstance(relation, duckdb.DuckDBPyRelation)
    table = Table(*relation.columns)
    rows = relation.limit(MAX_SHOWN + 1).fetchall()
    for row in rows[:MAX_SHOWN]:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if len(rows) > MAX_SHOWN:
        console.print(f"(first {MAX_SHOWN} rows; use --output for all)")
