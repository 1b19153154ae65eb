"""Tenant showback: a tenant's usage and cost, as HTML.

For an open month (or a closed month whose invoice for the tenant is not issued yet) it is an
estimate: no number, not in the register, and it says so at the top. It reads the month's
current rating outputs (for ``--month-to-date`` the current month, rated first when the
rating stage is installed), so it changes as usage arrives. Once the tenant's invoice for the
month is issued it shows that invoice's frozen figures and names it: the figures are final.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metering.close.billto import load_bill_to
from metering.close.contract import month_key
from metering.close.settings import load_settings
from metering.config import ProviderConfig
from metering.errors import ConfigError
from metering.lake.storage import write_bytes
from metering.readmodel import BillingReadModel
from metering.reports import i18n
from metering.reports.invoice import context, usage_view
from metering.reports.render import Renderer
from metering.window import Window

_MONEY_KEYS = (
    "lines_amount",
    "discount_amount",
    "minimum_adjustment",
    "subtotal_amount",
    "tax_amount",
    "total_amount",
)


def _empty_body(tenant: str, month: Window, known: Any) -> dict[str, Any]:
    zero = "0.00"
    return {
        "kind": "invoice",
        "month": month_key(month),
        "period_start": month.start.date().isoformat(),
        "period_end": month.start.date().isoformat(),
        "tenant_id": tenant,
        "tenant_name": known.name,
        "currency": "EUR",
        "bill_to": known.as_dict(),
        "issuer": {},
        "payment_terms_days": 0,
        "lines": [],
        "totals": {k: zero for k in _MONEY_KEYS} | {"tax_rate": "0"},
        "usage": [],
        "daily": [],
    }


def showback_html(
    config: ProviderConfig, tenant: str, month: Window, *, now: datetime | None = None
) -> str:
    """The showback page of ``tenant`` for ``month`` from its current rating outputs, read
    through the read model (metering.readmodel)."""
    model = BillingReadModel(config)
    settings = model.settings
    key = month_key(month)
    issued = [d for d in model.documents(tenant, month=key, kind="invoice") if d.state == "issued"]
    final = model.document(issued[0].number) if issued else None
    body: dict[str, Any] | None
    if final is not None:
        body, through = final[1], None
    else:
        body, through = model.draft_body(tenant, key)
    if body is None:
        catalog = load_bill_to(config.tenant_catalog, settings.default_locale)
        if tenant not in catalog:
            known = ", ".join(sorted(t.tenant_id for t in model.tenants())[:10])
            raise ConfigError(f"unknown tenant {tenant!r} (known: {known})", tenant=tenant)
        body = _empty_body(tenant, month, catalog[tenant])
    generated = now or datetime.now(UTC)
    ctx = context("", generated.isoformat(), body)
    ctx["generated"] = generated.strftime("%Y-%m-%d %H:%M UTC")
    ctx["through"] = through.isoformat() if through else None
    ctx["branding"] = settings.branding
    t = i18n.translations(i18n.catalog_for(ctx["locale"]))
    ctx["usage_rows"] = usage_view(t, body["usage"], ctx["locale"])
    ctx["final"] = {"number": final[0].number, "issued": final[0].issued_at[:10]} if final else None
    renderer = Renderer()
    ctx["css"] = renderer.css_text
    return renderer.html("showback.html.j2", ctx)


def write_showback(
    config: ProviderConfig, tenant: str, month: Window, *, now: datetime | None = None
) -> Path:
    """Render and write the showback page under ``<out>/showback/``; returns its path."""
    settings = load_settings(config)
    html = showback_html(config, tenant, month, now=now)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in tenant)
    path = settings.out_dir / "showback" / f"{safe}-{month_key(month)}.html"
    write_bytes(path, html.encode("utf-8"))
    return path
