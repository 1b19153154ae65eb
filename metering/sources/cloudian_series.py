"""Cloudian's hourly usage series (``GET /usage``), read per bucket and operation.

Cloudian keeps this history itself, so each hour is read as an interval (never re-sampled),
and a missed hour can be read later (backfill). What is accepted (docs/collectors.md,
Cloudian): a 200 with a JSON list of points. A 204, an object, or an empty series of bytes
stored for a bucket that ``/system/bucketusage`` lists and that the lake already held at
those hours is not what the API answers for that call: it fails the part with the reason,
so the hours stay missing and the next run reads them again. A bucket that is no longer
listed (deleted since) may answer 400 or nothing: it has no rows.

Two points of one answer for the same hour with different values are a *conflict*: the value
collected last (the later point of the answer) is kept, every other one is quarantined with a
reason that starts ``conflict:``, so the run log counts them (docs/metering-rules.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from metering.errors import SourceDataError
from metering.sources.base import Context
from metering.sources.records import (
    Batch,
    Quarantined,
    Record,
    RecordError,
    Row,
    opt_time,
    req_int,
)

# The series rating reads (sql/intermediate/int_cloudian_intervals.sql): bytes stored, GET/
# PUT/DELETE counts and bytes in/out. SO (stored objects) is not requested: nothing
# downstream reads it and /system/bucketusage already gives each bucket's object count.
OPERATIONS = ("SB", "HG", "HP", "HD", "BI", "BO")
LEVEL = "SB"
HOUR = timedelta(hours=1)
CONFLICT = "conflict"
T = TypeVar("T")
_GONE: object = object()  # a bucket no longer listed that /usage no longer knows


async def settle(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Await every call, then raise the first failure: a failed call never leaves the others
    running (and their connections open) after the part has given up."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def fmt_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%d%H%M")


def bucket_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(row["group_id"]), str(row["user_id"]), str(row["bucket"]))


def point_row(bucket: Row, op: str, point: Record, hours: set[datetime]) -> Row | None:
    """One ``/usage`` point → a lake row, or None when its hour was not asked for."""
    start = opt_time(point, "timestamp")
    if start is None:
        raise RecordError("timestamp: missing")
    if start.minute or start.second or start.microsecond:
        raise RecordError(f"timestamp: {start.isoformat()} is not on a whole hour")
    if start not in hours:
        return None
    given = point.get("operation")
    if given not in (None, "", op):
        raise RecordError(f"operation: asked for {op}, got {given!r}")
    return {
        **{k: bucket[k] for k in ("group_id", "user_id", "bucket", "storage_policy")},
        "operation": op,
        "interval_start": start,
        "interval_end": start + HOUR,
        "value": req_int(point, "value"),
    }


def _quarantine(batch: Batch, point: Any, bucket: Row, op: str, reason: str) -> None:
    stamp = point.get("timestamp") if isinstance(point, Mapping) else None
    batch.rejected.append(
        Quarantined(
            dataset=batch.dataset,
            record_key=f"{'|'.join(bucket_key(bucket))} {op} {stamp}",
            reason=reason,
            raw_record=json.dumps(point, sort_keys=True, default=str),
        )
    )


def read_answer(
    batch: Batch, bucket: Row, op: str, answer: list[Any], hours: set[datetime]
) -> None:
    """Map one answer's points into ``batch``: a bad point is quarantined naming its field;
    one row per hour, the value collected last (the later point) wins, and every other,
    different value is quarantined as a conflict (equal repeats agree and are dropped)."""
    rows: dict[datetime, tuple[Row, Any]] = {}
    for point in answer:
        try:
            if not isinstance(point, Mapping):
                raise RecordError(f"point is a {type(point).__name__}, not an object")
            row = point_row(bucket, op, point, hours)
        except RecordError as exc:
            _quarantine(batch, point, bucket, op, f"usage {op}: {exc}")
            continue
        if row is None:
            continue
        earlier = rows.get(row["interval_start"])
        if earlier is not None and earlier[0]["value"] != row["value"]:
            reason = (
                f"{CONFLICT}: {op} of bucket {row['bucket']} at "
                f"{row['interval_start'].isoformat()} was {earlier[0]['value']}, then "
                f"{row['value']}; kept {row['value']} (the value collected last)"
            )
            _quarantine(batch, earlier[1], bucket, op, reason)
        rows[row["interval_start"]] = (row, point)
    batch.rows.extend(row for row, _ in rows.values())


async def _answer(ctx: Context, bucket: Row, op: str, params: dict[str, str], listed: bool) -> Any:
    name = "/".join(bucket_key(bucket))
    try:
        body, response = await ctx.client.get_json("cloudian", "/usage", params, allow_empty=True)
    except SourceDataError as exc:
        if not listed:
            return _GONE  # deleted since: its history may be gone too
        raise SourceDataError(
            f"/usage {op} of bucket {name}, which /system/bucketusage lists: {exc.message}",
            site=ctx.site.name,
        ) from None
    if response.status_code == 204:
        if not listed:
            return _GONE
        raise SourceDataError(
            f"/usage {op} of bucket {name}: HTTP 204 where the API answers a JSON list",
            site=ctx.site.name,
        )
    if body is not None and not isinstance(body, list):
        raise SourceDataError(
            f"/usage {op} of bucket {name}: expected a JSON list, got {type(body).__name__}",
            site=ctx.site.name,
        )
    return body or []


def _require_level(
    ctx: Context, answers: Iterable[tuple[Row, str, Any]], listed: set[Any], seen: set[Any]
) -> None:
    """Bytes stored of a bucket that exists (listed now) and that the lake saw at or before
    the start of the last requested hour cannot be an empty series: that answer is refused,
    never read as "no bytes". A bucket first seen later may have been created within the
    last hour, so its empty series is accepted."""
    for bucket, op, answer in answers:
        key = bucket_key(bucket)
        if op == LEVEL and answer == [] and key in listed and key in seen:
            raise SourceDataError(
                f"/usage SB of bucket {'/'.join(key)}: empty, although the bucket is listed "
                "by /system/bucketusage and held bytes at these hours",
                site=ctx.site.name,
            )


async def series(ctx: Context, listed_rows: list[Row]) -> Batch:
    """The ``cloudian_usage`` batch for ``ctx.series_hours`` of every bucket listed now or
    known to the lake around those hours."""
    batch = Batch("cloudian_usage")
    hours = set(ctx.series_hours)
    if not hours:
        return batch
    start, end = min(hours), max(hours) + HOUR
    listed = {bucket_key(b) for b in listed_rows}
    # held bytes at a requested hour: the lake saw it at or before the last hour's start
    seen = {
        bucket_key(b)
        for b in ctx.known_buckets
        if b.get("seen_at") is not None and b["seen_at"] <= max(hours)
    }
    buckets = list({bucket_key(b): b for b in [*ctx.known_buckets, *listed_rows]}.values())

    async def one(b: Row, op: str) -> tuple[Row, str, Any]:
        params = {
            "id": "|".join(bucket_key(b)),
            "operation": op,
            "startTime": fmt_time(start),
            "endTime": fmt_time(end),
            "granularity": "hour",
            "reversed": "false",
        }
        return b, op, await _answer(ctx, b, op, params, bucket_key(b) in listed)

    answers = await settle(one(b, op) for b in buckets for op in OPERATIONS)
    _require_level(ctx, answers, listed, seen)
    for bucket, op, answer in answers:
        if answer is not _GONE:
            read_answer(batch, bucket, op, answer, hours)
    return batch
