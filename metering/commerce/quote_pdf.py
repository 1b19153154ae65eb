"""The quote's one-page PDF summary (reports/quote.html.j2): totals per currency, the
tenants whose invoice total moves most, and a chart of their deltas."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from metering.close.settings import load_settings
from metering.commerce.chart import signed_bars
from metering.config import ProviderConfig

_ZERO = Decimal("0.00")


def currency_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Old, new and delta of the invoice totals per currency (tenants whose currency did not
    change; a tenant whose currency changed is counted apart)."""
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [_ZERO, _ZERO, _ZERO])
    for row in rows:
        if row["product"] != "(invoice total)" or row["delta_amount"] is None:
            continue
        currency = row["new_currency"] or row["old_currency"]
        sums[currency][0] += row["old_amount"]
        sums[currency][1] += row["new_amount"]
        sums[currency][2] += row["delta_amount"]
    return [
        {"currency": c, "old": v[0], "new": v[1], "delta": v[2]} for c, v in sorted(sums.items())
    ]


def moving_tenants(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` invoice totals that move most (by |delta|, then tenant id)."""
    totals = [r for r in rows if r["product"] == "(invoice total)"]
    ranked = sorted(
        totals,
        key=lambda r: (
            r["delta_amount"] is not None,
            abs(r["delta_amount"] or 0),
            r["tenant_id"],
        ),
        reverse=True,
    )
    return sorted(ranked[:limit], key=lambda r: (-abs(r["delta_amount"] or 0), r["tenant_id"]))


def quote_pdf(
    config: ProviderConfig,
    month: str,
    rows: list[dict[str, Any]],
    inputs: tuple[Path, Path | None],
    cards: tuple[str, ...],
    unrated: int,
) -> bytes:
    """The PDF bytes of the quote's summary."""
    from metering.commerce.quote import SUMMARY_TENANTS
    from metering.reports.render import Renderer

    pricing_dir, catalog = inputs
    settings = load_settings(config)
    top = moving_tenants(rows, SUMMARY_TENANTS)
    chart = signed_bars(
        [(f"{r['tenant_name']}"[:32], r["delta_amount"]) for r in top if r["delta_amount"]],
        title="Change of the invoice total per tenant",
    )
    tenants = {r["tenant_id"] for r in rows}
    changed = {r["tenant_id"] for r in rows if r["delta_amount"] != 0}
    renderer = Renderer()
    html = renderer.html(
        "quote.html.j2",
        {
            "month": month,
            "issuer": settings.branding,
            "locale": settings.default_locale,
            "pricing_name": pricing_dir.resolve().name,
            "cards": cards,
            "catalog_name": catalog.name if catalog else config.tenant_catalog.name,
            "totals": currency_totals(rows),
            "top": top,
            "tenant_count": len(tenants),
            "changed_count": len(changed),
            "chart": chart,
            "unrated": unrated,
        },
    )
    return renderer.pdf(html)
