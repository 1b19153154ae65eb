"""Cloudian collector: groups, bucket usage, storage policies, and the hourly usage series.

Reads (HTTP Basic, JSON) ``/group/list`` and ``/user/list`` (``limit+1`` paging),
``/system/bucketusage?groupId=`` (bytes/objects/policy per bucket), ``/bppolicy/listpolicy``
(protection scheme per DC), and ``/usage?id=<group>|<user>|<bucket>&operation=…&
granularity=hour`` for every bucket: Cloudian keeps that history itself, so each hour is
read as an interval (never re-sampled), and a missed hour can be read later (backfill).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    dig,
    opt_bool,
    opt_int,
    opt_str,
    opt_time,
    req_int,
    req_str,
)

# The series rating reads (sql/intermediate/int_cloudian_intervals.sql): bytes stored and
# GET/PUT/DELETE counts. SO (stored objects) is not requested: nothing downstream reads it,
# /system/bucketusage already gives each bucket's object count, and it was a fifth of every
# daily run's requests (one per bucket).
OPERATIONS = ("SB", "HG", "HP", "HD")
HOUR = timedelta(hours=1)


async def groups(ctx: Context) -> list[Record]:
    async def fetch() -> list[Record]:
        return (await paging.cloudian_list(ctx.client, "/group/list", "groupId")).records

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
            body, _ = await ctx.client.get_json("cloudian", "/system/bucketusage", {"groupId": gid})
            return [(gid, u) for u in (body or []) if isinstance(u, dict)]

        return [pair for part in await asyncio.gather(*(one(g) for g in ids)) for pair in part]

    result: list[tuple[str, Record]] = await ctx.shared("cloudian.bucketusage", fetch)
    return result


def _group_row(group: Record, user_count: int | None) -> Row:
    return {
        "group_id": req_str(group, "groupId"),
        "group_name": opt_str(group, "groupName"),
        "active": opt_bool(group, "active"),
        "user_count": user_count,
    }


async def _groups(ctx: Context) -> list[Batch]:
    found = [g for g in await groups(ctx) if isinstance(g, dict)]
    counts = await asyncio.gather(*(users(ctx, str(g.get("groupId"))) for g in found))
    batch = Batch("cloudian_group")
    rows = [{"group": g, "users": len(u)} for g, u in zip(found, counts, strict=True)]
    batch.map(rows, lambda r: _group_row(r["group"], r["users"]), "group.groupId")
    return [batch]


def _bucket_rows(group_id: str, user: Record) -> list[Row]:
    user_id = req_str(user, "userId")
    rows = []
    for i, b in enumerate(user.get("buckets") or []):
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
        batch.map([user], lambda u, g=gid: _bucket_rows(g, u), "userId")  # type: ignore[misc]
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
    batch = Batch("cloudian_storage_policy")
    batch.map(body or [], policy_row, "policyId")
    return [batch]


def fmt_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%d%H%M")


def series_rows(bucket: Row, op: str, answer: Any, hours: set[datetime]) -> list[Row]:
    """Hourly ``/usage`` rows → lake rows for the requested hours only."""
    if answer is None:
        return []
    if not isinstance(answer, list):
        raise RecordError(f"usage {op}: expected a list, got {type(answer).__name__}")
    rows = []
    for i, point in enumerate(answer):
        start = opt_time(point, "timestamp") if isinstance(point, dict) else None
        if start is None:
            raise RecordError(f"usage {op}[{i}].timestamp: missing")
        if start not in hours:
            continue
        rows.append(
            {
                **{k: bucket[k] for k in ("group_id", "user_id", "bucket", "storage_policy")},
                "operation": str(dig(point, "operation") or op),
                "interval_start": start,
                "interval_end": start + HOUR,
                "value": req_int(point, "value"),
            }
        )
    return rows


async def _series(ctx: Context) -> list[Batch]:
    batch = Batch("cloudian_usage")
    hours = set(ctx.series_hours)
    if not hours:
        return [batch]
    start, end = min(hours), max(hours) + HOUR
    listed = [r for g, u in await bucket_usage(ctx) for r in _safe_bucket_rows(g, u)]
    buckets = list({_bucket_key(b): b for b in [*ctx.known_buckets, *listed]}.values())

    async def one(b: Row, op: str) -> tuple[Row, str, Any]:
        params = {
            "id": f"{b['group_id']}|{b['user_id']}|{b['bucket']}",
            "operation": op,
            "startTime": fmt_time(start),
            "endTime": fmt_time(end),
            "granularity": "hour",
            "reversed": "false",
        }
        body, _ = await ctx.client.get_json("cloudian", "/usage", params)
        return b, op, body

    answers = await asyncio.gather(*(one(b, op) for b in buckets for op in OPERATIONS))
    records = [{"bucket": b, "op": op, "answer": a} for b, op, a in answers]
    batch.map(
        records, lambda r: series_rows(r["bucket"], r["op"], r["answer"], hours), "bucket.bucket"
    )
    return [batch]


def _bucket_key(row: Row) -> tuple[str, str, str]:
    return (str(row["group_id"]), str(row["user_id"]), str(row["bucket"]))


def _safe_bucket_rows(group_id: str, user: Record) -> list[Row]:
    try:
        return _bucket_rows(group_id, user)
    except RecordError:
        return []  # quarantined by the bucket-usage part; no series for it


PARTS = (
    Part(("cloudian_group",), _groups),
    Part(("cloudian_bucket_usage",), _buckets),
    Part(("cloudian_storage_policy",), _policies),
    Part(("cloudian_usage",), _series),
)
