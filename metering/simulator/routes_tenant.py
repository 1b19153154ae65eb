"""VCD sign-in of org (tenant) users at one site (``/<site>/vcd/...``).

The portal (metering/portal) signs tenants in against these, as it would against a real
VCD (sources in docs/collectors.md, "Portal sign-in"):

- ``POST /cloudapi/1.0.0/sessions``, ``Authorization: Basic base64(user@org:password)`` →
  200, header ``X-VMWARE-VCLOUD-ACCESS-TOKEN``, the session JSON (``user``, ``org``,
  ``roles`` …); wrong credentials, an org not at this site or the System org → 401.
- ``POST /oauth/tenant/{org}/token`` with ``grant_type=refresh_token`` and
  ``refresh_token=<API token>`` (query or form body, as go-vcloud-director's
  ``GetBearerTokenFromApiToken`` sends them) → ``{access_token, token_type, expires_in}``;
  a wrong token → 400 ``{"error": "invalid_grant"}`` (RFC 6749 §5.2).
- ``GET /cloudapi/1.0.0/sessions/current`` with a tenant bearer token → the session JSON.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metering.simulator.routes_vcd import (
    Handler,
    basic_login,
    session_created,
    session_site,
    site_of,
    vcd_error,
)
from metering.simulator.simulation import Simulation

_MEDIA = "application/json;version=38.0"


def _urn(kind: str, name: str) -> str:
    digest = hashlib.sha256(f"{kind}:{name.lower()}".encode()).hexdigest()
    parts = (digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])
    return f"urn:vcloud:{kind}:{'-'.join(parts)}"


def session_body(sim: Simulation, site: str, org: str, token: str) -> dict[str, Any]:
    user = sim.org_credentials(org)["user"]
    return {
        "id": f"urn:vcloud:session:{hashlib.sha256(token.encode()).hexdigest()[:12]}",
        "site": {"name": site, "id": f"urn:vcloud:site:{site}"},
        "user": {"name": user, "id": _urn("user", f"{org}/{user}")},
        "org": {"name": org, "id": _urn("org", f"{site}/{org}")},
        "location": site,
        "roles": ["Organization Administrator"],
        "roleRefs": [{"name": "Organization Administrator", "id": "urn:vcloud:role:orgadmin"}],
        "sessionIdleTimeoutMinutes": max(1, int(sim.token_lifetime // 60)),
    }


def _canonical_org(sim: Simulation, site: str, org: str) -> str | None:
    for spec in sim.world.inventory.orgs:
        if spec.name.lower() == org.lower() and site in spec.sites:
            return spec.name
    return None


def _login(sim: Simulation) -> Handler:
    async def endpoint(request: Request) -> Response:
        login = basic_login(request, sim)
        if isinstance(login, Response):
            return login
        org = _canonical_org(sim, login.site, login.org) if login.org else None
        expected = sim.org_credentials(org) if org else None
        if (
            org is None
            or expected is None
            or login.user != expected["user"]
            or not hmac.compare_digest(login.password.encode(), expected["password"].encode())
        ):
            return vcd_error(401, "UNAUTHORIZED", "Invalid credentials")
        token = sim.org_login(login.site, org)
        return session_created(session_body(sim, login.site, org, token), token)

    return endpoint


def _oauth_token(sim: Simulation) -> Handler:
    async def endpoint(request: Request) -> Response:
        site = site_of(request, sim)
        if site is None:
            return vcd_error(404, "NOT_FOUND", "no such site")
        params = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        params.update(request.query_params)
        org = _canonical_org(sim, site, str(request.path_params["org"]))
        given = params.get("refresh_token", "")
        if (
            params.get("grant_type") != "refresh_token"
            or org is None
            or not hmac.compare_digest(
                given.encode(), sim.org_credentials(org)["api_token"].encode()
            )
        ):
            refused = {"error": "invalid_grant", "error_description": "invalid refresh token"}
            return JSONResponse(refused, status_code=400)
        token = sim.org_login(site, org)
        body: dict[str, object] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(sim.token_lifetime),
        }
        return JSONResponse(body)

    return endpoint


def _current(sim: Simulation) -> Handler:
    async def endpoint(request: Request) -> Response:
        site = session_site(request, sim)
        if isinstance(site, Response):
            return site
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        org = sim.org_session(token, site) if token else None
        if org is None:
            return vcd_error(401, "UNAUTHORIZED", "Either no security context or it is invalid")
        return JSONResponse(session_body(sim, site, org, token), media_type=_MEDIA)

    return endpoint


def routes(sim: Simulation) -> list[Route]:
    base = "/{site}/vcd"
    return [
        Route(f"{base}/cloudapi/1.0.0/sessions", _login(sim), methods=["POST"]),
        Route(f"{base}/cloudapi/1.0.0/sessions/current", _current(sim)),
        Route(f"{base}/oauth/tenant/{{org}}/token", _oauth_token(sim), methods=["POST"]),
    ]
