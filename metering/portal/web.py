"""What every portal request shares: the portal's state, who is asking, CSRF, responses."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qs, urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metering.portal.apikeys import ApiKeys
from metering.portal.sessions import RateLimiter, Session, SessionStore, same_token
from metering.portal.settings import PortalSettings
from metering.portal.signin import Principal, VcdSignIn
from metering.readmodel import BillingReadModel

log = logging.getLogger("metering.portal")
Endpoint = Callable[[Request], Awaitable[Response]]
LOGIN_CSRF = "login_csrf"
P = ParamSpec("P")
R = TypeVar("R")


def off_loop(work: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run ``work`` (blocking: read-model builds and queries, SQLite, a VCD sign-in) in the
    thread pool, so that a month's build of a minute never stalls the event loop and with it
    every other request (docs/portal.md, "Concurrency"). Request bodies are read on the loop,
    before: ``await form(request)`` is never called from inside."""

    @functools.wraps(work)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run_in_threadpool(work, *args, **kwargs)

    return run


@dataclass
class Portal:
    """Everything the handlers need, built once by :func:`metering.portal.create_app`."""

    settings: PortalSettings
    model: BillingReadModel
    sessions: SessionStore
    limiter: RateLimiter
    signin: VcdSignIn
    keys: ApiKeys
    env: jinja2.Environment

    @property
    def cookie(self) -> str:
        return "__Host-metering" if self.settings.secure_cookies else "metering"


def portal(request: Request) -> Portal:
    found: Portal = request.app.state.portal
    return found


def session_of(request: Request) -> Session | None:
    p = portal(request)
    return p.sessions.get(request.cookies.get(p.cookie))


def set_cookie(response: Response, p: Portal, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=p.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


async def form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (first value of each field)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def same_origin(request: Request) -> bool:
    """A state change must come from this site: ``Origin`` (or ``Referer``) names our host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not sent by every client; the CSRF token still has to match
    host = request.headers.get("host", "")
    rest = origin.split("://", 1)[-1]
    return rest.split("/", 1)[0] == host


def csrf_ok(request: Request, session: Session, fields: dict[str, str]) -> bool:
    given = fields.get("csrf_token") or request.headers.get("x-csrf-token")
    return same_origin(request) and same_token(given, session.csrf)


PAGE_ROWS = 100  # rows of a long provider table per page (5,000 tenants would be megabytes)


@dataclass(frozen=True)
class Pager:
    """Which rows of a long table a page shows (``?offset=``), and links to its neighbours."""

    offset: int
    total: int
    path: str
    query: tuple[tuple[str, str], ...]  # the request's other parameters, kept in the links
    size: int = PAGE_ROWS

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)

    def _url(self, offset: int) -> str:
        return f"{self.path}?{urlencode([*self.query, ('offset', str(offset))])}"

    @property
    def previous(self) -> str | None:
        return self._url(max(0, self.offset - self.size)) if self.offset > 0 else None

    @property
    def next(self) -> str | None:
        return self._url(self.offset + self.size) if self.last < self.total else None


def paged(request: Request, items: list[Any]) -> tuple[list[Any], Pager]:
    """The rows of ``items`` a page shows, at the request's ``offset`` (a bad one: the first)."""
    text = request.query_params.get("offset", "0")
    offset = int(text) if text.isdigit() else 0
    offset = min(offset, max(0, len(items) - 1))
    query = tuple((k, v) for k, v in request.query_params.multi_items() if k != "offset")
    pager = Pager(offset, len(items), request.url.path, query, PAGE_ROWS)
    return items[offset : pager.last], pager


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    p = portal(request)
    session = session_of(request)
    html = p.env.get_template(f"portal/{template}").render(
        principal=session.principal if session else None,
        csrf_token=session.csrf if session else "",
        provider_name=p.model.settings.branding.legal_name or p.model.config.name,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return page(request, "error.html.j2", status=status, status_code=status, message=message)


def require(kind: str | None = None) -> Callable[[Callable[..., Awaitable[Response]]], Endpoint]:
    """Wrap a page handler: a live session (of ``kind`` if given) or the sign-in page."""

    def wrap(handler: Callable[..., Awaitable[Response]]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            session = session_of(request)
            if session is None:
                return Response(status_code=303, headers={"Location": "/login"})
            if kind is not None and session.principal.kind != kind:
                return error_page(request, 404, "Not found.")
            return await handler(request, session.principal)

        return endpoint

    return wrap


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


class SecurityHeaders:
    """Headers on every answer: no framing, no sniffing, a strict CSP (no scripts at all),
    no referrer, and no caching of anything behind a sign-in."""

    CSP = (
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'"
    )
    HEADERS = (
        (b"content-security-policy", CSP),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our
        # own form posts, and the Origin check below could not tell them from a sandbox
        (b"referrer-policy", b"same-origin"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.HEADERS if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def principal_for_api(request: Request) -> Principal | None:
    """An API caller: a provider-issued API key (``Authorization: Bearer``), else a session."""
    p = portal(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return p.keys.verify(auth[7:].strip())
    session = session_of(request)
    return session.principal if session else None
