"""Month-level reads over the lake: rating outputs, the collectors' run log, FOCUS files.

Each call opens a short in-memory DuckDB connection with the month's rating outputs as the
contract's views (``metering.close.inputs.register_month``: local or S3 lake, a missing
optional table as an empty view) and runs a named query of ``sql/readmodel/``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from metering.close.contract import month_key, rating_path
from metering.close.inputs import register_month
from metering.config import ProviderConfig
from metering.lake.schemas import DATASETS
from metering.lake.storage import LakePath, arrow_dataset
from metering.rating.engine import connect
from metering.readmodel.views import MonthToDate
from metering.resources import read_sql
from metering.window import Window

GROUPINGS = {  # month-to-date breakdown → (key column, order)
    "product": ("product", "key"),
    "site": ("site", "key"),
    "day": ("usage_date", "key"),
    "resource": ("resource", "list_amount desc, key"),
}
_MONTH_DIR = re.compile(r"^month=(\d{4}-\d{2})$")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
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


def _open(config: ProviderConfig, month: Window) -> duckdb.DuckDBPyConnection | None:
    if not rating_path(config, "invoice_lines", month).is_file():
        return None
    con = connect()
    register_month(con, config, month)
    return con


def month_query(config: ProviderConfig, month: Window, name: str) -> list[dict[str, Any]]:
    """The rows of ``sql/readmodel/<name>.sql`` over a month's rating outputs (none if unrated)."""
    con = _open(config, month)
    if con is None:
        return []
    try:
        return _rows(con, read_sql(f"readmodel/{name}.sql"), {})
    finally:
        con.close()


def month_to_date(config: ProviderConfig, tenant: str, month: Window, closed: bool) -> MonthToDate:
    con = _open(config, month)
    if con is None:
        return MonthToDate(tenant, month_key(month), closed, None, [], None, {})
    try:
        params = {"tenant": tenant}
        lines = _rows(con, read_sql("readmodel/tenant_lines.sql"), params)
        totals = _rows(con, read_sql("readmodel/tenant_totals.sql"), params)
        template = read_sql("readmodel/tenant_usage_by.sql")
        by = {
            name: _rows(con, template.replace("{key}", key).replace("{order}", order), params)
            for name, (key, order) in GROUPINGS.items()
        }
        through = con.execute(
            "select max(usage_date) from rated_usage where tenant_id = $tenant", params
        ).fetchone()
    finally:
        con.close()
    last: date | None = through[0] if through else None
    return MonthToDate(
        tenant, month_key(month), closed, last, lines, totals[0] if totals else None, by
    )


def compare(config: ProviderConfig, tenant: str, months: list[Window]) -> dict[str, Any]:
    """``{"months": [...], "rows": [{"product", "<YYYY-MM>": amount, ...}], "totals": {...}}``."""
    table: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    for month in months:
        key = month_key(month)
        con = _open(config, month)
        if con is None:
            continue
        try:
            lines = _rows(con, read_sql("readmodel/tenant_lines.sql"), {"tenant": tenant})
            total = _rows(con, read_sql("readmodel/tenant_totals.sql"), {"tenant": tenant})
        finally:
            con.close()
        for line in lines:
            row = table.setdefault(line["product"], {"product": line["product"]})
            row[key] = row.get(key, 0) + line["list_amount"]
        if total:
            totals[key] = total[0]["total_amount"]
    return {
        "months": [month_key(m) for m in months],
        "rows": [table[k] for k in sorted(table)],
        "totals": totals,
    }


def runs_query(config: ProviderConfig, month: Window, name: str) -> list[dict[str, Any]]:
    """A named query over the collectors' run log (dataset ``runs``) of one month."""
    files: list[LakePath] = list(
        config.lake.glob(f"runs/site=*/date={month.start:%Y-%m}-*/*.parquet")
    )
    if not files:
        return []
    con = connect()
    try:
        con.register("runs", arrow_dataset(files, DATASETS["runs"].schema))
        params = {"start": month.start, "end": month.end}
        return _rows(con, read_sql(f"readmodel/{name}.sql"), params)
    finally:
        con.close()


def focus_rows(out_dir: Path, month: str, number: str) -> list[dict[str, Any]]:
    """The rows of ``focus/focus-<month>.parquet`` whose ``InvoiceId`` is ``number``."""
    path = out_dir / "focus" / f"focus-{month}.parquet"
    if not path.is_file():
        return []
    con = connect()
    try:
        sql = 'select * from read_parquet($path) where "InvoiceId" = $number'
        return _rows(con, sql, {"path": str(path), "number": number})
    finally:
        con.close()
