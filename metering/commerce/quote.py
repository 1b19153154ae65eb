"""What-if quotes: a closed month's usage rated with a proposed price book, beside what it
was billed, per tenant and product (``metering quote``).

The proposed rating runs the real rating engine (:func:`metering.rating.run.rate_on`: the
same SQL, charge models and audits) on an in-memory DuckDB connection that spills to a
temporary directory, over the month's consolidated usage intervals, read only. Nothing of
the data directory is written: not the rating outputs, the register, the warehouse, nor a
day's intervals (a day consolidated with other settings is refused, not rebuilt). The
"old" side is the month's published rating outputs (checked against their manifest).

Amounts per product are sums of invoice lines, each rounded half-up to the currency's minor
unit by rating, as on the invoice; the ``(invoice total)`` row is the invoice total (after
plan discount, minimum commitment and tax). ``delta_percent`` = delta ÷ old × 100, rounded
half-up to 0.01 (empty when old is 0 or the currency changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

from metering.config import ProviderConfig
from metering.errors import ConfigError, RatingError
from metering.lake.storage import LakePath, write_bytes
from metering.reports.csvfile import csv_bytes
from metering.window import Window

TOTAL = "(invoice total)"
QUOTE_COLUMNS = (
    "month",
    "tenant_id",
    "tenant_name",
    "product",
    "old_currency",
    "old_amount",
    "new_currency",
    "new_amount",
    "delta_amount",
    "delta_percent",
)
_MONEY = ("old_amount", "new_amount", "delta_amount", "delta_percent")
SUMMARY_TENANTS = 12  # the PDF is one page: the tenants whose total moves most

Figures = dict[tuple[str, str], tuple[str, Decimal]]  # (tenant, product) → (currency, amount)


@dataclass(frozen=True)
class QuoteResult:
    month: str
    rows: list[dict[str, Any]]
    csv_path: Path
    pdf_path: Path
    cards: tuple[str, ...]  # the proposed rate cards' ids
    unrated_rows: int  # usage the proposed book (or catalog) leaves without a price


def _figures(con: duckdb.DuckDBPyConnection) -> tuple[Figures, dict[str, str]]:
    """Per tenant and product the month's line amounts, and each invoice total."""
    figures: Figures = {}
    for tenant, product, currency, amount in con.execute(
        "select tenant_id, product, currency, sum(list_amount) from invoice_lines "
        "group by tenant_id, product, currency"
    ).fetchall():
        figures[(tenant, product)] = (currency, amount)
    names: dict[str, str] = {}
    for tenant, name, currency, total in con.execute(
        "select tenant_id, tenant_name, currency, total_amount from invoice_totals"
    ).fetchall():
        figures[(tenant, TOTAL)] = (currency, total)
        names[tenant] = name
    return figures, names


def _old_figures(config: ProviderConfig, month: Window) -> tuple[Figures, dict[str, str]]:
    """What the month was rated at: its published rating outputs, read only."""
    from metering.close.inputs import open_month
    from metering.rating.manifest import verify

    verify(config.lake, month)  # one rating's outputs, or one line naming `metering rate`
    con = open_month(config, month)
    try:
        return _figures(con)
    finally:
        con.close()


def usage_files(config: ProviderConfig, month: Window) -> list[LakePath]:
    """The month's consolidated day files, read only: a day built with other settings than
    the current ones is refused (rating would rebuild it; a quote never writes)."""
    from metering.rating.consolidate import intervals_path
    from metering.rating.days import stale_days
    from metering.rating.provenance import describe

    present = {
        day: intervals_path(config.lake, day)
        for day in month.days()
        if intervals_path(config.lake, day).is_file()
    }
    stale = stale_days(config, present)
    if stale:
        key = f"{month.start:%Y-%m}"
        raise RatingError(
            f"{len(stale)} day(s) of {key} were consolidated with other settings than the "
            f"current ones ({describe(stale)}); a quote never rebuilds them: run "
            f"`metering rate --month {key}` first"
        )
    return list(present.values())


def _new_figures(
    config: ProviderConfig, month: Window, pricing_dir: Path, catalog: Path | None
) -> tuple[Figures, dict[str, str], tuple[str, ...], int]:
    """The month rated with the proposed price book, in memory (the real rating engine)."""
    from metering.rating.catalog import load_catalog
    from metering.rating.days import MonthUsage
    from metering.rating.engine import bounded_connection
    from metering.rating.policy import load_pricing
    from metering.rating.run import rate_on, register_month_usage
    from metering.rating.settings import rating_settings
    from metering.rating.tables import check_plans

    settings = rating_settings(config)
    pricing = load_pricing(pricing_dir)
    tenants = load_catalog(catalog or config.tenant_catalog, settings.default_plan)
    check_plans(pricing, tenants, settings.default_plan)
    files = usage_files(config, month)
    with bounded_connection(settings.memory_limit) as con:
        register_month_usage(con, MonthUsage(files, ()), config.lake)
        rate_on(con, month, settings, pricing, tenants)
        figures, names = _figures(con)
        row = con.execute("select count(*) from unrated_usage").fetchone()
    unrated = int(row[0]) if row else 0
    return figures, names, tuple(card.card_id for card in pricing.cards), unrated


def _percent(delta: Decimal, old: Decimal) -> Decimal | None:
    if old == 0:
        return None
    return (delta * 100 / old).quantize(Decimal("0.01"), ROUND_HALF_UP)


def compare(
    month: str, old: Figures, new: Figures, names: dict[str, str], tenant: str | None = None
) -> list[dict[str, Any]]:
    """One row per tenant and product in either rating (a side without it is 0), the
    tenant's ``(invoice total)`` row after its products."""
    keys = sorted(set(old) | set(new), key=lambda k: (k[0], k[1] == TOTAL, k[1]))
    rows = []
    for key in keys:
        if tenant is not None and key[0] != tenant:
            continue
        old_currency, old_amount = old.get(key, ("", Decimal("0.00")))
        new_currency, new_amount = new.get(key, ("", Decimal("0.00")))
        same = not old_currency or not new_currency or old_currency == new_currency
        delta = new_amount - old_amount if same else None
        rows.append(
            {
                "month": month,
                "tenant_id": key[0],
                "tenant_name": names.get(key[0], key[0]),
                "product": key[1],
                "old_currency": old_currency,
                "old_amount": old_amount,
                "new_currency": new_currency,
                "new_amount": new_amount,
                "delta_amount": delta,
                "delta_percent": _percent(delta, old_amount) if delta is not None else None,
            }
        )
    return rows


def quote_month(
    config: ProviderConfig,
    month: Window,
    pricing_dir: Path,
    *,
    catalog: Path | None = None,
    tenant: str | None = None,
    out: Path | None = None,
    now: datetime | None = None,
) -> QuoteResult:
    """Rate ``month`` with ``pricing_dir`` (and ``catalog``) beside its real rating; write
    the comparison as CSV and a one-page PDF under ``out`` (default
    ``<out_dir>/quotes/YYYY-MM/<pricing dir name>/``)."""
    key = f"{month.start:%Y-%m}"
    if month.end > (now or datetime.now(UTC)):
        raise ConfigError(f"--month: a quote prices a closed month; {key} has not ended")
    if not pricing_dir.is_dir():
        raise ConfigError(f"--pricing: {pricing_dir} is not a directory of rate cards")
    old, old_names = _old_figures(config, month)
    new, new_names, cards, unrated = _new_figures(config, month, pricing_dir, catalog)
    rows = compare(key, old, new, {**old_names, **new_names}, tenant)
    if tenant is not None and not rows:
        raise ConfigError(f"--tenant: no tenant {tenant!r} in {key}, billed or quoted")
    target = out or config.out_dir / "quotes" / key / pricing_dir.resolve().name
    csv_path = target / f"quote-{key}.csv"
    pdf_path = target / f"quote-{key}.pdf"
    cells = ([row[c] for c in QUOTE_COLUMNS] for row in rows)
    write_bytes(csv_path, csv_bytes(QUOTE_COLUMNS, cells, numeric=_MONEY))
    from metering.commerce.quote_pdf import quote_pdf

    pdf = quote_pdf(config, key, rows, (pricing_dir, catalog), cards, unrated)
    write_bytes(pdf_path, pdf)
    return QuoteResult(key, rows, csv_path, pdf_path, cards, unrated)
