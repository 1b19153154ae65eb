"""``metering sql``: query the finance warehouse (stable views; docs/data-dictionary.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import load_config
from metering.errors import ConfigError, MeteringError

console = Console()
FILE_OPTION = typer.Option(None, "--file", "-f", help="Read the SQL from a file.")
OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", help="Write the result to .csv or .parquet instead of printing."
)
MAX_SHOWN = 200


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
    """Run read-only SQL on the warehouse (views over the lake and the rating outputs)."""
    import duckdb

    from metering.rating.warehouse import build_warehouse, register_lake_views

    text = _query_text(query, file)
    provider = load_config(config)
    if refresh or not provider.warehouse_path.exists():
        build_warehouse(provider)
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--output: must end in .csv or .parquet, got {output.name!r}")
    con = duckdb.connect(str(provider.warehouse_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        register_lake_views(con, provider)  # an S3 lake's views (the file has none)
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


def _write(relation: object, output: Path) -> None:
    import duckdb

    assert isinstance(relation, duckdb.DuckDBPyRelation)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        relation.write_csv(str(output), header=True)
    else:
        relation.write_parquet(str(output))


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
