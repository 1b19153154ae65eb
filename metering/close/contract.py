"""The rating outputs the close reads, as pyarrow schemas (docs/architecture.md, "Rating outputs").

Rating writes them under ``<lake>/rating/<table>/month=YYYY-MM/part.parquet``. The close
only reads them; the schemas here are the contract it relies on (and what the tests' fixtures
are written with). Extra columns written by rating are ignored; a missing one is an error.
"""

from __future__ import annotations

import pyarrow as pa

from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.rating.outputs import OUTPUT_SCHEMAS
from metering.window import Window


def _columns(table: str, names: str) -> pa.Schema:
    """The columns of rating output ``table`` the close reads, typed as rating writes them."""
    written = OUTPUT_SCHEMAS[table]
    return pa.schema([written.field(name) for name in names.split()])


RATED_USAGE = _columns(
    "rated_usage",
    "month tenant_id site resource_id resource_name usage_date product dimension quantity unit "
    "rate_card_id filled_hours",
)
INVOICE_LINES = _columns(
    "invoice_lines",
    "month tenant_id line_no service product dimension site description quantity unit "
    "unit_price rate_card_id price_from price_to tier_detail list_amount estimated currency "
    "filled_hours",
)
INVOICE_TOTALS = _columns(
    "invoice_totals",
    "month tenant_id tenant_name currency lines_amount discount_amount minimum_adjustment "
    "subtotal_amount tax_rate tax_amount total_amount",
)
UNRATED_USAGE = _columns(
    "unrated_usage",
    "month site org_name tenant_id resource_id resource_name product dimension quantity unit "
    "reason",
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
