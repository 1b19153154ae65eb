"""Build each tenant's invoice body (the frozen content a PDF renders) from the rating outputs.

A body is plain JSON (decimals as strings) so the register can keep it verbatim: an issued
invoice is re-rendered from its body, never from the lake, and so never changes. Its
``content_hash`` covers what is billed (lines, totals, usage), not presentation details.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from metering.close.billto import BillTo, bill_to_for
from metering.close.inputs import query
from metering.close.settings import InvoicingSettings
from metering.window import Window

Body = dict[str, Any]

_LINE_KEYS = (
    "line_no",
    "service",
    "product",
    "dimension",
    "site",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "rate_card_id",
    "price_from",
    "price_to",
    "tier_detail",
    "list_amount",
    "estimated",
)
_TOTAL_KEYS = (
    "lines_amount",
    "discount_amount",
    "minimum_adjustment",
    "subtotal_amount",
    "tax_rate",
    "tax_amount",
    "total_amount",
)
_USAGE_KEYS = (
    "site",
    "resource_id",
    "resource_name",
    "product",
    "dimension",
    "unit",
    "quantity",
    "list_amount",
    "first_date",
    "last_date",
)


def jsonable(value: object) -> object:
    """A JSON-safe, canonical form: Decimal and dates as strings, the rest as is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _pick(row: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    return {key: jsonable(row.get(key)) for key in keys}


def _grouped(con: duckdb.DuckDBPyConnection, sql_name: str) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in query(con, sql_name).to_pylist():
        result[row["tenant_id"]].append(row)
    return result


def content_hash(body: Body) -> str:
    """Hash of what a document bills: its lines, totals and usage, canonically serialised."""
    billed = {key: body[key] for key in ("currency", "lines", "totals", "usage")}
    return hashlib.sha256(json.dumps(billed, sort_keys=True).encode()).hexdigest()


def _issuer(settings: InvoicingSettings) -> dict[str, object]:
    b = settings.branding
    return {
        "legal_name": b.legal_name,
        "address": list(b.address),
        "vat_id": b.vat_id,
        "email": b.email,
        "website": b.website,
        "bank": b.bank,
        "accent_color": b.accent_color,
    }


def build_bodies(
    con: duckdb.DuckDBPyConnection,
    month: Window,
    settings: InvoicingSettings,
    catalog: Mapping[str, BillTo],
) -> dict[str, Body]:
    """One invoice body per tenant of ``invoice_totals``, keyed by tenant id."""
    totals = con.sql("select * from invoice_totals order by tenant_id").to_arrow_table()
    lines = _grouped(con, "marts/invoice_lines_ordered.sql")
    usage = _grouped(con, "marts/invoice_usage_appendix.sql")
    daily = _grouped(con, "marts/invoice_daily_cost.sql")
    period_last = (month.end - timedelta(days=1)).date()
    bodies: dict[str, Body] = {}
    for row in totals.to_pylist():
        tenant = row["tenant_id"]
        bill_to = bill_to_for(tenant, row["tenant_name"], catalog, settings.default_locale)
        body: Body = {
            "kind": "invoice",
            "month": f"{month.start:%Y-%m}",
            "period_start": month.start.date().isoformat(),
            "period_end": period_last.isoformat(),
            "tenant_id": tenant,
            "tenant_name": row["tenant_name"],
            "currency": row["currency"],
            "bill_to": bill_to.as_dict(),
            "issuer": _issuer(settings),
            "payment_terms_days": settings.payment_terms_days,
            "lines": [_pick(line, _LINE_KEYS) for line in lines.get(tenant, [])],
            "totals": _pick(row, _TOTAL_KEYS),
            "usage": [_pick(u, _USAGE_KEYS) for u in usage.get(tenant, [])],
            "daily": [
                {
                    "date": jsonable(d["usage_date"]),
                    "service": d["service"],
                    "list_amount": jsonable(d["list_amount"]),
                }
                for d in daily.get(tenant, [])
            ],
        }
        bodies[tenant] = body
    return bodies


def _negate(value: object) -> object:
    if isinstance(value, str):
        try:
            return str(-Decimal(value))
        except ArithmeticError:
            return value
    return value


def credit_note_body(original: Body, original_number: str, reason: str) -> Body:
    """A credit note reversing ``original`` in full: every amount negated, nothing else."""
    money_line = ("quantity", "list_amount")
    note = dict(original)
    note["kind"] = "credit_note"
    note["credits_number"] = original_number
    note["reason"] = reason
    note["lines"] = [
        {k: (_negate(v) if k in money_line else v) for k, v in line.items()}
        for line in original["lines"]
    ]
    note["totals"] = {
        k: (v if k == "tax_rate" else _negate(v)) for k, v in original["totals"].items()
    }
    note["usage"] = []
    note["daily"] = []
    return note
