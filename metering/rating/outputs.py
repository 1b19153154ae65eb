"""What every rating engine hands over: the one-row parameters view and the four outputs.

The close, the reports and finance SQL read the rating outputs by these exact Arrow schemas
(docs/architecture.md, "Rating outputs"), whichever engine computed them. DuckDB produces
them as is; another engine's result is checked and conformed here (a lossless cast only:
a value that would change raises), so a Spark run writes byte-for-byte the same types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import pyarrow as pa

from metering.errors import RatingError
from metering.money import minor_unit
from metering.rating.catalog import Tenant
from metering.rating.day_lineage import default_tables
from metering.rating.policy import Pricing
from metering.rating.settings import RatingSettings
from metering.rating.tables import catalog_tables, pricing_tables
from metering.window import Window

TS = pa.timestamp("us", tz="UTC")
QUANTITY = pa.decimal128(38, 9)
MONEY = pa.decimal128(18, 2)

OUTPUT_SCHEMAS: dict[str, pa.Schema] = {
    "rated_usage": pa.schema(
        [
            ("month", pa.date32()),
            ("tenant_id", pa.string()),
            ("site", pa.string()),
            ("resource_id", pa.string()),
            ("resource_name", pa.string()),
            ("usage_date", pa.date32()),
            ("product", pa.string()),
            ("dimension", pa.string()),
            ("quantity", QUANTITY),
            ("unit", pa.string()),
            ("rate_card_id", pa.string()),
            ("filled_hours", QUANTITY),
        ]
    ),
    "invoice_lines": pa.schema(
        [
            ("month", pa.date32()),
            ("tenant_id", pa.string()),
            ("line_no", pa.int32()),
            ("service", pa.string()),
            ("product", pa.string()),
            ("dimension", pa.string()),
            ("site", pa.string()),
            ("description", pa.string()),
            ("quantity", QUANTITY),
            ("unit", pa.string()),
            ("unit_price", pa.decimal128(18, 9)),
            ("rate_card_id", pa.string()),
            ("price_from", TS),
            ("price_to", TS),
            ("tier_detail", pa.string()),
            ("list_amount", MONEY),
            ("estimated", pa.bool_()),
            ("currency", pa.string()),
            ("usage_quantity", QUANTITY),
            ("usage_unit", pa.string()),
            ("tier_no", pa.int32()),
            ("filled_hours", QUANTITY),
        ]
    ),
    "invoice_totals": pa.schema(
        [
            ("month", pa.date32()),
            ("tenant_id", pa.string()),
            ("tenant_name", pa.string()),
            ("currency", pa.string()),
            ("lines_amount", MONEY),
            ("discount_amount", MONEY),
            ("minimum_adjustment", MONEY),
            ("subtotal_amount", MONEY),
            ("tax_rate", pa.decimal128(9, 6)),
            ("tax_amount", MONEY),
            ("total_amount", MONEY),
        ]
    ),
    "unrated_usage": pa.schema(
        [
            ("month", pa.date32()),
            ("site", pa.string()),
            ("org_name", pa.string()),
            ("tenant_id", pa.string()),
            ("resource_id", pa.string()),
            ("resource_name", pa.string()),
            ("product", pa.string()),
            ("dimension", pa.string()),
            ("quantity", QUANTITY),
            ("unit", pa.string()),
            ("reason", pa.string()),
        ]
    ),
}

PARAMS_SCHEMA = pa.schema(
    [
        ("month", pa.date32()),
        ("month_start", TS),
        ("month_end", TS),
        ("hours_in_month", pa.int64()),
        ("default_plan", pa.string()),
        ("default_currency", pa.string()),
        ("default_minor_unit", pa.int32()),
        ("default_tax_rate", pa.decimal128(18, 9)),
    ]
)


def rating_params(month: Window, settings: RatingSettings, pricing: Pricing) -> pa.Table:
    """The one-row table ``rating_params`` the rating SQL reads its parameters from."""
    currency = pricing.currency_of(settings.default_plan)
    row = {
        "month": month.start.date(),
        "month_start": month.start,
        "month_end": month.end,
        "hours_in_month": month.hours,
        "default_plan": settings.default_plan,
        "default_currency": currency,
        "default_minor_unit": minor_unit(currency),
        "default_tax_rate": Decimal(settings.default_tax_rate),
    }
    return pa.Table.from_pylist([row], schema=PARAMS_SCHEMA)


def rating_inputs(
    month: Window,
    settings: RatingSettings,
    pricing: Pricing,
    tenants: Sequence[Tenant],
) -> dict[str, pa.Table]:
    """Every table the rating SQL reads besides usage: pricing, catalog and ``rating_params``
    (each engine registers exactly these under these names), and the days to rate from their
    intervals with the lineage reused for the others: here every day and none
    (metering.rating.day_lineage; one DuckDB process then reuses what it can)."""
    tables = {**pricing_tables(pricing), **catalog_tables(tenants)}
    tables["rating_params"] = rating_params(month, settings, pricing)
    tables.update(default_tables(month))
    return tables


def conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` in the exact schema of output ``name``; a cast that would change a value,
    or a missing or extra column, raises :class:`RatingError`."""
    want = OUTPUT_SCHEMAS[name]
    if table.column_names != want.names:
        raise RatingError(f"{name}: columns {table.column_names} differ from {want.names}")
    if table.schema == want:
        return table
    try:
        return table.cast(want, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise RatingError(f"{name}: cannot keep its output types: {exc}") from None


def raise_on_audit(name: str, bad: list[dict[str, Any]], month: Window) -> None:
    """Fail the rating when audit ``name`` (``audits/x.sql``) returned bad rows."""
    if bad:
        shown = "; ".join(str(row) for row in bad[:3])
        raise RatingError(
            f"audit {PurePath(name).stem} found {len(bad)} bad row(s): {shown}", window=month
        )


def add_totals(sums: dict[str, Decimal], totals: pa.Table) -> None:
    """Add Σ total_amount per currency of (a batch of) ``invoice_totals`` to ``sums``."""
    for currency, amount in totals_by_currency(totals).items():
        sums[currency] = sums.get(currency, Decimal(0)) + amount


def totals_by_currency(totals: pa.Table) -> dict[str, Decimal]:
    """Σ total_amount of ``invoice_totals`` per currency."""
    sums: dict[str, Decimal] = {}
    rows: Iterable[dict[str, object]] = totals.select(["currency", "total_amount"]).to_pylist()
    for row in rows:
        amount = row["total_amount"]
        assert isinstance(amount, Decimal)
        sums[str(row["currency"])] = sums.get(str(row["currency"]), Decimal(0)) + amount
    return sums
