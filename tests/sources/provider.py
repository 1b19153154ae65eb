"""A compact multi-site provider for the orchestration tests: all six APIs, a clock, faults.

The project's simulated provider (``metering.simulator``) is the full test bed; this one is
small on purpose so each test can state exactly what the lake must hold: the inventory is a
pure function of (site, hour), so the expected rows of any sample are known, and faults are
scripted per request from a seeded RNG (5xx, 429 + Retry-After, truncated JSON, a record
repeated across pages, a next-page link looping back, a site down, one malformed record).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ORGS = ("acme", "globex", "Ünïcode & <co>")
PAGE = 2  # tiny pages so every listing has several
OLD_BUCKET_UNTIL = 3  # acme's bucket "old" is deleted at this hour
HOUR = timedelta(hours=1)
FAULT_KINDS = ("503", "429", "500", "truncated", "duplicate", "loop")


def slug(org: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in org.lower())


def hours_since(t: datetime, start: datetime) -> int:
    return int((t - start) // HOUR)


@dataclass
class Provider:
    """State is a function of (site, hour since ``start``); ``now`` is the clock."""

    start: datetime
    now: datetime
    sites: tuple[str, ...] = ("az1", "az2")
    fault_rate: float = 0.0
    seed: int = 7
    down: set[str] = field(default_factory=set)
    bad_vm: bool = False
    faults_served: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # the fault schedule, seeded

    # -- inventory ----------------------------------------------------------------------
    def h(self) -> int:
        return hours_since(self.now, self.start)

    def vms(self, site: str) -> list[dict[str, Any]]:
        h, out = self.h(), []
        for o, org in enumerate(ORGS):
            for i in range(3):
                on = (h + i + o) % 3 != 0
                out.append(self._vm(site, org, f"{slug(org)}-vm{i}", f"app{i}", 1 + i, on, "Gold"))
            for n in range(self.workers(h, o) + 1):
                out.append(
                    self._vm(
                        site, org, f"k8s-{slug(org)}-n{n}", f"k8s-{slug(org)}", 2, True, "Silver"
                    )
                )
        if self.bad_vm:
            out[1] = {**out[1], "numberOfCpus": "lots"}
        return out

    @staticmethod
    def workers(h: int, o: int) -> int:
        return 1 + (h + o) % 2

    def _vm(
        self, site: str, org: str, name: str, vapp: str, cpus: int, on: bool, pol: str
    ) -> dict[str, Any]:
        base = f"http://x/{site}/vcd/api"
        return {
            "href": f"{base}/vApp/vm-{site}-{name}",
            "name": name,
            "containerName": vapp,
            "container": f"{base}/vApp/vapp-{site}-{vapp}",
            "vdc": f"{base}/vdc/{site}-{slug(org)}",
            "vdcName": f"{org}-vdc",
            "org": f"{base}/org/{site}-{slug(org)}",
            "status": "POWERED_ON" if on else "POWERED_OFF",
            "numberOfCpus": cpus,
            "memoryMB": 2048 * cpus,
            "totalStorageAllocatedMb": 10240 * cpus,
            "storageProfileName": pol,
            "isVAppTemplate": False,
            "snapshot": name.endswith("-vm0"),  # the first VM of each org has a snapshot
            "extraField": {"ignored": True},
        }

    @staticmethod
    def snapshot_section(path: str) -> dict[str, Any]:
        """A VM's SnapshotSection: one snapshot of 1 GiB."""
        snapshot = {"poweredOn": True, "created": "2026-09-30T12:00:00Z", "size": 2**30}
        return {"href": path, "snapshot": [snapshot]}

    def disks(self, site: str) -> list[dict[str, Any]]:
        """One independent disk per org (adminDisk records: the org by its href)."""
        return [
            {
                "href": f"http://x/{site}/vcd/api/disk/{site}-{slug(o)}-d1",
                "name": "data",
                "org": f"http://x/{site}/vcd/api/org/{site}-{slug(o)}",
                "vdc": f"http://x/{site}/vcd/api/vdc/{site}-{slug(o)}",
                "sizeMb": 51200,
                "storageProfileName": "Gold",
                "isAttached": False,
            }
            for o in ORGS
        ]

    def orgs(self, site: str) -> list[dict[str, Any]]:
        return [
            {"id": f"urn:vcloud:org:{site}-{slug(o)}", "name": o, "isEnabled": True} for o in ORGS
        ]

    def vdcs(self, site: str) -> list[dict[str, Any]]:
        return [
            {
                "href": f"http://x/{site}/vcd/api/vdc/{site}-{slug(o)}",
                "name": f"{o}-vdc",
                "orgName": o,
                "allocationModel": "Flex",
                "numberOfVMs": 5,
                "storageUsedMB": 1000,
            }
            for o in ORGS
        ]

    def media(self, site: str) -> list[dict[str, Any]]:
        """One ISO per org (``adminMedia``), its org by href as VCD gives it."""
        return [
            {
                "href": f"http://x/{site}/vcd/api/media/{site}-{slug(o)}-iso",
                "name": "install.iso",
                "org": f"http://x/{site}/vcd/api/org/{site}-{slug(o)}",
                "storageB": 4 * 2**30,
                "storageProfileName": "Gold",
                "status": "RESOLVED",
            }
            for o in ORGS
        ]

    def edges(self, site: str) -> list[dict[str, Any]]:
        """One edge gateway per org, holding org index + 1 external IPs (OpenAPIEdgeGateway)."""
        return [
            {
                "id": f"urn:vcloud:gateway:{site}-{slug(o)}",
                "name": f"{o}-edge",
                "status": "REALIZED",
                "orgRef": {"id": f"urn:vcloud:org:{site}-{slug(o)}", "name": o},
                "ownerRef": {"id": f"urn:vcloud:vdc:{site}-{slug(o)}", "name": f"{o}-vdc"},
                "gatewayBacking": {"gatewayType": "NSXT_BACKED"},
                "edgeGatewayUplinks": [
                    {
                        "uplinkName": f"{site}-internet",
                        "subnets": {"values": [{"totalIpCount": i + 1, "usedIpCount": 1}]},
                    }
                ],
            }
            for i, o in enumerate(ORGS)
        ]

    def templates(self, site: str) -> list[dict[str, Any]]:
        """One vApp template per org (``adminVAppTemplate``), its org by href."""
        return [
            {
                "href": f"http://x/{site}/vcd/api/vAppTemplate/vappTemplate-{site}-{slug(o)}",
                "name": "base-template",
                "org": f"http://x/{site}/vcd/api/org/{site}-{slug(o)}",
                "status": "RESOLVED",
            }
            for o in ORGS
        ]

    def template_vms(self, site: str) -> list[dict[str, Any]]:
        """The VM inside each org's template, as its ``vm`` query lists it."""
        out = []
        for o, template in zip(ORGS, self.templates(site), strict=True):
            vm = self._vm(site, o, f"tpl-{slug(o)}-vm", "base-template", 1, False, "Silver")
            out.append({**vm, "container": template["href"], "isVAppTemplate": True})
        return out

    def clusters(self, site: str) -> list[dict[str, Any]]:
        out = []
        for o, org in enumerate(ORGS):
            name = f"k8s-{slug(org)}"
            pools = [
                {
                    "name": f"{name}-control-plane-node-pool",
                    "sizingPolicy": "TKG small",
                    "storageProfile": "Silver",
                    "diskSizeMb": 20480,
                    "desiredReplicas": 1,
                    "availableReplicas": 1,
                },
                {
                    "name": f"{name}-worker-node-pool-1",
                    "sizingPolicy": "TKG small",
                    "diskSizeMb": 20480,
                    "desiredReplicas": self.workers(self.h(), o),
                    "availableReplicas": self.workers(self.h(), o),
                },
            ]
            out.append(
                {
                    "id": f"urn:vcloud:entity:vmware:capvcdCluster:{site}-{slug(org)}",
                    "name": name,
                    "entityType": "urn:vcloud:type:vmware:capvcdCluster:1.2.0",
                    "state": "RESOLVED",
                    "org": {"name": org, "id": f"urn:vcloud:org:{site}-{slug(org)}"},
                    "entity": {
                        "status": {
                            "capvcd": {
                                "phase": "Provisioned",
                                "kubernetes": "v1.26.8",
                                "nodePool": pools,
                            }
                        }
                    },
                }
            )
        return out

    def apps(self, site: str) -> list[dict[str, Any]]:
        return [
            {
                "id": f"urn:vcloud:app:{site}-{slug(o)}",
                "name": "blog",
                "appId": "bitnami-wordpress",
                "appType": "VmApp",
                "status": "READY",
                "org": {"name": o, "id": f"urn:vcloud:org:{site}-{slug(o)}"},
                "creationDate": "2026-09-01T10:00:00Z",
            }
            for o in ORGS
        ]

    def dse(self, site: str) -> list[dict[str, Any]]:
        return [
            {
                "id": f"urn:vcloud:entity:vmware:dsInstance:{site}-{slug(o)}",
                "name": "orders-pg",
                "state": "RESOLVED",
                "org": {"name": o, "id": f"urn:vcloud:org:{site}-{slug(o)}"},
                "entity": {
                    "spec": {
                        "solutionType": "VMware SQL with PostgreSQL",
                        "data": {"replicas": 3, "memory": "4Gi"},
                        "containers": [
                            {"name": "postgres", "limits": {"cpu": "2"}},
                            {"name": "metrics-exporter", "limits": {"cpu": "100m"}},
                            {"name": "postgres-operator", "limits": {"cpu": "0.5"}},
                        ],
                    }
                },
            }
            for o in ORGS
        ]

    def bucket_bytes(self, org_index: int, hour: int) -> int:
        return (org_index + 1) * 2**30 + hour * 4096

    def usage(
        self, site: str, gid: str, op: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        o = [slug(x) for x in ORGS].index(gid)
        out, t = [], start
        while t < end and t + HOUR <= self.now:
            h = hours_since(t, self.start)
            if h >= 0:
                value = self.bucket_bytes(o, h) if op == "SB" else (h % 4 if op == "HG" else 0)
                out.append(
                    {"timestamp": str(int(t.timestamp() * 1000)), "operation": op, "value": value}
                )
            t += HOUR
        return out

    # -- HTTP ---------------------------------------------------------------------------
    def fault(self, site: str) -> str | None:
        if site in self.down:
            return "503"
        if self.fault_rate and self._rng.random() < self.fault_rate:
            kind = self._rng.choice(FAULT_KINDS)
            self.faults_served[kind] = self.faults_served.get(kind, 0) + 1
            return kind
        return None

    def app(self) -> Starlette:
        async def login(request: Request) -> Response:
            if self.fault(request.path_params["site"]) in ("503", "500"):
                return Response(status_code=503)
            return Response("{}", headers={"X-VMWARE-VCLOUD-ACCESS-TOKEN": "tok"})

        async def handle(request: Request) -> Response:
            site, svc = request.path_params["site"], request.path_params["svc"]
            fault = self.fault(site)
            if fault in ("503", "429", "500"):
                return Response(status_code=int(fault), headers={"Retry-After": "1"})
            body, headers = self.route(site, svc, "/" + request.path_params["rest"], request, fault)
            if body is _NOT_FOUND:
                return Response(status_code=404)
            if body is _VERSIONS:
                return Response(VERSIONS_XML, media_type="application/*+xml")
            text = json.dumps(body)
            if fault == "truncated":
                text = text[: len(text) // 2]
            return Response(text, media_type="application/json", headers=headers)

        return Starlette(
            routes=[
                Route("/{site}/vcd/cloudapi/1.0.0/sessions/provider", login, methods=["POST"]),
                Route("/{site}/{svc}/{rest:path}", handle),
            ]
        )

    def route(
        self, site: str, svc: str, path: str, req: Request, fault: str | None
    ) -> tuple[Any, dict[str, str]]:
        q = req.query_params
        if svc == "vcd" and path == "/api/versions":
            return _VERSIONS, {}
        if svc == "vcd" and path == "/api/query" and q["type"] == "vm":
            org = req.headers.get("X-VMWARE-VCLOUD-TENANT-CONTEXT", "System")
            org = org.encode("latin-1").decode()  # our org ids are not ASCII; VCD's are
            rows = [vm for vm in self.vms(site) if vm["org"].endswith(f"/org/{org}")]
            rows += [vm for vm in self.template_vms(site) if vm["org"].endswith(f"/org/{org}")]
            return _legacy(site, "vm", rows, int(q.get("page", 1)), fault), {}
        if svc == "vcd" and path == "/api/query":
            listings = {
                "adminOrgVdc": self.vdcs,
                "adminDisk": self.disks,
                "adminMedia": self.media,
                "adminVAppTemplate": self.templates,
            }
            rows = listings[q["type"]](site)
            return _legacy(site, q["type"], rows, int(q.get("page", 1)), fault), {}
        if svc == "vcd" and path.startswith("/api/vApp/vm-") and path.endswith("/snapshotSection"):
            return self.snapshot_section(path), {}
        openapi = {
            "/cloudapi/1.0.0/orgs": self.orgs,
            "/cloudapi/1.0.0/apps": self.apps,
            "/cloudapi/1.0.0/edgeGateways": self.edges,
            "/cloudapi/2.0.0/vdcComputePolicies": lambda s: [
                {
                    "id": "urn:vcloud:vdcComputePolicy:1",
                    "name": "TKG small",
                    "cpuCount": 2,
                    "memory": 4096,
                }
            ],
            "/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/1.2.0": self.clusters,
            "/cloudapi/1.0.0/entities/types/vmware/dsInstance/0.1": self.dse,
            "/cloudapi/1.0.0/entityTypes": lambda s: _entity_types(q.get("filter", "")),
        }
        if svc == "vcd" and path in openapi:
            return _openapi(openapi[path](site), int(q.get("page", 1)), fault)
        if svc == "ose":
            return self.ose(site, path, req), {}
        if svc == "cloudian":
            return self.cloudian(site, path, req), {}
        return _NOT_FOUND, {}

    def ose(self, site: str, path: str, req: Request) -> Any:
        tenants = [{"orgId": f"urn:vcloud:org:{site}-{slug(o)}", "name": o} for o in ORGS]
        if path == "/api/v1/core/associated-tenants":
            return _items(tenants, req)
        parts = path.split("/")
        if path.startswith("/api/v1/k8s/clusters/"):
            return _items([{"name": "nightly", "phase": "Completed", "sizeBytes": 1000}], req)
        if path.endswith("/usage"):
            return {"scope": "TENANT", "usedBytes": 2**30, "objectCount": 10, "bucketCount": 1}
        if path.endswith("/users"):
            return _items([{"name": "u1", "id": "u1"}], req)
        if path.endswith("/buckets"):
            return _items(
                [
                    {
                        "name": f"b-{parts[-2]}",
                        "storagePolicy": "Gold",
                        "usage": {"usedBytes": 2**30},
                    }
                ],
                req,
            )
        return _NOT_FOUND

    def cloudian(self, site: str, path: str, req: Request) -> Any:
        q = req.query_params
        gids = [slug(o) for o in ORGS]
        if path == "/group/list":
            return _limit_plus_one(
                [
                    {"groupId": g, "groupName": o, "active": "true"}
                    for g, o in zip(gids, ORGS, strict=True)
                ],
                "groupId",
                q,
            )
        if path == "/user/list":
            return _limit_plus_one([{"userId": "u1", "groupId": q["groupId"]}], "userId", q)
        if path == "/system/bucketusage":
            o = gids.index(q["groupId"])
            buckets = [
                {
                    "bucketName": f"b-{q['groupId']}",
                    "policyName": "2DC-3R",
                    "byteCount": self.bucket_bytes(o, self.h()),
                    "objectCount": 3,
                }
            ]
            if o == 0 and self.h() < OLD_BUCKET_UNTIL:  # deleted at that hour; history stays
                buckets.append({"bucketName": "old", "policyName": "EC-4+2", "byteCount": 5})
            return [{"userId": "u1", "buckets": buckets}]
        if path == "/bppolicy/listpolicy":
            return [
                {
                    "policyId": "p1",
                    "policyName": "2DC-3R",
                    "dataDistributionScheme": "REPLICATION",
                    "replicationScheme": {"DC1": "2", "DC2": "1"},
                    "status": "ACTIVE",
                },
                {
                    "policyId": "p2",
                    "policyName": "EC-4+2",
                    "dataDistributionScheme": "EC",
                    "ecScheme": {"DC1": "4+2"},
                },
            ]
        if path == "/usage":
            gid, _, bucket = q["id"].split("|")
            fmt = "%Y%m%d%H%M"
            start = datetime.strptime(q["startTime"], fmt).replace(tzinfo=UTC)
            end = datetime.strptime(q["endTime"], fmt).replace(tzinfo=UTC)
            rows = self.usage(site, gid, q["operation"], start, end)
            if bucket == "old":
                rows = [r for r in rows if int(r["timestamp"]) < self._old_end_ms()]
            return rows
        return _NOT_FOUND

    def _old_end_ms(self) -> int:
        return int((self.start + OLD_BUCKET_UNTIL * HOUR).timestamp() * 1000)

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(self.app())


_NOT_FOUND = object()
_VERSIONS = object()
VERSIONS_XML = (
    '<SupportedVersions xmlns="http://www.vmware.com/vcloud/v1.5">'
    "<VersionInfo><Version>38.0</Version></VersionInfo>"
    "<VersionInfo><Version>38.1</Version></VersionInfo></SupportedVersions>"
)


def _legacy(site: str, qtype: str, rows: list[Any], page: int, fault: str | None) -> dict[str, Any]:
    chunk = rows[(page - 1) * PAGE : page * PAGE]
    if fault == "duplicate" and page > 1:
        chunk = [rows[(page - 1) * PAGE - 1], *chunk]
    body: dict[str, Any] = {"total": len(rows), "page": page, "pageSize": PAGE, "record": chunk}
    nxt = 1 if fault == "loop" else page + 1
    if page * PAGE < len(rows) or fault == "loop":
        href = (
            f"http://x/{site}/vcd/api/query?type={qtype}&format=records&page={nxt}&pageSize={PAGE}"
        )
        body["link"] = [{"rel": "nextPage", "href": href}]
    return body


def _entity_types(fiql: str) -> list[dict[str, Any]]:
    """The registered RDE types a ``vendor==…;nss==…`` filter picks (go-vcd ``getRdeType``)."""
    registered = [("vmware", "capvcdCluster", "1.2.0"), ("vmware", "dsConfig", "0.1"),
                  ("vmware", "dsInstance", "0.1")]  # fmt: skip
    wanted = dict(term.split("==", 1) for term in fiql.split(";") if "==" in term)
    rows = [{"vendor": a, "nss": b, "version": c, "id": f"urn:vcloud:type:{a}:{b}:{c}"}
            for a, b, c in registered]  # fmt: skip
    return [r for r in rows if all(r.get(k) == v for k, v in wanted.items())]


def _openapi(
    rows: list[Any], page: int, fault: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    chunk = rows[(page - 1) * PAGE : page * PAGE]
    if fault == "duplicate" and page > 1:
        chunk = [rows[(page - 1) * PAGE - 1], *chunk]
    count = (len(rows) + PAGE - 1) // PAGE
    body = {
        "resultTotal": len(rows),
        "pageCount": count,
        "page": page,
        "pageSize": PAGE,
        "values": chunk,
    }
    return body, {}


def _items(rows: list[Any], req: Request) -> dict[str, Any]:
    off, lim = int(req.query_params.get("offset", 0)), int(req.query_params.get("limit", 100))
    return {
        "items": rows[off : off + lim],
        "pageInfo": {"offset": off, "limit": lim, "total": len(rows)},
    }


def _limit_plus_one(rows: list[dict[str, Any]], key: str, q: Any) -> list[dict[str, Any]]:
    limit = int(q.get("limit", 100))
    start = 0
    if "offset" in q:
        start = [r[key] for r in rows].index(q["offset"])
    return rows[start : start + limit]
