"""OSE 2.x endpoints of one site (``/<site>/ose/api/v1/...``), VCD bearer token auth."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metering.simulator import paging, views_storage
from metering.simulator.index import site_index
from metering.simulator.routes_vcd import bearer
from metering.simulator.simulation import Simulation
from metering.simulator.views_vcd import View


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"code": "NOT_FOUND", "message": f"{what} not found"}, status_code=404)


def tenants(request: Request, v: View) -> Response:
    return paging.ose_items(request, views_storage.ose_tenants(v))


def _org(request: Request, v: View) -> int | None:
    return views_storage.org_by_id(v, str(request.path_params["org_id"]))


def users(request: Request, v: View) -> Response:
    org = _org(request, v)
    if org is None:
        return _not_found("tenant")
    return paging.ose_items(request, views_storage.ose_users(v, org))


def usage(request: Request, v: View) -> Response:
    """``…/platform-usage`` ("Get Tenant Platform Usage") and ``…/usage`` ("Get Tenant
    Usage"): the tenant's ``CommonUsage`` (scope TENANT) over its buckets on this site."""
    org = _org(request, v)
    if org is None:
        return _not_found("tenant")
    idx = views_storage.buckets_here(v, org)
    return JSONResponse(views_storage.common_usage(v, "TENANT", idx))


def buckets(request: Request, v: View) -> Response:
    org = _org(request, v)
    if org is None:
        return _not_found("tenant")
    return paging.ose_items(request, views_storage.ose_buckets(v, org))


def policies(request: Request, v: View) -> Response:
    items = [
        {
            "id": views_storage.policy_id(p.name),
            "name": p.name,
            "platformId": views_storage.policy_id(p.name),
            "description": p.description,
            "platform": "CLOUDIAN",
        }
        for p in v.world.inventory.object_policies
    ]
    return paging.ose_items(request, items)


def backups(request: Request, v: View) -> Response:
    c = site_index(v.world, v.site).clusters.get(str(request.path_params["cluster"]))
    cl = v.world.clusters
    if c is None or not cl.created[c] <= v.hour < cl.deleted[c]:
        return _not_found("cluster")
    return paging.ose_items(request, views_storage.ose_backups(v, c))


def routes(sim: Simulation) -> list[Route]:
    base = "/{site}/ose/api/v1"
    return [
        Route(f"{base}/core/associated-tenants", bearer(sim, "ose", tenants)),
        Route(f"{base}/core/tenants/{{org_id}}/users", bearer(sim, "ose", users)),
        Route(f"{base}/core/tenants/{{org_id}}/platform-usage", bearer(sim, "ose", usage)),
        Route(f"{base}/core/tenants/{{org_id}}/usage", bearer(sim, "ose", usage)),
        Route(f"{base}/core/tenants/{{org_id}}/buckets", bearer(sim, "ose", buckets)),
        Route(f"{base}/core/storage-policies", bearer(sim, "ose", policies)),
        Route(f"{base}/k8s/clusters/{{cluster}}/backups", bearer(sim, "ose", backups)),
    ]
