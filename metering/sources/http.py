"""The one HTTP client factory every collector uses.

:class:`SiteClient` wraps one httpx transport (a connection pool) per site and adds what real
provider APIs need: a bound on concurrent requests per site, timeouts, retries with
exponential backoff and full jitter that honour ``Retry-After``, a fresh VCD session on 401,
TLS verification on by default (with an optional CA bundle), and errors that never carry a
secret (credentials travel only in headers; messages name the method, the path and the
status).

It also decides what counts as an answer (docs/collectors.md, "What an answer must be"):
requests go only to the origin (scheme, host, port) configured for the service, so a link
an API hands back cannot carry a token elsewhere; a GET for JSON is accepted only as a
200 with a JSON content type and a body that parses within :data:`MAX_DEPTH` levels and
:data:`~metering.sources.pool.MAX_ANSWER_BYTES` (a 204 only where the caller says the API
answers "nothing" that way); a redirect is never followed and never read as "nothing".

Services of a site: ``vcd`` (legacy ``/api`` and ``/cloudapi``, JWT bearer after a provider
login), ``ose`` (the same VCD JWT) and ``cloudian`` (HTTP Basic).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from metering.config import SiteConfig
from metering.errors import SourceDataError, SourceUnavailable
from metering.sources.answers import (
    MAX_DEPTH,
    UNREADABLE,
    BadAnswer,
    OffOrigin,
    decode_json,
    json_depth_ok,
    origin_of,
    resolve_url,
)
from metering.sources.pool import MAX_ANSWER_BYTES, site_transport
from metering.sources.retry import (
    RETRY_STATUS,
    RetryableResponse,
    RetryPolicy,
    parse_retry_after,
)
from metering.sources.tls import ssl_verify
from metering.sources.versions import choose_version, parse_versions

Sleep = Callable[[float], Awaitable[None]]
log = logging.getLogger(__name__)
T = TypeVar("T")
__all__ = [  # the answer checks are used through this module too
    "MAX_DEPTH",
    "BadAnswer",
    "NotFound",
    "OffOrigin",
    "RetryPolicy",
    "SiteClient",
    "json_depth_ok",
    "origin_of",
    "parse_retry_after",
    "run_loop",
    "ssl_verify",
]
_DEFAULT_HEADERS = {"User-Agent": "metering", "Accept-Encoding": "gzip, deflate"}


class NotFound(SourceDataError):
    """HTTP 404: the thing (or the entity type) does not exist on this site."""


def _header(value: str) -> bytes:
    return value.encode("ascii") if value.isascii() else value.encode()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class Stats:
    """Counters a run reports (requests, retries, re-logins)."""

    requests: int = 0
    retries: int = 0
    relogins: int = 0


class SiteClient:
    """HTTP access to one site's VCD, OSE and Cloudian, shared by that site's collectors."""

    def __init__(
        self,
        site: SiteConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        seed: int | None = None,
    ) -> None:
        self.site = site
        self.retry = retry or RetryPolicy()
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = random.Random(seed)  # noqa: S311 - jitter, not security
        self._limit = asyncio.Semaphore(site.concurrency)
        self._token: str | None = None
        self._login_lock = asyncio.Lock()
        self.api_version: str | None = None  # negotiated from /api/versions before login
        self.versions_offered: tuple[str, ...] = ()
        self.stats = Stats()
        self._timeout = httpx.Timeout(site.timeout_seconds).as_dict()
        # Requests go straight to the transport (connection pool): we need none of the
        # client layer's cookie jar, auth flows or redirects (credentials travel in
        # headers, redirects are not followed), and skipping it saves ~30 % of the CPU of
        # each request, which dominates a daily run of ~20,000 small per-tenant calls.
        verify = ssl_verify(site)  # a bad CA bundle fails the site even with a test transport
        if transport is None:
            urls = [url for url in (site.vcd_url, site.ose_url, site.cloudian_url) if url]
            proxy = site.proxy.reveal() if site.proxy is not None else None
            transport = site_transport(urls, verify, proxy)
        self._transport = transport
        services = {"vcd": site.vcd_url, "ose": site.ose_url, "cloudian": site.cloudian_url}
        self._origins = {name: origin_of(url) for name, url in services.items() if url}

    async def __aenter__(self) -> SiteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    def base(self, service: str) -> str:
        url = {"vcd": self.site.vcd_url, "ose": self.site.ose_url}.get(service)
        if service == "cloudian":
            url = self.site.cloudian_url
        if url is None:
            raise SourceUnavailable(f"no {service}_url configured", site=self.site.name)
        return url

    def resolve(self, service: str, path_or_url: str, *, relative_to: str | None = None) -> str:
        """The absolute URL of a path of ``service``, or of a link an answer gave (resolved
        against ``relative_to``); off the service's origin it raises :class:`OffOrigin`."""
        return resolve_url(
            self.base(service), self._origins[service], path_or_url, relative_to, self.site.name
        )

    # -- version and authentication ---------------------------------------------------------

    async def negotiate(self) -> str:
        """The VCD API version of this site: the highest one ``/api/versions`` offers that
        metering has verified (and, with ``api_version`` set, not above it). Asked once."""
        if self.api_version is not None:
            return self.api_version
        url = self.base("vcd") + "/api/versions"
        headers = {"Accept": "application/*+xml"}  # no version, no auth (API reference)
        response = await self._send("GET", url, headers, None, retry_401=False)
        offered = parse_versions(response.content, site=self.site.name)
        self.versions_offered = offered
        self.api_version = choose_version(offered, self.site.api_version, site=self.site.name)
        return self.api_version

    async def login(self) -> None:
        """Log in now (``check-site``); collections log in on their first request."""
        await self._login(None)

    async def _login(self, stale: str | None) -> str:
        """A VCD provider session token; only one login at a time, none if already renewed."""
        async with self._login_lock:
            if self._token is not None and self._token != stale:
                return self._token
            version = await self.negotiate()
            user = (
                self.site.vcd_user if "@" in self.site.vcd_user else f"{self.site.vcd_user}@System"
            )
            headers = {
                "Authorization": _basic(user, self.site.vcd_password.reveal()),
                "Accept": f"application/json;version={version}",
            }
            url = self.base("vcd") + "/cloudapi/1.0.0/sessions/provider"
            response = await self._send("POST", url, headers, None, retry_401=True)
            if response.status_code == 401:
                raise SourceUnavailable(
                    f"VCD login as {user} refused (401): check vcd_user and the password",
                    site=self.site.name,
                )
            token: str | None = response.headers.get("X-VMWARE-VCLOUD-ACCESS-TOKEN")
            if not token:
                raise SourceDataError(
                    "VCD login answered without an access token", site=self.site.name
                )
            if stale is not None:
                self.stats.relogins += 1
            self._token = token
            return token

    async def _auth_headers(self, service: str) -> dict[str, str]:
        if service == "cloudian":
            password = self.site.cloudian_password
            if password is None:
                raise SourceUnavailable("no cloudian_password configured", site=self.site.name)
            return {"Authorization": _basic(self.site.cloudian_user, password.reveal())}
        token = self._token or await self._login(None)
        return {"Authorization": f"Bearer {token}"}

    def _accept(self, service: str, path: str) -> str:
        if service == "vcd" and path.startswith("/api/"):
            return f"application/*+json;version={self.api_version}"
        if service == "vcd":
            return f"application/json;version={self.api_version}"
        return "application/json"

    # -- requests ---------------------------------------------------------------------------

    async def get(
        self,
        service: str,
        path_or_url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET with auth, retries and re-login; returns the (2xx) response.

        ``path_or_url`` is a path of the service, or an absolute URL on its origin.
        ``headers`` adds request headers (a VCD tenant context); they never replace auth
        or Accept.
        """
        base = self.base(service)
        url = self.resolve(service, path_or_url)
        path = url[len(base) :] if url.startswith(base) else urlsplit(url).path
        for relogin in (False, True):
            sent = {**(headers or {}), **await self._auth_headers(service)}
            sent["Accept"] = self._accept(service, path)
            response = await self._send("GET", url, sent, params, retry_401=True)
            if response.status_code != 401:
                return response
            if service == "cloudian" or relogin:
                break
            await self._login(sent["Authorization"].removeprefix("Bearer "))
        raise SourceUnavailable(f"GET {path}: not authorised (401)", site=self.site.name)

    async def get_json(
        self,
        service: str,
        path_or_url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        allow_empty: bool = False,
    ) -> tuple[Any, httpx.Response]:
        """GET and decode a JSON answer; an unreadable or empty body is retried like a 5xx.

        Only a 200 with a JSON content type is an answer. With ``allow_empty`` (a call where
        the API says "nothing here" without a body, as Cloudian does) a 204 or a 200 with an
        empty body decodes as ``None`` and the caller decides what it means; otherwise a 204
        fails like any other status, and an empty body is retried, then fails.
        """
        last = "no attempt made"
        for attempt in range(self.retry.attempts):
            response = await self.get(service, path_or_url, params, headers)
            where = f"GET {urlsplit(str(response.request.url)).path}"
            if allow_empty and (response.status_code == 204 or not response.content):
                return None, response
            if response.status_code != 200:
                raise BadAnswer(
                    f"{where}: HTTP {response.status_code} is not an answer to this call",
                    site=self.site.name,
                )
            if response.content:
                body = decode_json(where, response, self.site.name)
                if body is not UNREADABLE:
                    return body, response
                last = "unreadable JSON"
            else:
                last = "an empty body"
            self.stats.retries += 1
            await self._sleep(self.retry.delay(attempt, None, self._rng))
        raise SourceUnavailable(
            f"GET {path_or_url.split('?', 1)[0]}: {last} after {self.retry.attempts} attempts",
            site=self.site.name,
        )

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        params: Mapping[str, Any] | None,
        *,
        retry_401: bool,
    ) -> httpx.Response:
        path = urlsplit(url).path
        if origin_of(url) not in self._origins.values():  # nothing leaves the site's origins
            raise OffOrigin(f"{method} {path}: not a URL of this site", site=self.site.name)
        problem = "no attempt made"
        for attempt in range(self.retry.attempts):
            retry_after: float | None = None
            try:
                async with self._limit:
                    self.stats.requests += 1
                    # The overall deadline also holds for transports without their own
                    # timeouts (the in-process ASGI transport used against the simulator).
                    async with asyncio.timeout(self.site.timeout_seconds):
                        response = await self._exchange(method, url, headers, params)
                self._check(response, method, path, retry_401)
                return response
            except RetryableResponse as exc:
                problem, retry_after = str(exc), exc.retry_after
            except (httpx.TransportError, TimeoutError) as exc:
                # The class and what the transport says (a size limit, a parser's complaint);
                # transport messages carry no header, so no credential.
                detail = str(exc)[:200]
                problem = f"{method} {path}: {type(exc).__name__}" + (
                    f" ({detail})" if detail else ""
                )
            if attempt + 1 < self.retry.attempts:
                self.stats.retries += 1
                wait = self.retry.delay(attempt, retry_after, self._rng)
                # Method, path and status only: never a header, so never a credential.
                log.info(
                    "site %s: %s; retry %d in %.2fs", self.site.name, problem, attempt + 1, wait
                )
                await self._sleep(wait)
        raise SourceUnavailable(
            f"{problem} (gave up after {self.retry.attempts} attempts)", site=self.site.name
        )

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], params: Mapping[str, Any] | None
    ) -> httpx.Response:
        """One request through the transport, its body read in full (then the connection
        goes back to the pool)."""
        request = httpx.Request(
            method,
            url,
            params=params,
            # A value outside ASCII (an org name in a tenant context) goes as UTF-8 bytes.
            headers=[(k.encode(), _header(v)) for k, v in {**_DEFAULT_HEADERS, **headers}.items()],
            extensions={"timeout": self._timeout},
        )
        response = await self._transport.handle_async_request(request)
        response.request = request
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():  # decoded: a gzip bomb stops here too
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise BadAnswer(
                        f"{method} {urlsplit(url).path}: answer larger than the "
                        f"{MAX_ANSWER_BYTES / 2**20:g} MiB limit",
                        site=self.site.name,
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        response._content = b"".join(chunks)  # what aread() would have kept
        return response

    def _check(self, response: httpx.Response, method: str, path: str, retry_401: bool) -> None:
        status = response.status_code
        if status in RETRY_STATUS:
            raise RetryableResponse(
                f"{method} {path}: HTTP {status}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 401 and retry_401:
            return
        if 300 <= status < 400:  # never followed: a redirect could carry the token elsewhere
            raise BadAnswer(
                f"{method} {path}: HTTP {status} redirect, not followed", site=self.site.name
            )
        if status == 404:
            raise NotFound(f"{method} {path}: HTTP 404", site=self.site.name)
        if status == 406 and self.api_version is not None:
            raise SourceDataError(
                f"{method} {path}: HTTP 406, VCD does not accept API version {self.api_version}",
                site=self.site.name,
            )
        if status >= 400:
            raise SourceDataError(f"{method} {path}: HTTP {status}", site=self.site.name)


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a collection on uvloop when it is installed, else on asyncio's own loop.

    A daily run is ~18,000 small requests; uvloop's C event loop (and its transports) cuts
    the per-request cost of the loop itself. Behaviour is the same on either loop.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
