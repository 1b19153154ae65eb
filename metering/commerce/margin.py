"""Margin per tenant, product and month: the invoice against the cost cards.

The figures are ``sql/marts/margin.sql`` (also the warehouse view ``margin``) on the month's
published rating outputs and the cost cards (:mod:`metering.commerce.costs`); the report is
a CSV with every row and a PDF summary (reports/margin.html.j2) with a chart, under
``<out_dir>/margin/``. ``margin_percent`` = margin ÷ revenue × 100, rounded half-up to 0.01
(empty when the revenue is 0); every amount is exact (Decimal / DECIMAL).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from metering.close.inputs import query
from metering.commerce.costs import cost_dir, cost_tables, load_costs
from metering.config import ProviderConfig
from metering.errors import ConfigError
from metering.lake.storage import write_bytes
from metering.rating.engine import register_table
from metering.rating.products import PRODUCTS
from metering.reports.csvfile import csv_bytes
from metering.resources import read_sql
from metering.window import Window

DISCOUNT = "(discount and minimum)"
MARGIN_COLUMNS = (
    "month",
    "tenant_id",
    "tenant_name",
    "currency",
    "product",
    "revenue_amount",
    "licence_cost_amount",
    "infrastructure_cost_amount",
    "cost_amount",
    "margin_amount",
    "margin_percent",
    "costed",
    "cost_card_ids",
)
_NUMBERS = MARGIN_COLUMNS[5:11]
_SUMMED = ("revenue_amount", "licence_cost_amount", "infrastructure_cost_amount", "cost_amount")
SUMMARY_TENANTS = 20  # the PDF lists the tenants with the smallest margins


@dataclass(frozen=True)
class MarginReport:
    month: str
    rows: list[dict[str, Any]]
    csv_path: Path
    pdf_path: Path


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part ÷ whole × 100`` half-up to 0.01; None when ``whole`` is 0."""
    if whole == 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"), ROUND_HALF_UP)


def register_costs(con: duckdb.DuckDBPyConnection, config: ProviderConfig) -> bool:
    """``cost_cards``, ``cost_rates`` and ``products`` on ``con``; False without cost cards."""
    directory = cost_dir(config)
    if directory is None:
        return False
    for name, table in cost_tables(load_costs(directory)).items():
        register_table(con, name, table)
    products = pa.table(
        {
            "product": [p.name for p in PRODUCTS.values()],
            "billing_basis": [p.billing_basis for p in PRODUCTS.values()],
        }
    )
    register_table(con, "products", products)
    return True


MARGIN_NEEDS = ("rated_usage", "invoice_lines", "invoice_totals")


def add_cost_tables(con: duckdb.DuckDBPyConnection, config: ProviderConfig) -> None:
    """In the warehouse being built on ``con``: the tables ``cost_cards`` and ``cost_rates``
    and the view ``margin`` (sql/marts/margin.sql), when the provider has cost cards and the
    lake has rating outputs; a cost card that does not load is one error naming it."""
    from metering.errors import MeteringError, RatingError

    directory = cost_dir(config)
    if directory is None:
        return
    try:
        tables = cost_tables(load_costs(directory))
    except MeteringError as exc:
        raise RatingError(f"warehouse: cannot load the cost cards: {exc}") from None
    for name, table in tables.items():
        register_table(con, name, table)
        con.execute(f"create or replace table main.{name} as select * from temp.{name}")
        con.execute(f"drop table temp.{name}")
    views = {str(r[0]) for r in con.execute("select view_name from duckdb_views()").fetchall()}
    if all(name in views for name in MARGIN_NEEDS):
        sql = read_sql("marts/margin.sql").strip().rstrip(";")
        con.execute(f"create view margin as {sql}")


def margin_rows(config: ProviderConfig, month: Window) -> list[dict[str, Any]]:
    """The month's margin rows (the SQL's columns plus ``margin_percent``)."""
    from metering.close.inputs import open_month
    from metering.rating.manifest import verify

    verify(config.lake, month)
    con = open_month(config, month)
    try:
        if not register_costs(con, config):
            raise ConfigError(
                f"{config.source_file.name}: no cost cards: add pricing/costs/*.toml or set "
                "[costs] dir (docs/metering-rules.md, cost cards)"
            )
        rows: list[dict[str, Any]] = query(con, "marts/margin.sql").to_pylist()
    finally:
        con.close()
    for row in rows:
        row["month"] = f"{row['month']:%Y-%m}"
        row["margin_percent"] = percent(row["margin_amount"], row["revenue_amount"])
    return rows


def summarise(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Rows summed per ``key`` (``currency`` or ``product``) and currency."""
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        group = (row[key], row["currency"])
        total = sums.setdefault(
            group, {key: row[key], "currency": row["currency"], "margin_amount": Decimal(0)}
        )
        for name in _SUMMED:
            total[name] = total.get(name, Decimal(0)) + row[name]
        total["margin_amount"] += row["margin_amount"]
    result = [sums[k] for k in sorted(sums)]
    for total in result:
        total["margin_percent"] = percent(total["margin_amount"], total["revenue_amount"])
    return result


def tenant_margins(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per tenant (all products), the smallest margins first."""
    tenants: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        t = tenants[row["tenant_id"]]
        t.setdefault("tenant_id", row["tenant_id"])
        t.setdefault("tenant_name", row["tenant_name"])
        t.setdefault("currency", row["currency"])
        for name in (*_SUMMED, "margin_amount"):
            t[name] = t.get(name, Decimal(0)) + row[name]
    result = sorted(tenants.values(), key=lambda t: (t["margin_amount"], t["tenant_id"]))
    for t in result:
        t["margin_percent"] = percent(t["margin_amount"], t["revenue_amount"])
    return result


def write_margin_report(config: ProviderConfig, month: Window) -> MarginReport:
    """The month's margin CSV and PDF under ``<out_dir>/margin/`` (atomic writes)."""
    from metering.commerce.margin_pdf import margin_pdf

    rows = margin_rows(config, month)
    key = f"{month.start:%Y-%m}"
    target = config.out_dir / "margin"
    csv_path, pdf_path = target / f"margin-{key}.csv", target / f"margin-{key}.pdf"
    cells = ([row[c] for c in MARGIN_COLUMNS] for row in rows)
    write_bytes(csv_path, csv_bytes(MARGIN_COLUMNS, cells, numeric=_NUMBERS))
    write_bytes(pdf_path, margin_pdf(config, key, rows))
    return MarginReport(key, rows, csv_path, pdf_path)
