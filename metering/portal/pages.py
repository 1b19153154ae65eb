"""Sign-in, sign-out and the tenant's pages.

A tenant's pages carry no tenant id: the tenant is the session's, always. Provider staff see
the same pages for any tenant under ``/provider/tenants/{id}/`` (metering/portal/provider.py).
A document number, month or filter that is not the tenant's answers 404, the same as one
that does not exist, so nothing about other tenants can be learned from the answer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from metering.portal.sessions import same_token
from metering.portal.signin import Principal, SignInError
from metering.portal.web import (
    LOGIN_CSRF,
    csrf_ok,
    error_page,
    form,
    log,
    new_login_csrf,
    off_loop,
    page,
    portal,
    require,
    same_origin,
    session_of,
    set_cookie,
)
from metering.readmodel.model import valid_month
from metering.readmodel.views import DocumentView
from metering.reports.chart import daily_stacked_bars, horizontal_bars
from metering.reports.csvfile import csv_bytes

ADDRESS_FACTOR = 10  # failed sign-ins allowed per client address, in login attempts


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login_form(request: Request) -> Response:
    session = session_of(request)
    if session is not None:
        return RedirectResponse(_home(session.principal), status_code=303)
    return _login_page(request, "")


def _login_page(request: Request, message: str, status: int = 200) -> Response:
    token = new_login_csrf()
    response = page(request, "login.html.j2", status=status, login_csrf=token, message=message)
    set_cookie(response, portal(request), LOGIN_CSRF, token, max_age=3600)
    return response


def _home(principal: Principal) -> str:
    return "/provider/" if principal.is_provider else "/tenant/"


async def login(request: Request) -> Response:
    p = portal(request)
    fields = await form(request)
    if not same_origin(request) or not same_token(
        fields.get("csrf_token"), request.cookies.get(LOGIN_CSRF, "")
    ):
        return _login_page(request, "The form expired; please sign in again.", 403)
    account = "account:" + (fields.get("login") or fields.get("org") or "").strip().lower()
    address = f"ip:{_client(request)}"
    # Failed attempts count against the account and the client address (with room for the
    # many people behind one proxy or NAT address); a refused attempt is not even tried.
    per_address = p.limiter.limit * ADDRESS_FACTOR
    if p.limiter.blocked(account) or p.limiter.blocked(address, per_address):
        log.warning("sign-in: too many attempts (client %s)", _client(request))
        return _login_page(request, "Too many sign-in attempts; wait a few minutes.", 429)
    try:
        # a call to the org's VCD (up to its timeout): in the thread pool, off the loop
        if fields.get("api_token"):
            by_token = off_loop(p.signin.api_token)
            principal = await by_token(fields.get("org", ""), fields["api_token"])
        else:
            by_password = off_loop(p.signin.password)
            principal = await by_password(fields.get("login", ""), fields.get("password", ""))
    except SignInError as exc:
        p.limiter.hit(account)
        p.limiter.hit(address)
        log.info("sign-in refused for %r from %s", account[:200], _client(request))
        return _login_page(request, str(exc), 401)
    token, _ = p.sessions.create(principal)
    log.info("signed in: %s (%s)", principal.name, principal.tenant_id or "provider")
    response = RedirectResponse(_home(principal), status_code=303)
    set_cookie(response, p, p.cookie, token, max_age=p.settings.session_max_hours * 3600)
    response.delete_cookie(LOGIN_CSRF, path="/")
    return response


async def logout(request: Request) -> Response:
    p = portal(request)
    session = session_of(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if not csrf_ok(request, session, await form(request)):
        return error_page(request, 403, "Missing or wrong CSRF token.")
    p.sessions.end(request.cookies.get(p.cookie))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(p.cookie, path="/", secure=p.settings.secure_cookies, httponly=True)
    return response


async def root(request: Request) -> Response:
    session = session_of(request)
    return RedirectResponse(_home(session.principal) if session else "/login", status_code=303)


# -- tenant pages, shared with the provider's view of one tenant ---------------------------------


def _month_param(request: Request, default: str | None) -> str | None:
    month = request.query_params.get("month", default or "")
    return month if month and valid_month(month) else None


def _charts(mtd: Any) -> dict[str, Any]:
    points = [
        (date.fromisoformat(str(r["key"])), "usage", Decimal(r["list_amount"]))
        for r in mtd.by["day"]
    ]
    if not points:
        return {"daily": None, "products": None}
    first = min(d for d, _, _ in points).replace(day=1)
    last = max(d for d, _, _ in points)
    products = [
        (str(r["key"]), Decimal(r["list_amount"]).quantize(Decimal("0.01")))
        for r in mtd.by["product"]
    ]
    return {
        "daily": daily_stacked_bars(points, first, last, title="list amount per day"),
        "products": horizontal_bars(products, title="list amount per product"),
    }


@off_loop
def month_to_date_view(request: Request, tenant_id: str, base: str) -> Response:
    model = portal(request).model
    month = _month_param(request, model.current_month())
    if month is None:
        return page(request, "tenant_mtd.html.j2", base=base, mtd=None, months=[], charts={})
    mtd = model.month_to_date(tenant_id, month)
    months = [m.month for m in model.months() if m.rated]
    tenant = model.tenant(tenant_id)
    return page(
        request,
        "tenant_mtd.html.j2",
        base=base,
        mtd=mtd,
        months=months,
        tenant=tenant,
        charts=_charts(mtd),
    )


@off_loop
def documents_view(request: Request, tenant_id: str, base: str) -> Response:
    model = portal(request).model
    docs = model.documents(tenant_id)
    return page(
        request, "tenant_documents.html.j2", base=base, docs=docs, tenant=model.tenant(tenant_id)
    )


def _own_document(request: Request, tenant_id: str) -> DocumentView | None:
    number = str(request.path_params["number"])
    found = portal(request).model.documents(tenant_id)
    return next((d for d in found if d.number == number), None)


@off_loop
def document_view(request: Request, tenant_id: str, base: str) -> Response:
    doc = _own_document(request, tenant_id)
    if doc is None:
        return error_page(request, 404, "Not found.")
    found = portal(request).model.document(doc.number)
    assert found is not None
    return page(request, "tenant_document.html.j2", base=base, doc=doc, body=found[1])


@off_loop
def document_file(request: Request, tenant_id: str, base: str) -> Response:
    doc = _own_document(request, tenant_id)
    if doc is None:
        return error_page(request, 404, "Not found.")
    kind = str(request.path_params["file"])
    model = portal(request).model
    pdf, usage_csv = model.document_files(doc)
    if kind == "pdf" and pdf.is_file():
        return FileResponse(pdf, media_type="application/pdf", filename=pdf.name)
    if kind == "usage.csv" and usage_csv.is_file():
        return FileResponse(usage_csv, media_type="text/csv", filename=usage_csv.name)
    ubl = model.ubl_file(doc) if kind == "ubl.xml" else None
    if ubl is not None and ubl.is_file():  # the Peppol e-invoice (a Factur-X is the PDF)
        return FileResponse(ubl, media_type="application/xml", filename=ubl.name)
    if kind == "focus.csv":
        rows = model.focus_rows(doc)
        return _csv_response(rows, f"{doc.number}-focus.csv")
    return error_page(request, 404, "Not found.")


def _csv_response(rows: list[dict[str, Any]], filename: str) -> Response:
    """Rows through the one CSV writer (formula cells neutralised, RFC 4180 quoting)."""
    header = list(rows[0]) if rows else []
    numeric = [k for k in header if rows and isinstance(rows[0][k], int | float | Decimal)]
    data = csv_bytes(header, [list(r.values()) for r in rows], numeric=numeric)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(data, media_type="text/csv; charset=utf-8", headers=headers)


@off_loop
def compare_view(request: Request, tenant_id: str, base: str) -> Response:
    model = portal(request).model
    available = sorted((m.month for m in model.months() if m.rated), reverse=True)
    wanted = [m for m in request.query_params.getlist("month") if m in available]
    months = sorted(wanted or available[:3])
    table = model.compare_months(tenant_id, months)
    return page(request, "tenant_compare.html.j2", base=base, table=table, available=available)


def _tenant_route(view: Any) -> Any:
    @require("tenant")
    async def handler(request: Request, principal: Principal) -> Response:
        assert principal.tenant_id is not None
        response: Response = await view(request, principal.tenant_id, "/tenant")
        return response

    return handler


tenant_mtd = _tenant_route(month_to_date_view)
tenant_documents = _tenant_route(documents_view)
tenant_document = _tenant_route(document_view)
tenant_document_file = _tenant_route(document_file)
tenant_compare = _tenant_route(compare_view)
