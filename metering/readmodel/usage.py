"""Month-level reads over the lake: rating outputs, the collectors' run log, FOCUS files.

Each call opens a short in-memory DuckDB connection with the month's rating outputs as the
contract's views (``metering.close.inputs.register_month``: local or S3 lake, a missing
optional table as an empty view) and runs a named query of ``sql/readmodel/``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from metering.close.contract import SCHEMAS, month_key, rating_path
from metering.close.inputs import register_month
from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.rating.engine import connect
from metering.readmodel.views import MonthToDate
from metering.resources import read_sql
from metering.window import Window

GROUPINGS = {  # month-to-date breakdown → its key column in sql/readmodel/usage_by.sql
    "product": "product",
    "site": "site",
    "day": "usage_date",
    "resource": "resource",
}
_MONTH_DIR = re.compile(r"^month=(\d{4}-\d{2})$")


def rows_of(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows as dicts through Arrow (DuckDB's own Python conversion of a zoned timestamp
    needs pytz; Arrow's uses zoneinfo). Decimals stay Decimal."""
    rows: list[dict[str, Any]] = con.sql(sql, params=params or None).to_arrow_table().to_pylist()
    return rows


def rated_months(config: ProviderConfig) -> list[str]:
    """``YYYY-MM`` of every month rating has written invoice lines for."""
    root: LakePath = config.lake / "rating" / "invoice_lines"
    if not root.exists():
        return []
    found = []
    for child in root.iterdir():
        match = _MONTH_DIR.match(child.name)
        if match and (child / "part.parquet").is_file():
            found.append(match.group(1))
    return sorted(found)


def rated(config: ProviderConfig, month: str) -> bool:
    return rating_path(config, "invoice_lines", Window.parse_month(month)).is_file()


_CACHED_MONTHS = 3
_S3_TTL_SECONDS = 60.0


class TenantTable:
    """An Arrow table in tenant order with each tenant's row range: a tenant's slice is a
    zero-copy view, read in microseconds (a DuckDB query costs milliseconds, even on a small
    in-memory table)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table.drop_columns(["tenant_id"])
        self.ranges: dict[str, tuple[int, int]] = {}
        ids = table.column("tenant_id").to_pylist()
        start = 0
        for i in range(1, len(ids) + 1):
            if i == len(ids) or ids[i] != ids[start]:
                self.ranges[str(ids[start])] = (start, i - start)
                start = i

    def rows(self, tenant: str) -> list[dict[str, Any]]:
        found = self.ranges.get(tenant)
        if found is None:
            return []
        rows: list[dict[str, Any]] = self.table.slice(*found).to_pylist()
        return rows


@dataclass
class RatedMonth:
    con: duckdb.DuckDBPyConnection  # the month's rating outputs as (temp) views
    tables: dict[str, TenantTable]
    # the views are the connection's own (a cursor does not see them): one query at a time
    lock: threading.Lock = field(default_factory=threading.Lock)
    # the provider queries' rows (sql/readmodel/<name>.sql), kept with this version of the month
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    closed: bool = False  # replaced by a newer version (or evicted): ask the cache again


class MonthCache:
    """The rated months the pages read, each built once per version of its rating files:
    a DuckDB connection with the month's rating outputs as views (provider queries), and
    each tenant-level table a page reads (lines, totals, usage by product, site, day and
    resource) as a :class:`TenantTable`, and the provider queries' rows once asked. A month
    is rebuilt when any of its rating files changes (size and mtime; on an S3 lake at most a
    minute later); three months are kept.

    Thread-safe, and a build (a minute at full size) blocks only those who need that very
    version: one build at a time (``_building``: memory), outside ``_lock``, which guards the
    held months only for a moment, so a month already built is read meanwhile. A rebuilt
    month replaces the previous version only once built, and the previous one is closed
    then (a caller still holding it sees ``closed`` and asks again)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._months: OrderedDict[str, tuple[tuple[Any, ...], RatedMonth]] = OrderedDict()
        self._lock = threading.Lock()  # the held months (never held during a build)
        self._building = threading.Lock()  # one build at a time

    def _version(self, month: Window) -> tuple[Any, ...] | None:
        # invoice_lines first: without it the month is not rated
        tables = ("invoice_lines", *(t for t in SCHEMAS if t != "invoice_lines"))
        paths = [rating_path(self.config, t, month) for t in tables]
        if not paths[0].is_file():
            return None
        if isinstance(paths[0], Path):
            return tuple(
                (p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None
                for p in paths
                if isinstance(p, Path)
            )
        return (int(time.monotonic() // _S3_TTL_SECONDS),)

    def built(self, month: Window) -> bool:
        """Whether ``month`` is held as its rating files are now (no build needed)."""
        with self._lock:
            cached = self._months.get(month_key(month))
        return cached is not None and cached[0] == self._version(month)

    def _held(self, key: str, version: tuple[Any, ...]) -> RatedMonth | None:
        with self._lock:
            cached = self._months.get(key)
            if cached is None or cached[0] != version:
                return None
            self._months.move_to_end(key)
            return cached[1]

    def month(self, month: Window) -> RatedMonth | None:
        """The month (None: not rated)."""
        key = month_key(month)
        version = self._version(month)
        if version is None:
            return None
        held = self._held(key, version)
        if held is not None:
            return held
        with self._building:
            held = self._held(key, version)  # built meanwhile by another thread
            if held is not None:
                return held
            fresh = self._build(month)
            with self._lock:
                old = self._months.pop(key, None)
                self._months[key] = (version, fresh)
                stale = [old[1]] if old is not None else []
                while len(self._months) > _CACHED_MONTHS:
                    stale.append(self._months.popitem(last=False)[1][1])
        for rated in stale:  # after the swap: a query still running on one finishes first
            _close(rated)
        return fresh

    def _build(self, month: Window) -> RatedMonth:
        con = connect()
        register_month(con, self.config, month)
        sql = {
            "lines": read_sql("readmodel/lines.sql"),
            "totals": read_sql("readmodel/totals.sql"),
            "revenue": read_sql("readmodel/revenue_by_tenant_product.sql"),
        }
        # each usage key's line, made once for the four groupings that share lines over keys
        lines = read_sql("marts/usage_line_keys.sql").strip().rstrip(";")
        con.execute(f"create or replace temp table usage_line_keys as {lines}")
        template = read_sql("readmodel/usage_by.sql")
        for name, expression in GROUPINGS.items():
            sql[f"by_{name}"] = template.replace("{key}", expression)
        tables = {}
        for name, query in sql.items():
            table = con.sql(query).to_arrow_table()
            if name == "by_resource":  # biggest first within each tenant
                table = table.sort_by([("tenant_id", "ascending"), ("list_amount", "descending")])
            tables[name] = TenantTable(table)
        return RatedMonth(con, tables)


def _close(rated: RatedMonth) -> None:
    with rated.lock:  # not under a provider query that still runs on it
        rated.closed = True
        rated.con.close()


def revenue(cache: MonthCache, month: Window, tenants: list[str]) -> list[dict[str, Any]]:
    """The month's invoice line amounts per product of ``tenants`` (in that order)."""
    rated = cache.month(month)
    if rated is None:
        return []
    table = rated.tables["revenue"]
    return [{"tenant_id": t} | row for t in tenants for row in table.rows(t)]


def revenue_tenants(cache: MonthCache, month: Window) -> set[str]:
    """Every tenant with invoice lines in the month."""
    rated = cache.month(month)
    return set(rated.tables["revenue"].ranges) if rated is not None else set()


def month_query(cache: MonthCache, month: Window, name: str) -> list[dict[str, Any]]:
    """The rows of ``sql/readmodel/<name>.sql`` over a month's rating outputs (none if unrated)."""
    while True:
        rated = cache.month(month)
        if rated is None:
            return []
        with rated.lock:
            if name in rated.results:
                return rated.results[name]
            if not rated.closed:  # else replaced since we got it: the newer version's rows
                rated.results[name] = rows_of(rated.con, read_sql(f"readmodel/{name}.sql"), {})
                return rated.results[name]


def month_to_date(cache: MonthCache, tenant: str, month: Window, closed: bool) -> MonthToDate:
    rated = cache.month(month)
    if rated is None:
        return MonthToDate(tenant, month_key(month), closed, None, [], None, {})
    lines = rated.tables["lines"].rows(tenant)
    totals = rated.tables["totals"].rows(tenant)
    by = {name: rated.tables[f"by_{name}"].rows(tenant) for name in GROUPINGS}
    days = [date.fromisoformat(str(r["key"])) for r in by["day"]]
    return MonthToDate(
        tenant,
        month_key(month),
        closed,
        max(days) if days else None,
        lines,
        ({"tenant_id": tenant} | totals[0]) if totals else None,
        by,
    )


def compare(cache: MonthCache, tenant: str, months: list[Window]) -> dict[str, Any]:
    """``{"months": [...], "rows": [{"product", "<YYYY-MM>": amount, ...}], "totals": {...}}``."""
    table: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    for month in months:
        key = month_key(month)
        mtd = month_to_date(cache, tenant, month, closed=False)
        for line in mtd.lines:
            row = table.setdefault(line["product"], {"product": line["product"]})
            row[key] = row.get(key, 0) + line["list_amount"]
        if mtd.totals:
            totals[key] = mtd.totals["total_amount"]
    return {
        "months": [month_key(m) for m in months],
        "rows": [table[k] for k in sorted(table)],
        "totals": totals,
    }


def focus_rows(out_dir: Path, month: str, number: str) -> list[dict[str, Any]]:
    """The rows of ``focus/focus-<month>.parquet`` whose ``InvoiceId`` is ``number``."""
    path = out_dir / "focus" / f"focus-{month}.parquet"
    if not path.is_file():
        return []
    con = connect()
    try:
        sql = 'select * from read_parquet($path) where "InvoiceId" = $number'
        return rows_of(con, sql, {"path": str(path), "number": number})
    finally:
        con.close()
