"""The portal's ASGI app: sign-in, tenant pages, provider pages and the API in one Starlette
application (docs/portal.md).

Why Starlette and not FastAPI: Starlette and uvicorn are already dependencies (the simulator
runs on them), the API is ten read-only GET endpoints, and its OpenAPI document is generated
from the same route table that serves it (metering.portal.openapi), so FastAPI's one gain —
a generated document — costs a new dependency tree (FastAPI, pydantic models of every body)
for little.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from metering.config import ProviderConfig
from metering.portal import api, keys_page, pages, provider
from metering.portal.apikeys import ApiKeys
from metering.portal.sessions import RateLimiter, SessionStore
from metering.portal.settings import PortalSettings, load_portal_settings
from metering.portal.signin import VcdSignIn
from metering.portal.web import Portal, SecurityHeaders, error_page
from metering.portal.webhooks import Webhooks
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
        Route(f"{pv}/margin", provider.margin),
        Route(f"{pv}/webhooks", provider.webhooks),
        Route(f"{pv}/api-keys", keys_page.api_keys, methods=["GET"]),
        Route(f"{pv}/api-keys", keys_page.create_key, methods=["POST"]),
        Route(f"{pv}/api-keys/{{key_id}}/revoke", keys_page.revoke_key, methods=["POST"]),
        Route(f"{pv}/tenants/{{tenant}}/", provider.tenant_mtd),
        Route(f"{pv}/tenants/{{tenant}}/documents", provider.tenant_documents),
        Route(f"{pv}/tenants/{{tenant}}{doc}", provider.tenant_document),
        Route(f"{pv}/tenants/{{tenant}}{doc}/{{file}}", provider.tenant_document_file),
        Route(f"{pv}/tenants/{{tenant}}/compare", provider.tenant_compare),
    ]


WEBHOOK_INTERVAL_SECONDS = 30.0
WARM_INTERVAL_SECONDS = 60.0
log = logging.getLogger("metering.portal")


async def _deliver_forever(portal: Portal, hooks: Webhooks) -> None:
    """Discover and deliver webhooks every interval, off the event loop's thread."""
    while True:
        try:
            await asyncio.to_thread(hooks.run_once, portal.model)
        except Exception as exc:  # keep serving pages; say why once per round
            log.error("webhooks: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(WEBHOOK_INTERVAL_SECONDS)


async def _warm_forever(portal: Portal) -> None:
    """Build the current month's tables and the register's listing at start, and again
    soon after rating or a close changed them, off the event loop's thread: at 5,000 tenants
    a month's build takes seconds, which the first page after a change would wait for."""
    while True:
        try:
            await asyncio.to_thread(portal.model.warm)
        except Exception as exc:  # the pages build on demand and say what is wrong
            log.error("read model: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(WARM_INTERVAL_SECONDS)


def _lifespan(portal: Portal) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_warm_forever(portal))]
        if portal.settings.webhooks:
            hooks = Webhooks(portal.settings.state_path, portal.settings.webhooks)
            tasks.append(asyncio.create_task(_deliver_forever(portal, hooks)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


def create_app(config: ProviderConfig, *, settings: PortalSettings | None = None) -> Any:
    """The portal for ``config`` (an ASGI app; ``app.state.portal`` holds its state). With
    ``[[portal.webhooks]]`` configured, it delivers webhooks while it runs."""
    portal = build_portal(config, settings)
    app = Starlette(
        routes=[*_pages(), *api.routes()],
        exception_handlers={404: _not_found, 405: _method},
        lifespan=_lifespan(portal),
    )
    app.state.portal = portal
    return SecurityHeaders(app)
