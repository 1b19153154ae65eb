"""The margin report's PDF summary (reports/margin.html.j2): totals per currency, per
product with a chart, and the tenants with the smallest margins."""

from __future__ import annotations

from typing import Any

from metering.close.settings import load_settings
from metering.commerce.chart import signed_bars
from metering.config import ProviderConfig


def margin_pdf(config: ProviderConfig, month: str, rows: list[dict[str, Any]]) -> bytes:
    """The PDF bytes of the month's margin summary."""
    from metering.commerce.costs import cost_dir
    from metering.commerce.margin import SUMMARY_TENANTS, summarise, tenant_margins
    from metering.reports.render import Renderer

    settings = load_settings(config)
    products = summarise(rows, "product")
    tenants = tenant_margins(rows)
    directory = cost_dir(config)
    renderer = Renderer()
    html = renderer.html(
        "margin.html.j2",
        {
            "month": month,
            "issuer": settings.branding,
            "locale": settings.default_locale,
            "totals": summarise(rows, "currency"),
            "products": products,
            "chart": signed_bars(
                [(f"{p['product']} ({p['currency']})", p["margin_amount"]) for p in products],
                title="Margin per product",
            ),
            "tenants": tenants[:SUMMARY_TENANTS],
            "tenant_count": len(tenants),
            "uncosted": sorted({r["tenant_id"] for r in rows if not r["costed"]}),
            "cost_cards": sorted(
                {c for r in rows if r["cost_card_ids"] for c in r["cost_card_ids"].split(", ")}
            ),
            "cost_dir": directory.name if directory else "",
        },
    )
    return renderer.pdf(html)
