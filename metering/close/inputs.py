"""Open one month's rating outputs as DuckDB views named as in the contract.

The SQL under ``sql/marts/`` that the close and the reports run refers only to these view
names (``rated_usage``, ``invoice_lines``, ``invoice_totals``, ``unrated_usage``), never to
files, so it stays portable. A missing optional table becomes an empty view with the
contract's columns, so "no usage detail" is a normal, empty result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from metering.close.contract import REQUIRED, SCHEMAS, month_key, rating_path
from metering.config import ProviderConfig
from metering.errors import CloseError, LakeError
from metering.lake.storage import (
    LakePath,
    ObjectPath,
    duckdb_scan,
    hive_values,
    parquet_columns,
    quote,
)
from metering.rating.engine import connect
from metering.resources import read_sql
from metering.window import Window


def _register(con: duckdb.DuckDBPyConnection, table: str, path: LakePath, month: Window) -> None:
    schema = SCHEMAS[table]
    if not path.is_file():
        if table in REQUIRED:
            raise CloseError(
                f"no rating output {table} for {month_key(month)} (expected {path}); "
                f"run `metering rate --month {month_key(month)}` first"
            )
        con.register(f"_{table}_empty", schema.empty_table())
        con.execute(f"create or replace temp view {table} as select * from _{table}_empty")
        return
    wanted = [name for name in schema.names]
    try:
        if isinstance(path, ObjectPath):  # an S3 lake: DuckDB reads it through Arrow
            present = {(name,) for name in parquet_columns(path)}
        else:
            present = set(con.execute("select name from parquet_schema(?)", [str(path)]).fetchall())
    except (duckdb.Error, OSError, pa.ArrowInvalid) as exc:
        raise LakeError(f"cannot read rating output {path}: {exc}") from None
    missing = [name for name in wanted if (name,) not in present]
    if missing:
        raise LakeError(f"rating output {path} lacks contract column(s) {missing}")
    # read_parquet() below takes `month` from the path (DuckDB's hive auto-detection, as text);
    # the S3 read does the same, so a lake moved to S3 keeps its rows and content hash
    hive = hive_values(path) if isinstance(path, ObjectPath) else {}
    cols = ", ".join(
        f'{quote(hive[name])} as "{name}"' if name in hive else f'"{name}"'
        for name in wanted
        if (name,) in present
    )
    literal = str(path).replace("'", "''")
    source = duckdb_scan(con, table, [path]) if isinstance(path, ObjectPath) else None
    con.execute(
        f"create or replace temp view {table} as select {cols} from "
        + (source or f"read_parquet('{literal}')")
    )


# DuckDB's own memory in the close (the body parts' temp tables, hashing's aggregates): past
# it DuckDB spills. The close's Python side works a batch of tenants at a time.
MEMORY_LIMIT = "1GB"


def register_month(con: duckdb.DuckDBPyConnection, config: ProviderConfig, month: Window) -> None:
    """The month's rating outputs as views on ``con``."""
    for table in SCHEMAS:
        _register(con, table, rating_path(config, table, month), month)


def check_published(con: duckdb.DuckDBPyConnection, config: ProviderConfig, month: Window) -> None:
    """Refuse outputs that are not one rating's: the month's manifest must name exactly the
    files in place (metering.rating.manifest), and every total must be the sum of its lines
    (the rating's own audit, run again on what the close is about to invoice)."""
    from metering.rating.engine import audit
    from metering.rating.manifest import verify

    verify(config.lake, month)
    register_month(con, config, month)
    bad = audit(con, "audits/audit_totals_equal_lines.sql")
    if bad:
        key = month_key(month)
        tenants = ", ".join(str(row["tenant_id"]) for row in bad[:3])
        raise CloseError(
            f"the rating outputs of {key} do not add up: {len(bad)} tenant(s) whose total is "
            f"not the sum of their lines ({tenants}{', ...' if len(bad) > 3 else ''}); "
            f"nothing was issued; run `metering rate --month {key}`"
        )


def open_month(config: ProviderConfig, month: Window) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the month's rating outputs as views (one
    tenant's showback page; the close registers them on a capped connection instead)."""
    con = connect()
    register_month(con, config, month)
    return con


def query(
    con: duckdb.DuckDBPyConnection, sql_name: str, params: list[object] | None = None
) -> pa.Table:
    """Run a named SQL file (``marts/...``) and return its rows as an Arrow table."""
    return con.sql(read_sql(sql_name)).to_arrow_table()


def tenant_ranges(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], limit: int, *, by_rows: bool = False
) -> Iterator[tuple[str, str]]:
    """``(first, last)`` tenant ids of consecutive groups of tenants, in order, covering every
    non-null ``tenant_id`` of ``tables``: groups of ``limit`` tenants, or ``by_rows``, of at
    most ``limit`` rows of ``tables`` together (a tenant is never split): for work done a
    group at a time."""
    union = " union all ".join(f"select tenant_id from {t}" for t in tables)
    weight = "count(*)" if by_rows else "1"
    counts = con.execute(
        f"select tenant_id, {weight} from ({union}) where tenant_id is not null "
        "group by tenant_id order by tenant_id"
    ).fetchall()
    first: str | None = None
    last, held = "", 0
    for tenant, rows in counts:
        if first is not None and held + int(rows) > limit:
            yield first, last
            first = None
        if first is None:
            first, held = str(tenant), 0
        last, held = str(tenant), held + int(rows)
    if first is not None:
        yield first, last


_TENANT_HASHES = (
    "select tenant_id, sha256(string_agg(cast(t as varchar), chr(10) "
    "order by cast(t as varchar))) from {table} t where {where} group by tenant_id "
    "order by tenant_id"
)

# rating output rows hashed per query (~320 bytes of text each, sorted per tenant): about
# 200 MB of DuckDB memory whatever the number of tenants (one tenant is never split)
HASH_ROWS = 200_000


def content_hash(con: duckdb.DuckDBPyConnection, max_rows: int = HASH_ROWS) -> str:
    """A hash of the month's rated content: every rating output row, in a canonical order.

    Computed over the values (not the Parquet bytes), so re-rating the same usage at the
    same prices gives the same hash whatever the writer's file layout. Set-based: DuckDB
    hashes each tenant's rows, a group of tenants of about ``max_rows`` rows per query (an
    ordered aggregate holds its rows as text: the whole month at once is gigabytes);
    Python only combines one digest per tenant and table, as one query ordered by tenant
    would give them.
    """
    ranges = list(tenant_ranges(con, list(SCHEMAS), max_rows, by_rows=True))
    digest = hashlib.sha256()
    for table in SCHEMAS:
        rows: list[tuple[object, ...]] = []
        for low, high in ranges:
            where = "tenant_id between ? and ?"
            sql = _TENANT_HASHES.format(table=table, where=where)
            rows += con.execute(sql, [low, high]).fetchall()
        # the null tenant's group comes last, as in one query ordered by tenant_id
        rows += con.execute(
            _TENANT_HASHES.format(table=table, where="tenant_id is null")
        ).fetchall()
        digest.update(table.encode() + repr(rows).encode())
    return digest.hexdigest()


def files_hash(paths: list[Path]) -> str:
    """A hash of the pricing inputs: every file's relative name and bytes, sorted."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(str(child.relative_to(path)).encode() + b"\0" + child.read_bytes())
        elif path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
