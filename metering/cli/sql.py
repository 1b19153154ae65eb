"""``metering sql``: query the finance warehouse (stable views; docs/data-dictionary.md).

Like the DuckDB CLI: output modes (``-m table|csv|json|markdown|parquet``) to standard
output or a file (``-o``), every statement's result shown in turn. It never writes the
warehouse file (``--refresh`` rebuilds it, as ``metering rate`` and the nightly and close
pipelines do) and its queries cannot write files nor read outside the lake.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import typer
from rich.console import Console

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.cli.sql_output import (
    MAX_SHOWN,
    SUFFIX_MODES,
    Mode,
    write_csv,
    write_json,
    write_markdown,
    write_parquet,
    write_table,
)
from metering.config import ProviderConfig, load_config
from metering.errors import ConfigError, MeteringError, UsageError
from metering.lake.storage import quote, temp_file_beside

if TYPE_CHECKING:
    import duckdb

err = Console(stderr=True, highlight=False, soft_wrap=True)
FILE_OPTION = typer.Option(None, "--file", "-f", help="Read the SQL from a file.")
MODE_OPTION = typer.Option(
    None,
    "--mode",
    "-m",
    case_sensitive=False,
    help="Output mode; default table, or what the --output file's suffix says "
    "(.csv, .json, .md, .parquet).",
)
OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", help="Write the result to this file ('-': standard output)."
)
REFRESH_OPTION = typer.Option(
    False,
    "--refresh/--no-refresh",
    help="Rebuild the warehouse file first (views of datasets new in the lake, pricing and "
    "catalog tables); alone, only that.",
)
ROWS_PER_BATCH = 65_536


def _query_text(query: str | None, file: Path | None) -> str:
    if query is not None and file is not None:
        raise UsageError("give a query or --file, not both")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--file: cannot read {file}: {exc.strerror}") from None
    if query is None:
        raise UsageError("give a query, --file or --refresh")
    return query


def _mode(mode: Mode | None, output: str | None) -> Mode:
    if mode is not None:
        return mode
    if output is None or output == "-":
        return Mode.table
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_MODES:
        known = ", ".join(SUFFIX_MODES)
        raise UsageError(f"--output: give -m, or a file ending in {known}; got {output!r}")
    return SUFFIX_MODES[suffix]


@app.command("sql")
def sql_command(
    query: str | None = typer.Argument(None, help="SQL to run on the warehouse views."),
    file: Path | None = FILE_OPTION,
    mode: Mode | None = MODE_OPTION,
    output: str | None = OUTPUT_OPTION,
    config: Path = CONFIG_OPTION,
    refresh: bool = REFRESH_OPTION,
) -> None:
    """Run read-only queries on the warehouse (views over the lake and the rating outputs)
    and show each statement's result. Only queries run (SELECT, EXPLAIN, SHOW, DESCRIBE,
    SUMMARIZE, FROM); nothing outside the lake is read and only --output is written.

    Examples:

      metering sql -c provider.toml "select * from invoice_totals where status = 'closed'"

      metering sql -c provider.toml -m csv "from documents" | head

      metering sql -c provider.toml -o totals.parquet "from invoice_totals"

      metering sql -c provider.toml --refresh
    """
    from metering.rating.warehouse import build_warehouse

    text = None if refresh and query is None and file is None else _query_text(query, file)
    chosen = _mode(mode, output)
    provider = load_config(config)
    if refresh or not provider.warehouse_path.exists():
        provider.require_writable()
        build_warehouse(provider)
        if text is None:
            err.print(f"refreshed {provider.warehouse_path}")
            return
    assert text is not None
    _run(provider, text, chosen, output)


def _run(provider: ProviderConfig, text: str, mode: Mode, output: str | None) -> None:
    import duckdb

    from metering.rating.warehouse import register_lake_views

    con = duckdb.connect(str(provider.warehouse_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        register_lake_views(con, provider)  # an S3 lake's views (the file has none)
        read_only(con, provider)
        queries = check_queries(con, text)
        if mode is Mode.parquet and len(queries) != 1:
            raise ConfigError(f"-m parquet: one statement per file, got {len(queries)}")
        if output is None or output == "-":
            _to_stdout(con, queries, mode)
        else:
            _to_file(con, queries, mode, Path(output))
            err.print(f"wrote {output}")
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


def check_queries(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The statements of ``text``; any that is not a query is refused, naming it, before
    anything runs."""
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
    if not statements:
        raise ConfigError("sql: no statement to run")
    return [str(statement.query) for statement in statements]


def _write_all(
    con: duckdb.DuckDBPyConnection,
    queries: list[str],
    mode: Mode,
    out: BinaryIO,
    *,
    terminal: bool,
) -> None:
    """Every statement's result to ``out`` in ``mode``, one after another (a blank line
    between two in the text modes); a note on standard error when rows were left out."""
    for index, query in enumerate(queries):
        relation = con.sql(query)  # a query (check_queries): a relation, run lazily
        # DuckDB 2 names it to_arrow_reader (the 1.x name is deprecated there)
        opener = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
        reader: pa.RecordBatchReader = opener(ROWS_PER_BATCH)
        if index and mode in (Mode.table, Mode.markdown, Mode.csv):
            out.write(b"\n")
        more = False
        if mode is Mode.table:
            more = write_table(reader, out, terminal=terminal)
        elif mode is Mode.markdown:
            more = write_markdown(reader, out)
        elif mode is Mode.csv:
            write_csv(reader, out)
        elif mode is Mode.json:
            write_json(reader, out)
        else:
            write_parquet(reader, out)
        out.flush()
        if more:
            err.print(f"(statement {index + 1}: the first {MAX_SHOWN} rows; -m csv for all)")


def _to_stdout(con: duckdb.DuckDBPyConnection, queries: list[str], mode: Mode) -> None:
    terminal = sys.stdout.isatty()
    if mode is Mode.parquet and terminal:
        raise ConfigError("-m parquet: binary output; give -o FILE or pipe it")
    sys.stdout.flush()
    try:
        _write_all(con, queries, mode, sys.stdout.buffer, terminal=terminal)
    except BrokenPipeError:
        # the reader stopped (| head): not an error; nothing more goes to the closed pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None


def _to_file(con: duckdb.DuckDBPyConnection, queries: list[str], mode: Mode, path: Path) -> None:
    """Written whole to a temp file beside ``path``, then moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file_beside(path, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_all(con, queries, mode, handle, terminal=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
