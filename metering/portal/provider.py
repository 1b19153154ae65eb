"""The provider's pages: months and their close state, coverage, failed runs, unmapped orgs,
unrated usage, revenue over months, downloads, and any tenant's own pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from metering.portal import pages
from metering.portal.signin import Principal
from metering.portal.web import error_page, off_loop, page, paged, portal, require
from metering.readmodel.model import valid_month


def _month(request: Request) -> str | None:
    model = portal(request).model
    month = request.query_params.get("month") or model.current_month() or ""
    return month if valid_month(month) else None


@require("provider")
@off_loop
def months(request: Request, principal: Principal) -> Response:
    model = portal(request).model
    states = model.months()
    blocked = model.blocked_closes()
    return page(request, "provider_months.html.j2", months=states, blocked=blocked)


@require("provider")
@off_loop
def month_detail(request: Request, principal: Principal) -> Response:
    month = str(request.path_params["month"])
    if not valid_month(month):
        return error_page(request, 404, "Not found.")
    model = portal(request).model
    docs, pager = paged(request, model.documents(month=month))
    return page(
        request,
        "provider_month.html.j2",
        pager=pager,
        month=month,
        summary=model.month_summary(month),
        coverage=model.coverage(month),
        failed=model.failed_runs(month),
        unmapped=model.unmapped_orgs(month),
        unrated=model.unrated(month),
        files=sorted(model.provider_files(month)),
        docs=docs,
    )


@require("provider")
@off_loop
def download(request: Request, principal: Principal) -> Response:
    month, name = str(request.path_params["month"]), str(request.path_params["name"])
    if not valid_month(month):
        return error_page(request, 404, "Not found.")
    files = portal(request).model.provider_files(month)
    if name not in files:  # only the close's own files of that month, never a path
        return error_page(request, 404, "Not found.")
    return FileResponse(files[name], filename=name)


@require("provider")
@off_loop
def tenants(request: Request, principal: Principal) -> Response:
    shown, pager = paged(request, portal(request).model.tenants())
    return page(request, "provider_tenants.html.j2", tenants=shown, pager=pager)


@require("provider")
@off_loop
def revenue(request: Request, principal: Principal) -> Response:
    model = portal(request).model
    months = sorted(m.month for m in model.months() if m.rated)[-6:]
    shown, pager = paged(request, model.revenue_tenants(months))
    grid: dict[tuple[str, str, str], dict[str, Decimal]] = {}
    names: dict[str, str] = {}
    for row in model.revenue(months, shown):
        key = (row["tenant_id"], row["product"], row["currency"])
        grid.setdefault(key, {})[row["month"]] = row["list_amount"]
        names[row["tenant_id"]] = row["tenant_name"] or row["tenant_id"]
    rows: list[dict[str, Any]] = [
        {"tenant_id": t, "tenant_name": names[t], "product": p, "currency": c, "amounts": a}
        for (t, p, c), a in sorted(grid.items())
    ]
    return page(request, "provider_revenue.html.j2", months=months, rows=rows, pager=pager)


@require("provider")
@off_loop
def margin(request: Request, principal: Principal) -> Response:
    """Revenue against the provider's cost cards for a rated month (``?month=``, default the
    newest): per currency, per product and per tenant (metering.commerce.margin)."""
    from metering.errors import MeteringError

    model = portal(request).model
    month = _month(request)
    rated = sorted((m.month for m in model.months() if m.rated), reverse=True)
    context: dict[str, Any] = {"month": month, "months": rated, "problem": None}
    if month is None or month not in rated:
        context["problem"] = "no rated month to show"
    else:
        try:
            margins = model.margin(month)
        except MeteringError as exc:
            context["problem"] = str(exc)
        else:
            shown, pager = paged(request, margins.tenants)
            context.update(
                totals=margins.totals, products=margins.products, tenants=shown, pager=pager
            )
    return page(request, "provider_margin.html.j2", **context)


@require("provider")
@off_loop
def webhooks(request: Request, principal: Principal) -> Response:
    """Every webhook delivery and its attempts (the record ``metering webhooks list`` shows)."""
    from metering.portal.webhooks import Webhooks

    p = portal(request)
    rows = Webhooks(p.settings.state_path, p.settings.webhooks).deliveries()
    return page(request, "provider_webhooks.html.j2", deliveries=rows)


def _tenant_view(view: Any) -> Any:
    @require("provider")
    async def handler(request: Request, principal: Principal) -> Response:
        tenant_id = str(request.path_params["tenant"])
        if portal(request).model.tenant(tenant_id) is None:
            return error_page(request, 404, "Not found.")
        base = f"/provider/tenants/{quote(tenant_id, safe='')}"
        response: Response = await view(request, tenant_id, base)
        return response

    return handler


tenant_mtd = _tenant_view(pages.month_to_date_view)
tenant_documents = _tenant_view(pages.documents_view)
tenant_document = _tenant_view(pages.document_view)
tenant_document_file = _tenant_view(pages.document_file)
tenant_compare = _tenant_view(pages.compare_view)
