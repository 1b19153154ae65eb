"""The rating outputs the close reads, as pyarrow schemas (docs/architecture.md, "Rating outputs").

Rating writes them under ``<lake>/rating/<table>/month=YYYY-MM/part.parquet``. The close
only reads them; the schemas here are the contract it relies on (and what the tests' fixtures
are written with). Extra columns written by rating are ignored; a missing one is an error.
"""

from __future__ import annotations

import pyarrow as pa

from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.window import Window

_QTY = pa.decimal128(38, 9)
_PRICE = pa.decimal128(18, 9)
_MONEY = pa.decimal128(18, 2)

RATED_USAGE = pa.schema(
    [
        ("month", pa.date32()),
        ("tenant_id", pa.string()),
        ("site", pa.string()),
        ("resource_id", pa.string()),
        ("resource_name", pa.string()),
        ("usage_date", pa.date32()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("quantity", _QTY),
        ("unit", pa.string()),
        ("list_amount", _QTY),
    ]
)

INVOICE_LINES = pa.schema(
    [
        ("month", pa.date32()),
        ("tenant_id", pa.string()),
        ("line_no", pa.int32()),
        ("service", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("site", pa.string()),
        ("description", pa.string()),
        ("quantity", _QTY),
        ("unit", pa.string()),
        ("unit_price", _PRICE),
        ("rate_card_id", pa.string()),
        ("price_from", pa.timestamp("us", tz="UTC")),
        ("price_to", pa.timestamp("us", tz="UTC")),
        ("tier_detail", pa.string()),
        ("list_amount", _MONEY),
        ("estimated", pa.bool_()),
        ("currency", pa.string()),
    ]
)

INVOICE_TOTALS = pa.schema(
    [
        ("month", pa.date32()),
        ("tenant_id", pa.string()),
        ("tenant_name", pa.string()),
        ("currency", pa.string()),
        ("lines_amount", _MONEY),
        ("discount_amount", _MONEY),
        ("minimum_adjustment", _MONEY),
        ("subtotal_amount", _MONEY),
        ("tax_rate", pa.decimal128(9, 6)),
        ("tax_amount", _MONEY),
        ("total_amount", _MONEY),
    ]
)

UNRATED_USAGE = pa.schema(
    [
        ("month", pa.date32()),
        ("site", pa.string()),
        ("org_name", pa.string()),
        ("tenant_id", pa.string()),
        ("resource_id", pa.string()),
        ("resource_name", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("quantity", _QTY),
        ("unit", pa.string()),
        ("reason", pa.string()),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "rated_usage": RATED_USAGE,
    "invoice_lines": INVOICE_LINES,
    "invoice_totals": INVOICE_TOTALS,
    "unrated_usage": UNRATED_USAGE,
}
# Without these the month cannot be invoiced; the others may be absent (no usage detail).
REQUIRED = ("invoice_lines", "invoice_totals")


def month_key(month: Window) -> str:
    """``YYYY-MM`` of a month window."""
    return f"{month.start:%Y-%m}"


def rating_path(config: ProviderConfig, table: str, month: Window) -> LakePath:
    """Where rating writes ``table`` for ``month``."""
    return config.lake / "rating" / table / f"month={month_key(month)}" / "part.parquet"
