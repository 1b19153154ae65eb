"""The portal's ASGI app: sign-in, tenant pages, provider pages and the API in one Starlette
application (docs/portal.md).

Why Starlette and not FastAPI: Starlette and uvicorn are already dependencies (the simulator
runs on them), the API is ten read-only GET endpoints, and its OpenAPI document is generated
from the same route table that serves it (metering.portal.openapi), so FastAPI's one gain —
a generated document — costs a new dependency tree (FastAPI, pydantic models of every body)
for little.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from metering.config import ProviderConfig
from metering.portal import api, pages, provider
from metering.portal.apikeys import ApiKeys
from metering.portal.sessions import RateLimiter, SessionStore
from metering.portal.settings import PortalSettings, load_portal_settings
from metering.portal.signin import VcdSignIn
from metering.portal.web import Portal, SecurityHeaders, error_page
from metering.readmodel import BillingReadModel
from metering.reports.render import template_env
from metering.resources import resource_dir


def build_portal(config: ProviderConfig, settings: PortalSettings | None = None) -> Portal:
    settings = settings or load_portal_settings(config)
    model = BillingReadModel(config)
    return Portal(
        settings=settings,
        model=model,
        sessions=SessionStore(
            settings.session_idle_minutes * 60, settings.session_max_hours * 3600
        ),
        limiter=RateLimiter(settings.login_attempts, settings.login_window_seconds),
        signin=VcdSignIn(config, model.catalog),
        keys=ApiKeys(settings.state_path),
        env=template_env(),
    )


async def _css(request: Request) -> Response:
    return FileResponse(
        resource_dir("reports") / "portal" / "portal.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        body = api.ApiError(404, "not_found", "no such resource")
        return api.error(request, body)
    return error_page(request, 404, "Not found.")


async def _method(request: Request, exc: Exception) -> Response:
    return error_page(request, 405, "Method not allowed.")


def _pages() -> list[Route]:
    t, pv = "/tenant", "/provider"
    doc = "/documents/{number}"
    return [
        Route("/", pages.root),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/static/portal.css", _css),
        Route(f"{t}/", pages.tenant_mtd),
        Route(f"{t}/documents", pages.tenant_documents),
        Route(f"{t}{doc}", pages.tenant_document),
        Route(f"{t}{doc}/{{file}}", pages.tenant_document_file),
        Route(f"{t}/compare", pages.tenant_compare),
        Route(f"{pv}/", provider.months),
        Route(f"{pv}/months/{{month}}", provider.month_detail),
        Route(f"{pv}/months/{{month}}/files/{{name}}", provider.download),
        Route(f"{pv}/tenants", provider.tenants),
        Route(f"{pv}/revenue", provider.revenue),
        Route(f"{pv}/tenants/{{tenant}}/", provider.tenant_mtd),
        Route(f"{pv}/tenants/{{tenant}}/documents", provider.tenant_documents),
        Route(f"{pv}/tenants/{{tenant}}{doc}", provider.tenant_document),
        Route(f"{pv}/tenants/{{tenant}}{doc}/{{file}}", provider.tenant_document_file),
        Route(f"{pv}/tenants/{{tenant}}/compare", provider.tenant_compare),
    ]


def create_app(config: ProviderConfig, *, settings: PortalSettings | None = None) -> Any:
    """The portal for ``config`` (an ASGI app; ``app.state.portal`` holds its state)."""
    app = Starlette(
        routes=[*_pages(), *api.routes()],
        exception_handlers={404: _not_found, 405: _method},
    )
    app.state.portal = build_portal(config, settings)
    return SecurityHeaders(app)
