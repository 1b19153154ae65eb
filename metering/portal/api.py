"""The REST API, version 1 (``/api/v1``): what a billing system reads.

Authorisation is the pages': a provider-issued API key (``Authorization: Bearer mk_…``)
or a signed-in browser session; a tenant key or session sees its own tenant only, and any
other tenant's id, number or filter answers 404 exactly like one that does not exist.
Lists page with ``limit``/``offset`` (a ``Link: rel="next"`` header and ``next`` in the
body); every answer carries a strong ``ETag`` of its body and honours ``If-None-Match``.
Money is a decimal string. The OpenAPI document (``/api/v1/openapi.json``, committed as
docs/openapi.json) is generated from :data:`ROUTES` by metering.portal.openapi.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from metering.portal.signin import Principal
from metering.portal.web import off_loop, portal, principal_for_api
from metering.readmodel.model import valid_month
from metering.readmodel.views import DocumentView, TenantView

MAX_LIMIT = 200


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def json_response(
    request: Request, body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    data = json.dumps(body, default=_default, ensure_ascii=False, sort_keys=True).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    common = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    if status == 200 and etag in wanted:
        return Response(status_code=304, headers=common)
    return Response(
        data, status, headers={**common, **(headers or {})}, media_type="application/json"
    )


def error(request: Request, exc: ApiError) -> Response:
    body = {"error": {"code": exc.code, "message": exc.message}}
    return json_response(request, body, exc.status)


NOT_FOUND = ApiError(404, "not_found", "no such resource")


def _page(
    request: Request, items: list[Any], render: Callable[[Any], Any] | None = None
) -> Response:
    """One page of ``items``; ``render`` turns an item into its JSON (only the page's own:
    a provider's list holds every tenant's documents)."""
    try:
        limit = int(request.query_params.get("limit", "50"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        raise ApiError(400, "bad_request", "limit and offset must be integers") from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ApiError(400, "bad_request", f"limit must be 1..{MAX_LIMIT}, offset >= 0")
    chunk = items[offset : offset + limit]
    if render is not None:
        chunk = [render(item) for item in chunk]
    next_url = None
    headers = {}
    if offset + limit < len(items):
        query = dict(request.query_params) | {"limit": str(limit), "offset": str(offset + limit)}
        next_url = f"{request.url.path}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = {"data": chunk, "total": len(items), "limit": limit, "offset": offset, "next": next_url}
    return json_response(request, body, headers=headers)


def _month(request: Request, *, required: bool = False) -> str | None:
    month = request.query_params.get("month")
    if month is None:
        if required:
            month = portal(request).model.current_month()
            if month is None:
                raise NOT_FOUND
        return month
    if not valid_month(month):
        raise ApiError(400, "bad_request", "month must be YYYY-MM")
    return month


def _tenant_param(principal: Principal, tenant_id: str | None) -> str | None:
    """The tenant a call is about: a tenant principal's own, whatever it asked for."""
    if principal.is_provider:
        return tenant_id
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise NOT_FOUND
    return principal.tenant_id


def _known_tenant(request: Request, principal: Principal, tenant_id: str) -> str:
    if not principal.may_see(tenant_id) or portal(request).model.tenant(tenant_id) is None:
        raise NOT_FOUND
    return tenant_id


# -- handlers ------------------------------------------------------------------------------------


def list_tenants(request: Request, principal: Principal) -> Response:
    currency = request.query_params.get("currency")
    tenants = [
        t
        for t in portal(request).model.tenants()
        if principal.may_see(t.tenant_id) and (not currency or t.currency == currency)
    ]
    return _page(request, tenants, _tenant_json)


def _tenant_json(t: TenantView) -> dict[str, Any]:
    return {"tenant_id": t.tenant_id, "name": t.name, "currency": t.currency, "orgs": list(t.orgs)}


def get_tenant(request: Request, principal: Principal) -> Response:
    tenant_id = _known_tenant(request, principal, str(request.path_params["tenant_id"]))
    t = portal(request).model.tenant(tenant_id)
    assert t is not None
    return json_response(request, _tenant_json(t))


def _documents(request: Request, principal: Principal, kind: str) -> list[DocumentView]:
    tenant = _tenant_param(principal, request.query_params.get("tenant_id"))
    state = request.query_params.get("state")
    docs = portal(request).model.documents(tenant, month=_month(request), kind=kind)
    return [d for d in docs if state is None or d.state == state]


def list_invoices(request: Request, principal: Principal) -> Response:
    return _page(request, _documents(request, principal, "invoice"), DocumentView.as_json)


def list_credit_notes(request: Request, principal: Principal) -> Response:
    return _page(request, _documents(request, principal, "credit_note"), DocumentView.as_json)


def _document(request: Request, principal: Principal, kind: str) -> Response:
    found = portal(request).model.document(str(request.path_params["number"]))
    if found is None or found[0].kind != kind or not principal.may_see(found[0].tenant_id):
        raise NOT_FOUND
    view, body = found
    detail = view.as_json() | {
        "lines": body.get("lines", []),
        "totals": body.get("totals", {}),
        "period_start": body.get("period_start"),
        "period_end": body.get("period_end"),
    }
    return json_response(request, detail)


def get_invoice(request: Request, principal: Principal) -> Response:
    return _document(request, principal, "invoice")


def get_credit_note(request: Request, principal: Principal) -> Response:
    return _document(request, principal, "credit_note")


def month_to_date(request: Request, principal: Principal) -> Response:
    tenant_id = _known_tenant(request, principal, str(request.path_params["tenant_id"]))
    month = _month(request, required=True)
    assert month is not None
    mtd = portal(request).model.month_to_date(tenant_id, month)
    body = {
        "tenant_id": tenant_id,
        "month": mtd.month,
        "closed": mtd.closed,
        "estimated": mtd.estimated,
        "through": mtd.through,
        "totals": mtd.totals,
        "lines": mtd.lines,
        "by_product": mtd.by.get("product", []),
        "by_site": mtd.by.get("site", []),
        "by_day": mtd.by.get("day", []),
    }
    return json_response(request, body)


def usage(request: Request, principal: Principal) -> Response:
    tenant_id = _known_tenant(request, principal, str(request.path_params["tenant_id"]))
    model = portal(request).model
    months = [m.month for m in model.months() if m.rated]
    wanted = request.query_params.get("month")
    if wanted is not None:
        _month(request)
        months = [m for m in months if m == wanted]
    rows = []
    for month in sorted(months):
        for row in model.month_to_date(tenant_id, month).by.get("product", []):
            rows.append(
                {
                    "month": month,
                    "product": row["key"],
                    "unit": row["unit"],
                    "quantity": row["quantity"],
                    "list_amount": row["list_amount"],
                }
            )
    return _page(request, rows)


def coverage(request: Request, principal: Principal) -> Response:
    if not principal.is_provider:
        raise NOT_FOUND
    month = _month(request, required=True)
    assert month is not None
    return _page(request, portal(request).model.coverage(month))


def list_months(request: Request, principal: Principal) -> Response:
    if not principal.is_provider:
        raise NOT_FOUND
    blocked = {b["month"]: b["reason"] for b in portal(request).model.blocked_closes()}
    rows = [
        {
            "month": m.month,
            "rated": m.rated,
            "closed": m.closed,
            "invoices": m.invoices,
            "credit_notes": m.credit_notes,
            "totals": {c: str(t) for c, t in m.totals.items()},
            "blocked": blocked.get(m.month),
        }
        for m in portal(request).model.months()
    ]
    return _page(request, rows)


# -- routing -------------------------------------------------------------------------------------

Handler = Callable[[Request, Principal], Response]  # blocking: run off the loop


@dataclass(frozen=True)
class ApiRoute:
    """One endpoint and what the OpenAPI document says of it."""

    path: str
    handler: Handler
    summary: str
    response: str  # a schema name of metering.portal.openapi.SCHEMAS
    query: tuple[str, ...] = ()  # parameter names of metering.portal.openapi.PARAMETERS
    paged: bool = False
    provider_only: bool = False


def _endpoint(route: ApiRoute) -> Callable[[Request], Awaitable[Response]]:
    @off_loop  # the key lookup (SQLite) and the read model's work, in the thread pool
    def endpoint(request: Request) -> Response:
        principal = principal_for_api(request)
        if principal is None:
            body = ApiError(401, "unauthorized", "an API key or a signed-in session is required")
            response = error(request, body)
            response.headers["WWW-Authenticate"] = 'Bearer realm="metering"'
            return response
        try:
            return route.handler(request, principal)
        except ApiError as exc:
            return error(request, exc)

    return endpoint


ROUTES = (
    ApiRoute("/tenants", list_tenants, "List tenants", "TenantList", ("currency",), paged=True),
    ApiRoute("/tenants/{tenant_id}", get_tenant, "One tenant", "Tenant"),
    ApiRoute(
        "/tenants/{tenant_id}/month-to-date",
        month_to_date,
        "A tenant's month as rated so far (final once closed)",
        "MonthToDate",
        ("month",),
    ),
    ApiRoute(
        "/tenants/{tenant_id}/usage",
        usage,
        "A tenant's rated usage per month and product",
        "UsageList",
        ("month",),
        paged=True,
    ),
    ApiRoute(
        "/invoices",
        list_invoices,
        "List issued invoices",
        "DocumentList",
        ("tenant_id", "month", "state"),
        paged=True,
    ),
    ApiRoute("/invoices/{number}", get_invoice, "One invoice with its lines", "DocumentDetail"),
    ApiRoute(
        "/credit-notes",
        list_credit_notes,
        "List issued credit notes",
        "DocumentList",
        ("tenant_id", "month", "state"),
        paged=True,
    ),
    ApiRoute(
        "/credit-notes/{number}",
        get_credit_note,
        "One credit note with its lines",
        "DocumentDetail",
    ),
    ApiRoute(
        "/months",
        list_months,
        "Months and their close state (provider)",
        "MonthList",
        paged=True,
        provider_only=True,
    ),
    ApiRoute(
        "/coverage",
        coverage,
        "Collection coverage per site and source of a month (provider)",
        "CoverageList",
        ("month",),
        paged=True,
        provider_only=True,
    ),
)


def routes() -> list[Route]:
    from metering.portal.openapi import openapi_endpoint

    found = [Route(f"/api/v1{r.path}", _endpoint(r), methods=["GET"]) for r in ROUTES]
    return [Route("/api/v1/openapi.json", openapi_endpoint, methods=["GET"]), *found]
