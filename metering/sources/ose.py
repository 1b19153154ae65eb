"""OSE collector: tenant usage, buckets and Velero backups (OSE 2.x, VCD JWT bearer).

Reads the tenant list (``/api/v1/core/associated-tenants``, as cloudavenue-sdk-go does), then
per tenant ``…/tenants/{tenantId}/platform-usage`` (the provider API's "Get Tenant Platform
Usage": the storage platform's figures for the tenant; an OSE without it answers 404 and
``…/usage``, "Get Tenant Usage", is read instead), ``…/users`` (user count) and
``…/buckets``; and per TKG cluster ``/api/v1/k8s/clusters/{clusterUrn}/backups``. Lists use
OSE paging (``items`` + ``pageInfo``). Requests run concurrently, bounded by the site's limit.

The usage answer is OSE's ``CommonUsage`` (camelCase; every field optional in its data
structure); the same figures under OSIS's ``OsisUsage`` names (``used_bytes``…) are read too.
The bucket and backup paths have no public source (docs/collectors.md, "OSE"): a 404 for
one cluster's backups means none, a 404 for every cluster means the endpoint is missing and
fails the part.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from metering.errors import SourceDataError
from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    opt_int,
    opt_str,
    opt_time,
    req_int,
    req_str,
)
from metering.sources.vcd import clusters

TENANTS_PATH = "/api/v1/core/tenants"
LIST_PATH = "/api/v1/core/associated-tenants"


async def tenants(ctx: Context) -> list[Record]:
    async def fetch() -> list[Record]:
        return (await paging.ose_items(ctx.client, LIST_PATH, key=_tenant_key)).records

    result: list[Record] = await ctx.shared("ose.tenants", fetch)
    return result


def _tenant_key(t: Record) -> str:
    return str(t.get("orgId") or t.get("id") or t.get("name"))


def _tenant_id(t: Record) -> str:
    return opt_str(t, "orgId") or req_str(t, "id")


def tenant_id(t: Record) -> str | None:
    """The tenant's id as OSE paths take it, or None if the record has none."""
    return opt_str(t, "orgId") or opt_str(t, "id")


def usage_path(tenant: Record, leaf: str) -> str:
    """``/api/v1/core/tenants/{tenantId}/<leaf>`` of one associated tenant."""
    return f"{TENANTS_PATH}/{quote(_tenant_id(tenant), safe=':')}/{leaf}"


async def _one_tenant(ctx: Context, tenant: Record) -> tuple[Record, Record | None, int]:
    try:
        usage, _ = await ctx.client.get_json("ose", usage_path(tenant, "platform-usage"))
    except paging.NotFound:
        usage, _ = await ctx.client.get_json("ose", usage_path(tenant, "usage"))
    users = await paging.ose_items(
        ctx.client, usage_path(tenant, "users"), key=paging.record_id("id", "name")
    )
    return tenant, usage if isinstance(usage, dict) else None, len(users.records)


_OSIS_NAMES = {
    "totalBytes": "total_bytes",
    "usedBytes": "used_bytes",
    "availableBytes": "available_bytes",
    "objectCount": "object_count",
    "bucketCount": "bucket_count",
}


def _figure(usage: Record, name: str, *, required: bool = False) -> int | None:
    key = name if name in usage or _OSIS_NAMES[name] not in usage else _OSIS_NAMES[name]
    return req_int(usage, key) if required else opt_int(usage, key)


def _usage_row(tenant: Record, usage: Record | None, user_count: int) -> Row:
    if usage is None:
        raise RecordError("usage: the tenant usage answer is not an object")
    return {
        "org_id": _tenant_id(tenant),
        "org_name": opt_str(tenant, "name"),
        "scope": opt_str(usage, "scope"),
        "total_bytes": _figure(usage, "totalBytes"),
        "used_bytes": _figure(usage, "usedBytes", required=True),
        "available_bytes": _figure(usage, "availableBytes"),
        "object_count": _figure(usage, "objectCount"),
        "bucket_count": _figure(usage, "bucketCount"),
        "user_count": user_count,
    }


async def _usage(ctx: Context) -> list[Batch]:
    good = [t for t in await tenants(ctx) if isinstance(t, dict)]
    answers = await asyncio.gather(*(_one_tenant(ctx, t) for t in good))
    batch = Batch("ose_tenant_usage")
    rows = [{"tenant": t, "usage": u, "users": n} for t, u, n in answers]
    batch.map(rows, lambda r: _usage_row(r["tenant"], r["usage"], r["users"]), "tenant.orgId")
    return [batch]


def _bucket_row(tenant: Record, bucket: Record) -> Row:
    return {
        "org_id": _tenant_id(tenant),
        "org_name": opt_str(tenant, "name"),
        "bucket": req_str(bucket, "name"),
        "owner": opt_str(bucket, "owner"),
        "storage_policy": opt_str(bucket, "storagePolicy"),
        "used_bytes": req_int(bucket, "usage.usedBytes"),
        "object_count": opt_int(bucket, "usage.objectCount"),
    }


async def _buckets(ctx: Context) -> list[Batch]:
    good = [t for t in await tenants(ctx) if isinstance(t, dict)]

    async def one(t: Record) -> list[Record]:
        path = f"{TENANTS_PATH}/{quote(_tenant_id(t), safe=':')}/buckets"
        listing = await paging.ose_items(ctx.client, path, key=paging.record_id("name"))
        return listing.records

    batch = Batch("ose_bucket")
    for tenant, buckets in zip(good, await asyncio.gather(*(one(t) for t in good)), strict=True):
        batch.map(buckets, lambda b, t=tenant: _bucket_row(t, b), "name")  # type: ignore[misc]
    return [batch]


def _backup_row(cluster: Record, backup: Record) -> Row:
    return {
        "org_id": req_str(cluster, "org.id"),
        "org_name": opt_str(cluster, "org.name"),
        "cluster_id": req_str(cluster, "id"),
        "backup_name": req_str(backup, "name"),
        "phase": opt_str(backup, "phase"),
        "start_time": opt_time(backup, "startTime"),
        "completion_time": opt_time(backup, "completionTime"),
        "bucket": opt_str(backup, "bucket"),
        "size_bytes": opt_int(backup, "sizeBytes"),
        "object_count": opt_int(backup, "objectCount"),
    }


async def _backups(ctx: Context) -> list[Batch]:
    found = [c for c in await clusters(ctx) if isinstance(c, dict) and c.get("id")]

    async def one(c: Record) -> list[Record] | None:
        path = f"/api/v1/k8s/clusters/{quote(str(c['id']), safe=':')}/backups"
        try:
            return (await paging.ose_items(ctx.client, path, key=paging.record_id("name"))).records
        except paging.NotFound:
            return None  # no backups configured for this cluster

    answers = await asyncio.gather(*(one(c) for c in found))
    if found and all(a is None for a in answers):
        raise SourceDataError(
            f"OSE answers 404 for the backups of all {len(found)} TKG clusters: this OSE has "
            "no /api/v1/k8s/clusters/{urn}/backups endpoint (docs/collectors.md, OSE)",
            site=ctx.site.name,
        )
    batch = Batch("ose_backup")
    for cluster, backups in zip(found, [a or [] for a in answers], strict=True):
        batch.map(backups, lambda b, c=cluster: _backup_row(c, b), "name")  # type: ignore[misc]
    return [batch]


PARTS = (
    Part(("ose_tenant_usage",), _usage),
    Part(("ose_bucket",), _buckets),
    Part(("ose_backup",), _backups),
)
