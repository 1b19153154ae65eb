"""The simulator's ASGI app: every site's APIs under ``/<site>/…``, control under ``/_sim/``.

Faults (:mod:`metering.simulator.faults`) are applied by :class:`FaultMiddleware` to site
endpoints only; the control endpoints always answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metering.simulator import routes_cloudian, routes_ose, routes_tenant, routes_vcd
from metering.simulator.faults import PAGING_KINDS, FaultRule
from metering.simulator.simulation import Simulation
from metering.window import Window, parse_utc


def create_app(sim: Simulation) -> ASGIApp:
    """A Starlette app serving ``sim`` (usable with ``httpx.ASGITransport`` or uvicorn)."""
    control = [
        Route("/_sim/clock", _clock(sim), methods=["GET", "POST"]),
        Route("/_sim/truth", _truth(sim)),
        Route("/_sim/faults", _faults(sim), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/sessions", _sessions(sim), methods=["DELETE"]),
    ]
    services = {
        "vcd": routes_vcd.routes(sim) + routes_tenant.routes(sim),
        "ose": routes_ose.routes(sim),
        "cloudian": routes_cloudian.routes(sim),
    }
    everything = Starlette(routes=[*control, *(r for rs in services.values() for r in rs)])
    per_service = {name: Starlette(routes=rs) for name, rs in services.items()}
    return FaultMiddleware(ServiceDispatch(per_service, everything), sim)


class ServiceDispatch:
    """Hands ``/<site>/<service>/...`` to that service's app, anything else to ``fallback``.

    Starlette tries its routes one after the other (a regex each); with every service in
    one app a Cloudian ``/usage`` call was matched against ~30 patterns first. Each service's
    app holds the same routes as the whole one, so answers (404s included) are the same.
    """

    def __init__(self, services: Mapping[str, ASGIApp], fallback: ASGIApp) -> None:
        self.services = services
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts: list[str] = scope.get("path", "").split("/", 3) if scope["type"] == "http" else []
        app = self.services.get(parts[2], self.fallback) if len(parts) > 2 else self.fallback
        await app(scope, receive, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        return None


def _clock(sim: Simulation) -> Any:
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if not isinstance(body, dict) or not isinstance(body.get("now"), str):
                return _error(400, 'expected {"now": "<ISO time with zone>"}')
            try:
                sim.set_now(parse_utc(body["now"]))
            except ValueError as exc:
                return _error(400, f"now: {exc}")
        return JSONResponse({"now": sim.now.isoformat(), "hour": sim.hour})

    return endpoint


def _truth(sim: Simulation) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            start = parse_utc(request.query_params["start"])
            end = parse_utc(request.query_params["end"])
            rows = sim.truth(Window(start, end))
        except KeyError:
            return _error(400, "start and end (ISO times) are required")
        except ValueError as exc:
            return _error(400, str(exc))
        return JSONResponse({"start": start.isoformat(), "end": end.isoformat(), "rows": rows})

    return endpoint


def _faults(sim: Simulation) -> Any:
    async def endpoint(request: Request) -> Response:
        if request.method == "DELETE":
            sim.faults.clear()
        elif request.method == "POST":
            body = await _json_body(request)
            rules = body if isinstance(body, list) else [body]
            try:
                for rule in rules:
                    if not isinstance(rule, dict):
                        raise ValueError("each fault is a JSON object")
                    parsed = FaultRule.from_json(rule)
                    sim.faults.rules.append(parsed)
            except (TypeError, ValueError) as exc:
                return _error(400, str(exc))
        return JSONResponse({"faults": sim.faults.to_json()})

    return endpoint


def _sessions(sim: Simulation) -> Any:
    async def endpoint(request: Request) -> Response:
        sim.expire_tokens()
        return Response(status_code=204)

    return endpoint


class FaultMiddleware:
    """Applies the simulation's fault plan to every site request."""

    def __init__(self, app: ASGIApp, sim: Simulation) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        rule = self.sim.faults.decide(scope["method"], path, query, self.sim.now)
        if rule is None:
            await self.app(scope, receive, send)
            return
        await self._apply(rule, scope, receive, send)

    async def _apply(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        kind = rule.kind
        if kind in ("429", "500", "502", "503", "site_down"):
            status = 503 if kind == "site_down" else int(kind)
            headers = {"Retry-After": str(rule.retry_after)} if kind == "429" else {}
            response = JSONResponse({"error": f"simulated fault {kind}"}, status, headers)
            await response(scope, receive, send)
        elif kind == "slow":
            await asyncio.sleep(rule.delay)
            await self.app(scope, receive, send)
        elif kind in PAGING_KINDS:
            scope.setdefault("state", {})["fault"] = kind
            await self.app(scope, receive, send)
        else:
            await self._mangle(kind, scope, receive, send)

    async def _mangle(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, then send its answer cut short, garbled, or not at all."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if kind == "drop":
            cut = body[: len(body) // 2]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": cut, "more_body": True})
            raise httpx.RemoteProtocolError("simulated fault: connection dropped mid-response")
        body = body[: max(1, len(body) // 2)] if kind == "truncate" else b'{"values": [ oops'
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
