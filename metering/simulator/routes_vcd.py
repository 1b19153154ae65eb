"""VCD endpoints of one site (``/<site>/vcd/...``): login, queries, orgs, sizing policies,
and the RDE / apps collections used by CSE, DSE and ALP."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metering.simulator import catalog, paging, views_apps, views_disks, views_network, views_vcd
from metering.simulator.simulation import VCD_USER, Simulation
from metering.simulator.views_vcd import View

Handler = Callable[[Request], Awaitable[Response]]


def vcd_error(status: int, code: str, message: str) -> JSONResponse:
    body = {"minorErrorCode": code, "message": message, "stackTrace": None}
    return JSONResponse(body, status_code=status, media_type="application/json;version=38.0")


def site_of(request: Request, sim: Simulation) -> str | None:
    site = str(request.path_params["site"])
    return site if site in sim.sites else None


def accept_version(request: Request) -> str | None:
    """The ``version=`` parameter of the ``Accept`` header, if any."""
    for media in request.headers.get("Accept", "").split(","):
        for param in media.split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "version" and value.strip():
                return value.strip()
    return None


def version_refused(request: Request, sim: Simulation, site: str) -> Response | None:
    """406 when ``Accept`` names no version, or one this site's VCD does not offer."""
    version = accept_version(request)
    if version is None or version not in sim.api_versions[site]:
        return vcd_error(
            406,
            "NOT_ACCEPTABLE",
            f"The request has invalid accept header: Invalid API version requested ({version})",
        )
    return None


@dataclass(frozen=True)
class BasicLogin:
    """The credentials of a VCD session login: ``Authorization: Basic user@org:password``."""

    site: str
    user: str
    org: str
    password: str


def session_site(request: Request, sim: Simulation) -> str | Response:
    """The site of a sessions endpoint call: known (else 404) and asked in an API version
    it offers (else 406)."""
    site = site_of(request, sim)
    if site is None:
        return vcd_error(404, "NOT_FOUND", "no such site")
    refused = version_refused(request, sim, site)
    return site if refused is None else refused


def basic_login(request: Request, sim: Simulation) -> BasicLogin | Response:
    """The common start of ``POST /cloudapi/1.0.0/sessions[/provider]``: a known site, an
    offered API version, then the Basic credentials (empty when unreadable); a Response when
    the login is refused before its credentials are judged."""
    site = session_site(request, sim)
    if isinstance(site, Response):
        return site
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Basic "):
        return BasicLogin(site, "", "", "")
    try:
        user_org, _, password = base64.b64decode(auth[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        user_org, password = "", ""
    user, _, org = user_org.rpartition("@")
    return BasicLogin(site, user, org, password)


def session_created(body: dict[str, Any], token: str) -> JSONResponse:
    """A session's answer: its body and the access token in VCD's two headers."""
    headers = {"X-VMWARE-VCLOUD-ACCESS-TOKEN": token, "X-VMWARE-VCLOUD-TOKEN-TYPE": "Bearer"}
    return JSONResponse(body, headers=headers, media_type="application/json;version=38.0")


def view(request: Request, sim: Simulation, service: str) -> View:
    site = str(request.path_params["site"])
    base = f"{str(request.base_url).rstrip('/')}/{site}/{service}"
    return View(sim.world, sim.start, sim.site_index(site), sim.hour, base)


def bearer(sim: Simulation, service: str, handler: Callable[[Request, View], Any]) -> Handler:
    """Wrap a handler: known site, then a valid VCD bearer token of that site (else 401)."""

    async def endpoint(request: Request) -> Response:
        site = site_of(request, sim)
        if site is None:
            return vcd_error(404, "NOT_FOUND", "no such site")
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if not token or not sim.token_valid(token, site):
            return vcd_error(401, "UNAUTHORIZED", "Either no security context or it is invalid")
        refused = version_refused(request, sim, site) if service == "vcd" else None
        if refused is not None:
            return refused
        try:
            result: Response = handler(request, view(request, sim, service))
        except paging.BadRequest as exc:
            return vcd_error(400, "BAD_REQUEST", str(exc))
        return result

    return endpoint


def _versions(sim: Simulation) -> Handler:
    async def endpoint(request: Request) -> Response:
        site = site_of(request, sim)
        if site is None:
            return vcd_error(404, "NOT_FOUND", "no such site")
        base = str(request.url).split("/api/versions")[0]
        offered = sim.api_versions[site]
        infos = "".join(
            f'<VersionInfo deprecated="{"true" if v < "37" else "false"}">'
            f"<Version>{v}</Version>"
            f"<LoginUrl>{base}/api/sessions</LoginUrl></VersionInfo>"
            for v in offered
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<SupportedVersions xmlns="http://www.vmware.com/vcloud/v1.5">'
            f"{infos}</SupportedVersions>"
        )
        return Response(xml, media_type="application/vnd.vmware.vcloud.versions+xml")

    return endpoint


def _login(sim: Simulation) -> Handler:
    async def endpoint(request: Request) -> Response:
        login = basic_login(request, sim)
        if isinstance(login, Response):
            return login
        good = (
            login.org.lower() == "system"
            and login.user == VCD_USER
            and hmac.compare_digest(
                login.password.encode(), sim.passwords[login.site]["vcd"].encode()
            )
        )
        if not good:
            return vcd_error(401, "UNAUTHORIZED", "Invalid credentials")
        site, token = login.site, sim.login(login.site)
        body = {
            "id": f"urn:vcloud:session:{token[:12]}",
            "site": {"name": site, "id": f"urn:vcloud:site:{site}"},
            "user": {
                "name": login.user,
                "id": "urn:vcloud:user:00000000-0000-0000-0000-000000000001",
            },
            "org": {"name": "System", "id": "urn:vcloud:org:a93c9db9-7471-3192-8d09-a8f7eeda85f9"},
            "location": site,
            "roles": ["System Administrator"],
            "roleRefs": [{"name": "System Administrator", "id": "urn:vcloud:role:sysadmin"}],
            "sessionIdleTimeoutMinutes": max(1, int(sim.token_lifetime // 60)),
        }
        return session_created(body, token)

    return endpoint


def _logout(sim: Simulation) -> Handler:
    async def endpoint(request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            sim.logout(auth[7:])
        return Response(status_code=204)

    return endpoint


QUERIES = {
    "adminVM": views_vcd.vm_records,
    "adminOrgVdc": views_vcd.vdc_records,
    "adminVApp": views_vcd.vapp_records,
    "adminDisk": views_disks.disk_records,
    "adminMedia": catalog.media_records,
    "adminVAppTemplate": catalog.template_records,
}
TENANT_CONTEXT = "X-VMWARE-VCLOUD-TENANT-CONTEXT"


def _vms_by_org(sim: Simulation, v: View) -> dict[str, list[dict[str, Any]]]:
    by_org: dict[str, list[dict[str, Any]]] = sim.cached(
        ("vm", v.site, v.hour, v.base), lambda: views_vcd.vm_records_by_org(v)
    )
    return by_org


def _tenant_vms(sim: Simulation, request: Request, v: View) -> list[dict[str, Any]] | Response:
    """The ``vm`` query: the VMs of the session's org, or of the org named by the tenant
    context. The provider's own org (System) has no VMs; an unknown org is refused (403)."""
    context = request.headers.get(TENANT_CONTEXT)
    if context is None:
        return []
    if context.startswith("urn:"):  # go-vcd: VCD answers 401 to the URN form
        return vcd_error(401, "UNAUTHORIZED", "tenant context must be the bare org id")
    records = _vms_by_org(sim, v).get(context)
    if records is None:
        return vcd_error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "no such organization")
    return records


def _query(sim: Simulation) -> Callable[[Request, View], Response]:
    def handle(request: Request, v: View) -> Response:
        kind = request.query_params.get("type", "")
        if kind not in QUERIES and kind != "vm":
            return vcd_error(400, "BAD_REQUEST", f"unsupported query type {kind!r}")
        if request.query_params.get("format", "records") != "records":
            return vcd_error(400, "BAD_REQUEST", "the simulator serves format=records only")
        if "+xml" in request.headers.get("Accept", ""):
            return vcd_error(406, "NOT_ACCEPTABLE", "the simulator serves the JSON form only")
        if kind == "vm":
            records = _tenant_vms(sim, request, v)
            if isinstance(records, Response):
                return records
        else:
            records = sim.cached((kind, v.site, v.hour, v.base), lambda: QUERIES[kind](v))
        return paging.legacy_query(request, records, kind)

    return handle


def _collection(
    sim: Simulation, name: str, build: Callable[[View], list[dict[str, Any]]], model: str
) -> Callable[[Request, View], Response]:
    def handle(request: Request, v: View) -> Response:
        records = sim.cached((name, v.site, v.hour, v.base), lambda: build(v))
        return paging.openapi(request, records, model)

    return handle


def _entities(sim: Simulation) -> Callable[[Request, View], Response]:
    def handle(request: Request, v: View) -> Response:
        p = request.path_params
        key = f"{p['vendor']}:{p['nss']}:{p['version']}"
        build = views_apps.ENTITY_TYPES.get(key)
        if build is None:
            return vcd_error(404, "NOT_FOUND", f"RDE type urn:vcloud:type:{key} does not exist")
        return paging.openapi(request, _rde_list(sim, key, build, v), "DefinedEntity")

    return handle


def _apps(sim: Simulation) -> Callable[[Request, View], Response]:
    """``GET /cloudapi/1.0.0/apps`` exists from API 38.0 (VCD 10.5): a VCD 10.4 has no such
    endpoint and answers 404 (developer.broadcom.com VCD API 38.0 ``apps``, absent in 37.x)."""
    listing = _collection(sim, "apps", views_apps.app_records, "Apps")

    def handle(request: Request, v: View) -> Response:
        newest = max(int(x.split(".")[0]) for x in sim.api_versions[v.site_name])
        if newest < 38:
            return vcd_error(404, "NOT_FOUND", "[ apps ] The requested resource does not exist")
        return listing(request, v)

    return handle


def _entity_types(request: Request, v: View) -> Response:
    """``GET /cloudapi/1.0.0/entityTypes[?filter=vendor==x;nss==y;version==z]``: the FIQL
    equality filter go-vcd's ``getRdeType`` sends (other filters are refused)."""
    records = views_apps.entity_type_records(v)
    wanted: dict[str, str] = {}
    for term in filter(None, request.query_params.get("filter", "").split(";")):
        name, sep, value = term.partition("==")
        if not sep or name not in ("vendor", "nss", "version", "id", "name"):
            return vcd_error(400, "BAD_REQUEST", f"unsupported filter term {term!r}")
        wanted[name] = value
    picked = [r for r in records if all(str(r[k]) == val for k, val in wanted.items())]
    return paging.openapi(request, picked, "DefinedEntityTypes")


def _entity(sim: Simulation) -> Callable[[Request, View], Response]:
    def handle(request: Request, v: View) -> Response:
        urn = str(request.path_params["urn"])
        for key, build in views_apps.ENTITY_TYPES.items():
            records = _rde_list(sim, key, build, v)
            for record in records:
                if record["id"] == urn:
                    return JSONResponse(record, media_type="application/json;version=38.0")
        return vcd_error(404, "NOT_FOUND", f"entity {urn} does not exist")

    return handle


def _vm_detail(sim: Simulation) -> Callable[[Request, View], Response]:
    """``GET /api/vApp/vm-{uuid}``: the VM with its ``vmSpecSection`` (cores per socket)."""

    def handle(request: Request, v: View) -> Response:
        wanted = f"/api/vApp/vm-{request.path_params['uuid']}"
        for vm in (vm for org in _vms_by_org(sim, v).values() for vm in org):
            if vm["href"].endswith(wanted):
                return JSONResponse(
                    views_vcd.vm_detail(vm), media_type="application/vnd.vmware.vcloud.vm+json"
                )
        return vcd_error(404, "NOT_FOUND", "no such VM")

    return handle


def _snapshot_section(request: Request, v: View) -> Response:
    """``GET /api/vApp/vm-{uuid}/snapshotSection``: the VM's snapshots (404: no such VM)."""
    section = views_disks.snapshot_section(v, str(request.path_params["uuid"]))
    if section is None:
        return vcd_error(404, "NOT_FOUND", "no such VM")
    media = "application/vnd.vmware.vcloud.snapshotSection+json"
    return JSONResponse(section, media_type=media)


def _rde_list(
    sim: Simulation, key: str, build: Callable[[View], list[dict[str, Any]]], v: View
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = sim.cached(
        ("rde", key, v.site, v.hour, v.base), lambda: build(v)
    )
    return records


def routes(sim: Simulation) -> list[Route]:
    base = "/{site}/vcd"
    api = f"{base}/cloudapi"
    return [
        Route(f"{base}/api/versions", _versions(sim)),
        Route(f"{api}/1.0.0/sessions/provider", _login(sim), methods=["POST"]),
        Route(f"{base}/api/session", _logout(sim), methods=["DELETE"]),
        Route(f"{base}/api/query", bearer(sim, "vcd", _query(sim))),
        Route(f"{base}/api/vApp/vm-{{uuid}}", bearer(sim, "vcd", _vm_detail(sim))),
        Route(
            f"{base}/api/vApp/vm-{{uuid}}/snapshotSection",
            bearer(sim, "vcd", _snapshot_section),
        ),
        Route(
            f"{api}/1.0.0/orgs",
            bearer(sim, "vcd", _collection(sim, "orgs", views_vcd.org_records, "VcdOrgs")),
        ),
        Route(
            f"{api}/2.0.0/vdcComputePolicies",
            bearer(
                sim,
                "vcd",
                _collection(sim, "sizing", views_vcd.sizing_records, "VdcComputePolicies2"),
            ),
        ),
        Route(
            f"{api}/1.0.0/edgeGateways",
            bearer(
                sim,
                "vcd",
                _collection(sim, "edges", views_network.edge_records, "EdgeGateways"),
            ),
        ),
        Route(
            f"{api}/1.0.0/apps",
            bearer(sim, "vcd", _apps(sim)),
        ),
        Route(
            f"{api}/1.0.0/entities/types/{{vendor}}/{{nss}}/{{version}}",
            bearer(sim, "vcd", _entities(sim)),
        ),
        Route(f"{api}/1.0.0/entities/{{urn}}", bearer(sim, "vcd", _entity(sim))),
        Route(f"{api}/1.0.0/entityTypes", bearer(sim, "vcd", _entity_types)),
    ]
