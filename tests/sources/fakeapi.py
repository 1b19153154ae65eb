"""A small scripted HTTP API for the client-factory and paging tests.

The simulated provider exercises the collectors end to end; this server lets a test script
exact faults (a 503 with Retry-After on the 2nd call, a page that links back to page 1) so
each guard is shown to work in isolation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metering.config import Secret, SiteConfig
from metering.sources.http import SiteClient

BASE = "http://fake/az1"
PASSWORD = "s3cret-pa55"  # a test password, asserted never to leak
VERSIONS_XML = (
    '<SupportedVersions xmlns="http://www.vmware.com/vcloud/v1.5">'
    "<VersionInfo><Version>39.0</Version></VersionInfo></SupportedVersions>"
)


@dataclass
class FakeApi:
    """Routes answer from ``handlers[path]`` (request, call number) → Response."""

    handlers: dict[str, Callable[[Request, int], Response]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    slow_first_call: dict[str, float] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0

    def app(self) -> Starlette:
        async def login(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if "Basic" not in auth:
                return Response(status_code=401)
            token = f"tok{len(self.tokens) + 1}"
            self.tokens.append(token)
            return JSONResponse({}, headers={"X-VMWARE-VCLOUD-ACCESS-TOKEN": token})

        async def versions(_: Request) -> Response:
            return Response(VERSIONS_XML, media_type="application/*+xml")

        async def any_path(request: Request) -> Response:
            path = "/" + request.path_params["rest"]
            self.calls[path] = self.calls.get(path, 0) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(0.005)
                handler = self.handlers.get(path)
                if handler is None:
                    return Response(status_code=404)
                return handler(request, self.calls[path])
            finally:
                self.in_flight -= 1

        inner = Starlette(
            routes=[
                Route("/az1/vcd/cloudapi/1.0.0/sessions/provider", login, methods=["POST"]),
                Route("/az1/vcd/api/versions", versions),
                Route("/az1/{svc}/{rest:path}", any_path),
            ]
        )
        slow: dict[str, int] = {}

        async def app(scope: Any, receive: Any, send: Any) -> None:
            # Delay the first call of a path before routing (a slow answer).
            path = "/" + scope["path"].split("/", 3)[-1]
            if path in self.slow_first_call and not slow.get(path):
                slow[path] = 1
                await asyncio.sleep(self.slow_first_call[path])
            await inner(scope, receive, send)

        return app  # type: ignore[return-value]

    def client(
        self, *, concurrency: int = 4, sleeps: list[float] | None = None, timeout: float = 30.0
    ) -> SiteClient:
        site = SiteConfig(
            name="az1",
            vcd_url=f"{BASE}/vcd",
            vcd_user="admin",
            vcd_password=Secret(PASSWORD),
            ose_url=f"{BASE}/ose",
            cloudian_url=f"{BASE}/cloudian",
            cloudian_user="sysadmin",
            cloudian_password=Secret(PASSWORD),
            concurrency=concurrency,
            timeout_seconds=timeout,
        )
        record = sleeps if sleeps is not None else []

        async def sleep(seconds: float) -> None:
            record.append(seconds)

        return SiteClient(site, transport=httpx.ASGITransport(self.app()), sleep=sleep, seed=1)


def js(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )
