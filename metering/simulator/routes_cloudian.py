"""Cloudian HyperStore Admin API of one site (``/<site>/cloudian/...``), HTTP Basic auth.

Status codes follow the real Admin API (docs/collectors.md, Cloudian): ``GET /group`` of an
unknown group answers 204 with no body; ``/group/list`` and ``/user/list`` answer 200 with an
*empty body* when there is nothing to list (``/user/list`` also for an unknown group, never
204); ``/system/bucketusage``, ``/system/bucketlist`` and ``/system/bytecount`` answer 400 for
an unknown group, user or bucket; ``/system/version`` is plain text. ``/usage`` serves hourly
series that only cover *completed* hours (before the simulated now).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from metering.simulator import names, views_storage
from metering.simulator.routes_usage import usage
from metering.simulator.routes_vcd import view
from metering.simulator.simulation import CLOUDIAN_USER, Simulation
from metering.simulator.tables import USERS
from metering.simulator.views_vcd import View

Handler = Callable[[Request, View], Response]
EMPTY = Response(status_code=204)
# The version string's shape as HyperStore answers it (apache/cloudstack CloudianClientTest).
VERSION = "8.1 Compiled: 2023-11-11 16:30"


def _list(rows: list[dict[str, Any]]) -> Response:
    """A list answer: nothing to list is 200 with an empty body, as HyperStore answers."""
    return JSONResponse(rows) if rows else Response(status_code=200)


def _unknown(what: str) -> Response:
    return Response(f"no such {what}", status_code=400)


def _auth(sim: Simulation, handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        site = str(request.path_params["site"])
        if site not in sim.sites:
            return Response("no such site", status_code=404)
        expected = f"{CLOUDIAN_USER}:{sim.passwords[site]['cloudian']}"
        auth = request.headers.get("Authorization", "")
        try:
            given = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""
        except (ValueError, UnicodeDecodeError):
            given = ""
        if given != expected:
            return Response("Unauthorized", status_code=401, headers={"WWW-Authenticate": "Basic"})
        try:
            return handler(request, view(request, sim, "cloudian"))
        except ValueError as exc:
            return Response(str(exc), status_code=400)

    return endpoint


def _limit_offset(request: Request, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Cloudian list paging: rows from ``offset`` (an id, inclusive), at most ``limit``."""
    offset = request.query_params.get("offset")
    if offset:
        rows = [r for r in rows if str(r[key]) >= offset]
    limit = request.query_params.get("limit")
    return rows[: int(limit)] if limit else rows


def group_list(request: Request, v: View) -> Response:
    prefix = request.query_params.get("prefix", "")
    rows = sorted(
        (_group_info(v, org) for org in views_storage.storage_orgs(v)),
        key=lambda g: str(g["groupId"]),
    )
    rows = [g for g in rows if str(g["groupId"]).startswith(prefix)]
    return _list(_limit_offset(request, rows, "groupId"))


def _group_info(v: View, org: int) -> dict[str, Any]:
    return {
        "groupId": v.world.group_ids[org],
        "groupName": v.world.org_names[org],
        "active": "true",
        "ldapEnabled": False,
        "ldapGroup": "",
        "ldapMatchAttribute": "",
        "ldapSearch": "",
        "ldapSearchUserBase": "",
        "ldapServerURL": "",
        "ldapUserDNTemplate": "",
        "s3endpointshttp": ["ALL"],
        "s3endpointshttps": ["ALL"],
        "s3websiteendpoints": ["ALL"],
    }


def group(request: Request, v: View) -> Response:
    org = views_storage.group_of(v, request.query_params.get("groupId"))
    return EMPTY if org is None else JSONResponse(_group_info(v, org))


def user_list(request: Request, v: View) -> Response:
    group_id = request.query_params.get("groupId")
    org = views_storage.group_of(v, group_id)
    if org is None:
        return _list([])  # an unknown group is 200 with an empty body, not 204
    rows = [
        {
            "userId": user,
            "groupId": group_id,
            "userType": "User",
            "fullName": f"{user} of {v.world.org_names[org]}",
            "emailAddr": f"{user}@{group_id}.example",
            "active": "true",
            "canonicalUserId": names.uid("canonical", group_id, user).replace("-", ""),
        }
        for user in sorted(USERS)
    ]
    return _list(_limit_offset(request, rows, "userId"))


def bytecount(request: Request, v: View) -> Response:
    picked = views_storage.select(v, request.query_params)
    if picked is None:
        return _unknown("group, user or bucket")
    sizes, _ = views_storage.usage_now(v)
    return JSONResponse(int(sizes[picked[1]].sum()) if picked[1] else 0)


def _per_user(v: View, idx: list[int], detail: bool) -> list[dict[str, Any]]:
    b, policies = v.world.buckets, v.world.inventory.object_policies
    sizes, objects = views_storage.usage_now(v)
    out: dict[str, list[dict[str, Any]]] = {}
    for i in idx:
        entry: dict[str, Any] = {"bucketName": views_storage.bucket_name(v, i)}
        if detail:
            entry.update(
                byteCount=int(sizes[i]),
                objectCount=int(objects[i]),
                policyName=policies[int(b.policy[i])].name,
            )
        out.setdefault(USERS[int(b.user[i])], []).append(entry)
    return [{"userId": user, "buckets": buckets} for user, buckets in sorted(out.items())]


def bucketlist(request: Request, v: View) -> Response:
    picked = views_storage.select(v, request.query_params)
    if picked is None:
        return _unknown("group, user or bucket")
    return JSONResponse(_per_user(v, picked[1], detail=False))


def bucketusage(request: Request, v: View) -> Response:
    """Per user, their buckets' bytes, objects and policy; an existing group without
    buckets is ``[]`` (200), an unknown group, user or bucket is 400."""
    picked = views_storage.select(v, request.query_params)
    if picked is None:
        return _unknown("group, user or bucket")
    return JSONResponse(_per_user(v, picked[1], detail=True))


def version(request: Request, v: View) -> Response:
    return PlainTextResponse(VERSION)


def _policy(v: View, index: int) -> dict[str, Any]:
    p = v.world.inventory.object_policies[index]
    return {
        "policyId": views_storage.policy_id(p.name),
        "policyName": p.name,
        "policyDescription": p.description,
        "status": "ACTIVE",
        "region": "region1",
        "default": index == 0,
        "groups": [],
        "dataDistributionScheme": p.scheme,
        "replicationScheme": {dc: str(n) for dc, n in p.replication.items()},
        "ecScheme": dict(p.erasure_coding),
        "consistencyLevels": {"read": ["QUORUM"], "write": ["QUORUM"]},
        "compression": "NONE",
        "sse": False,
    }


def listpolicy(request: Request, v: View) -> Response:
    count = len(v.world.inventory.object_policies)
    return JSONResponse([_policy(v, i) for i in range(count)])


def one_policy(request: Request, v: View) -> Response:
    for i, p in enumerate(v.world.inventory.object_policies):
        if views_storage.policy_id(p.name) == request.query_params.get("policyId"):
            return JSONResponse(_policy(v, i))
    return Response("policy not found", status_code=404)


def buckets_per_policy(request: Request, v: View) -> Response:
    b = v.world.buckets
    here = views_storage.buckets_here(v)
    return JSONResponse(
        [
            {
                "policyId": views_storage.policy_id(p.name),
                "policyName": p.name,
                "buckets": [views_storage.bucket_name(v, i) for i in here if b.policy[i] == k],
            }
            for k, p in enumerate(v.world.inventory.object_policies)
        ]
    )


def routes(sim: Simulation) -> list[Route]:
    base = "/{site}/cloudian"
    table: dict[str, Handler] = {
        "/group/list": group_list,
        "/group": group,
        "/user/list": user_list,
        "/system/bytecount": bytecount,
        "/system/bucketlist": bucketlist,
        "/system/bucketusage": bucketusage,
        "/system/version": version,
        "/bppolicy/listpolicy": listpolicy,
        "/bppolicy": one_policy,
        "/bppolicy/bucketsperpolicy": buckets_per_policy,
        "/usage": usage,
    }
    return [Route(base + path, _auth(sim, handler)) for path, handler in table.items()]
