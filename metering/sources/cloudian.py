"""Cloudian collector: groups, bucket usage, storage policies, and the hourly usage series.

Reads (HTTP Basic, JSON) ``/group/list`` and ``/user/list`` (``limit+1`` paging; nothing to
list is a 200 with an empty body), ``/system/bucketusage?groupId=`` (bytes/objects/policy
per bucket), ``/bppolicy/listpolicy`` (protection scheme per DC), and the hourly series of
:mod:`metering.sources.cloudian_series`. The contract, with its public sources, is in
docs/collectors.md (Cloudian). An answer that is not what the API returns for the call (a
204 or an object where a list is due, a 400 for a group ``/group/list`` just named, an
empty group list while the lake holds buckets of this site) fails its part with the reason.
"""

from __future__ import annotations

from typing import Any

from metering.errors import SourceDataError
from metering.sources import cloudian_series, paging
from metering.sources.base import Context, Part
from metering.sources.cloudian_series import OPERATIONS, fmt_time, settle
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    opt_bool,
    opt_int,
    opt_str,
    req_int,
    req_str,
)

__all__ = [
    "OPERATIONS",
    "PARTS",
    "bucket_rows",
    "bucket_usage",
    "fmt_time",
    "groups",
    "policy_row",
    "users",
]


async def groups(ctx: Context) -> list[Record]:
    async def fetch() -> list[Record]:
        found = (await paging.cloudian_list(ctx.client, "/group/list", "groupId")).records
        held = {str(b["group_id"]) for b in ctx.known_buckets}
        if not found and held:
            raise SourceDataError(
                f"/group/list is empty, but the lake holds buckets of {len(held)} group(s) "
                "of this site from the last day; an empty list is not read as 'no groups'",
                site=ctx.site.name,
            )
        return found

    result: list[Record] = await ctx.shared("cloudian.groups", fetch)
    return result


async def users(ctx: Context, group_id: str) -> list[Record]:
    async def fetch() -> list[Record]:
        params = {"groupId": group_id, "userType": "all", "userStatus": "all"}
        listing = await paging.cloudian_list(ctx.client, "/user/list", "userId", params=params)
        return listing.records

    result: list[Record] = await ctx.shared(f"cloudian.users.{group_id}", fetch)
    return result


async def bucket_usage(ctx: Context) -> list[tuple[str, Record]]:
    """(group id, ``{"userId", "buckets": [...]}``) for every group."""

    async def fetch() -> list[tuple[str, Record]]:
        ids = [
            str(g["groupId"]) for g in await groups(ctx) if isinstance(g, dict) and g.get("groupId")
        ]

        async def one(gid: str) -> list[tuple[str, Record]]:
            return [(gid, u) for u in await _bucketusage(ctx, gid)]

        return [pair for part in await settle(one(g) for g in ids) for pair in part]

    result: list[tuple[str, Record]] = await ctx.shared("cloudian.bucketusage", fetch)
    return result


async def _bucketusage(ctx: Context, gid: str) -> list[Any]:
    """One group's ``/system/bucketusage``: a JSON list (``[]`` for a group without buckets);
    anything else fails the part."""
    where = f"/system/bucketusage of group {gid}"
    try:
        body, response = await ctx.client.get_json(
            "cloudian", "/system/bucketusage", {"groupId": gid}, allow_empty=True
        )
    except SourceDataError as exc:  # 400: the API does not know the group /group/list named
        raise SourceDataError(
            f"{where} (named by /group/list): {exc.message}", site=ctx.site.name
        ) from None
    if body is None:
        got = "HTTP 204" if response.status_code == 204 else "an empty body"
        raise SourceDataError(
            f"{where}: {got} where the API answers a JSON list ([] when it has no bucket)",
            site=ctx.site.name,
        )
    if not isinstance(body, list):
        raise SourceDataError(
            f"{where}: expected a JSON list of users, got {type(body).__name__}",
            site=ctx.site.name,
        )
    return body


def _group_row(group: Record, user_count: int | None) -> Row:
    return {
        "group_id": req_str(group, "groupId"),
        "group_name": opt_str(group, "groupName"),
        "active": opt_bool(group, "active"),
        "user_count": user_count,
    }


async def _groups(ctx: Context) -> list[Batch]:
    found = [g for g in await groups(ctx) if isinstance(g, dict)]
    counts = await settle(users(ctx, str(g.get("groupId"))) for g in found)
    batch = Batch("cloudian_group")
    rows = [{"group": g, "users": len(u)} for g, u in zip(found, counts, strict=True)]
    batch.map(rows, lambda r: _group_row(r["group"], r["users"]), "group.groupId")
    return [batch]


def bucket_rows(group_id: str, user: Record) -> list[Row]:
    user_id = req_str(user, "userId")
    buckets = user.get("buckets")
    if buckets is None:
        buckets = []
    if not isinstance(buckets, list):
        raise RecordError(f"buckets: expected a list, got {type(buckets).__name__}")
    rows = []
    for i, b in enumerate(buckets):
        try:
            rows.append(
                {
                    "group_id": group_id,
                    "user_id": user_id,
                    "bucket": req_str(b, "bucketName"),
                    "storage_policy": opt_str(b, "policyName"),
                    "byte_count": req_int(b, "byteCount"),
                    "object_count": opt_int(b, "objectCount"),
                }
            )
        except RecordError as exc:
            raise RecordError(f"buckets[{i}].{exc}") from None
    return rows


async def _buckets(ctx: Context) -> list[Batch]:
    batch = Batch("cloudian_bucket_usage")
    for gid, user in await bucket_usage(ctx):
        batch.map([user], lambda u, g=gid: bucket_rows(g, u), "userId")  # type: ignore[misc]
    return [batch]


def _data_centers(policy: Record) -> list[dict[str, Any]]:
    replicas = policy.get("replicationScheme") or {}
    ec = policy.get("ecScheme") or {}
    if not isinstance(replicas, dict) or not isinstance(ec, dict):
        raise RecordError("replicationScheme/ecScheme: must be objects keyed by DC")
    out = []
    for dc in sorted(set(replicas) | set(ec)):
        k = m = None
        if dc in ec:
            try:
                k, m = (int(x) for x in str(ec[dc]).split("+"))
            except ValueError:
                raise RecordError(f"ecScheme.{dc}: expected 'k+m', got {ec[dc]!r}") from None
        count = opt_int(replicas, dc) if dc in replicas else None
        out.append({"dc": dc, "replicas": count, "ec_k": k, "ec_m": m})
    return out


def policy_row(policy: Record) -> Row:
    scheme = req_str(policy, "dataDistributionScheme").upper()
    dcs = _data_centers(policy)
    if not dcs:
        raise RecordError("replicationScheme/ecScheme: no data centre listed")
    ks = {d["ec_k"] for d in dcs if d["ec_k"] is not None}
    ms = {d["ec_m"] for d in dcs if d["ec_m"] is not None}
    if "EC" in scheme and (len(ks) != 1 or len(ms) != 1):
        raise RecordError(f"ecScheme: {scheme} needs one k+m, got {sorted(ks)}+{sorted(ms)}")
    reps = [d["replicas"] for d in dcs if d["replicas"] is not None]
    return {
        "policy_id": req_str(policy, "policyId"),
        "policy_name": req_str(policy, "policyName"),
        "description": opt_str(policy, "policyDescription"),
        "status": opt_str(policy, "status"),
        "region": opt_str(policy, "region"),
        "is_default": opt_bool(policy, "default"),
        "scheme": scheme,
        "data_centers": dcs,
        "dc_count": len(dcs),
        "total_replicas": sum(reps) if reps and "EC" not in scheme else None,
        "ec_k": ks.pop() if "EC" in scheme else None,
        "ec_m": ms.pop() if "EC" in scheme else None,
    }


async def _policies(ctx: Context) -> list[Batch]:
    body, _ = await ctx.client.get_json("cloudian", "/bppolicy/listpolicy")
    if not isinstance(body, list) or not body:
        got = (
            "no body"
            if body is None
            else ("an empty list" if body == [] else f"a {type(body).__name__}")
        )
        raise SourceDataError(
            f"/bppolicy/listpolicy: {got} where the API answers a JSON list of policies "
            "(HyperStore always has a default policy)",
            site=ctx.site.name,
        )
    batch = Batch("cloudian_storage_policy")
    batch.map(body, policy_row, "policyId")
    return [batch]


async def _series(ctx: Context) -> list[Batch]:
    listed = [r for g, u in await bucket_usage(ctx) for r in _safebucket_rows(g, u)]
    return [await cloudian_series.series(ctx, listed)]


def _safebucket_rows(group_id: str, user: Record) -> list[Row]:
    try:
        return bucket_rows(group_id, user)
    except RecordError:
        return []  # quarantined by the bucket-usage part; no series for it


PARTS = (
    Part(("cloudian_group",), _groups),
    Part(("cloudian_bucket_usage",), _buckets),
    Part(("cloudian_storage_policy",), _policies),
    Part(("cloudian_usage",), _series),
)
