"""Build each tenant's invoice body (the frozen content a PDF renders) from the rating outputs.

A body is plain JSON (decimals as strings) so the register can keep it verbatim: an issued
invoice is re-rendered from its body, never from the lake, and so never changes. Its
``content_hash`` covers what is billed (lines, totals, usage), not presentation details.

Bodies are built a batch of tenants at a time (``[invoicing] batch_tenants``), in tenant
order: a month's usage appendix is ~1 M rows at 5,000 tenants, far too much to hold as
Python objects at once. DuckDB runs each mart query once into a temp table (it spills past
its memory cap); each batch then reads its tenants' rows, in the query's order.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from metering.close.billto import BillTo, bill_to_for
from metering.close.inputs import tenant_ranges
from metering.close.settings import InvoicingSettings
from metering.resources import read_sql
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
    "rate_card_id",
)
# Only on a line or usage row that has some: a body without estimates is as it was before the
# fill policy counted them (its content hash too).
_FILLED = "filled_hours"


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


def _with_filled(row: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    """``_pick`` plus the row's filled hours (the fill policy's estimate) when it has any."""
    picked = _pick(row, keys)
    filled = row.get(_FILLED)
    if isinstance(filled, Decimal) and filled > 0:
        picked[_FILLED] = jsonable(filled)
    return picked


# the line each usage key is billed on (the line rule), read by the appendix and the chart
LINE_KEYS = "marts/usage_line_keys.sql"
# the body parts, each a mart query run once into a temp table of the close's connection
_PARTS = {
    "lines": "marts/invoice_lines_ordered.sql",
    "usage": "marts/invoice_usage_appendix.sql",
    "daily": "marts/invoice_daily_cost.sql",
}


def _materialize(con: duckdb.DuckDBPyConnection) -> None:
    """Each part's rows in a temp table, in its query's order (DuckDB keeps insertion order,
    so a filtered scan returns a tenant's rows exactly as the whole query ordered them). The
    appendix and the chart share each line's amount over the usage keys it bills, which
    ``usage_line_keys`` maps once for both."""
    lines = read_sql(LINE_KEYS).strip().rstrip(";")
    con.execute(f"create or replace temp table usage_line_keys as {lines}")
    for name, sql_name in _PARTS.items():
        sql = read_sql(sql_name).strip().rstrip(";")
        con.execute(f"create or replace temp table _close_{name} as {sql}")


def _batch_rows(
    con: duckdb.DuckDBPyConnection, table: str, low: str, high: str
) -> dict[str, list[dict[str, Any]]]:
    """One batch's rows of a part, grouped by tenant, in the part's order."""
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = con.sql(f"select * from {table} where tenant_id between ? and ?", params=[low, high])
    for row in rows.to_arrow_table().to_pylist():
        result[row["tenant_id"]].append(row)
    return result


def content_hash(body: Body) -> str:
    """Hash of what a document bills: its lines, totals and usage, canonically serialised."""
    billed = {key: body[key] for key in ("currency", "lines", "totals", "usage")}
    return hashlib.sha256(json.dumps(billed, sort_keys=True).encode()).hexdigest()


def _merged_usage(usage: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The usage rows as bodies had them before rows named their rate card: one row per
    site, resource, product, dimension and unit (consecutive in the appendix's order), the
    month summed. None when a row has filled hours (no earlier body can have had them)."""
    merged: list[dict[str, Any]] = []
    for row in usage:
        if _FILLED in row:
            return None
        old = {k: v for k, v in row.items() if k != "rate_card_id"}
        key = tuple(old.get(k) for k in ("site", "resource_id", "product", "dimension", "unit"))
        last = merged[-1] if merged else None
        if last is not None and key == tuple(
            last.get(k) for k in ("site", "resource_id", "product", "dimension", "unit")
        ):
            for name in ("quantity", "list_amount"):
                last[name] = str(Decimal(last[name]) + Decimal(old[name]))
            names = [n for n in (last["resource_name"], old["resource_name"]) if n is not None]
            last["resource_name"] = max(names) if names else None
            last["first_date"] = min(last["first_date"], old["first_date"])
            last["last_date"] = max(last["last_date"], old["last_date"])
        else:
            merged.append(old)
    return merged


def legacy_content_hash(body: Body) -> str | None:
    """The hash an earlier version gave the same content (before usage rows named their
    rate card), so re-closing a month it closed does not re-issue unchanged invoices."""
    usage = _merged_usage(body["usage"])
    if usage is None or any(_FILLED in line for line in body["lines"]):
        return None
    return content_hash({**body, "usage": usage})


def _quantities(body: Body) -> dict[str, Any]:
    """What a body bills with its usage rows' amounts left out: those are shares of the lines
    (docs/metering-rules.md, "Lineage"), so the lines, totals and usage quantities decide."""
    usage = [{k: v for k, v in row.items() if k != "list_amount"} for row in body["usage"]]
    return {**{key: body[key] for key in ("currency", "lines", "totals")}, "usage": usage}


def same_billing(issued: Body, body: Body) -> bool:
    """Does ``body`` bill exactly what the issued body did, its usage amounts aside? An
    invoice issued before rated usage carried no money (its usage amounts summed per part)
    is not re-issued for those amounts alone."""
    if _quantities(issued) == _quantities(body):
        return True
    merged = _merged_usage(body["usage"])  # issued before usage rows named their rate card
    return merged is not None and _quantities(issued) == _quantities({**body, "usage": merged})


def _issuer(settings: InvoicingSettings) -> dict[str, object]:
    b = settings.branding
    issuer: dict[str, object] = {
        "legal_name": b.legal_name,
        "address": list(b.address),
        "vat_id": b.vat_id,
        "email": b.email,
        "website": b.website,
        "bank": b.bank,
        "accent_color": b.accent_color,
    }
    seller = b.einvoice
    if seller.address or seller.endpoint_id or seller.iban:  # what e-invoices need of it
        issuer["einvoice"] = seller.as_dict()
    return issuer


def _body(
    row: Mapping[str, Any],
    parts: Mapping[str, Mapping[str, list[dict[str, Any]]]],
    month: Window,
    settings: InvoicingSettings,
    catalog: Mapping[str, BillTo],
) -> Body:
    """One tenant's body from its ``invoice_totals`` row and its rows of each part."""
    tenant = row["tenant_id"]
    bill_to = bill_to_for(tenant, row["tenant_name"], catalog, settings.default_locale)
    return {
        "kind": "invoice",
        "month": f"{month.start:%Y-%m}",
        "period_start": month.start.date().isoformat(),
        "period_end": (month.end - timedelta(days=1)).date().isoformat(),
        "tenant_id": tenant,
        "tenant_name": row["tenant_name"],
        "currency": row["currency"],
        "bill_to": bill_to.as_dict(),
        "issuer": _issuer(settings),
        "payment_terms_days": settings.payment_terms_days,
        "lines": [_with_filled(line, _LINE_KEYS) for line in parts["lines"].get(tenant, [])],
        "totals": _pick(row, _TOTAL_KEYS),
        "usage": [_with_filled(u, _USAGE_KEYS) for u in parts["usage"].get(tenant, [])],
        "daily": [
            {
                "date": jsonable(d["usage_date"]),
                "service": d["service"],
                "list_amount": jsonable(d["list_amount"]),
            }
            for d in parts["daily"].get(tenant, [])
        ],
    }


def iter_bodies(
    con: duckdb.DuckDBPyConnection,
    month: Window,
    settings: InvoicingSettings,
    catalog: Mapping[str, BillTo],
) -> Iterator[tuple[str, Body]]:
    """``(tenant id, invoice body)`` for each tenant of ``invoice_totals``, in tenant order,
    built ``settings.batch_tenants`` tenants at a time (only one batch is held at once)."""
    _materialize(con)
    try:
        for low, high in tenant_ranges(con, ["invoice_totals"], settings.batch_tenants):
            totals = con.sql(
                "select * from invoice_totals where tenant_id between ? and ? order by tenant_id",
                params=[low, high],
            ).to_arrow_table()
            parts = {name: _batch_rows(con, f"_close_{name}", low, high) for name in _PARTS}
            # a tenant twice in invoice_totals keeps its last row, as one dict of bodies did
            batch = {row["tenant_id"]: row for row in totals.to_pylist()}
            for tenant, row in batch.items():
                yield tenant, _body(row, parts, month, settings, catalog)
    finally:  # also when the caller stops early; a closed connection dropped them already
        with contextlib.suppress(duckdb.ConnectionException):
            for name in _PARTS:
                con.execute(f"drop table if exists _close_{name}")


def build_bodies(
    con: duckdb.DuckDBPyConnection,
    month: Window,
    settings: InvoicingSettings,
    catalog: Mapping[str, BillTo],
) -> dict[str, Body]:
    """Every tenant's body at once, keyed by tenant id (for one tenant's showback page; the
    close streams :func:`iter_bodies` instead)."""
    return dict(iter_bodies(con, month, settings, catalog))


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
