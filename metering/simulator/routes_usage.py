"""Cloudian ``GET /usage``: hourly (or daily/monthly) series per group, user or bucket.

``id`` is ``<groupId>``, ``<groupId>|<userId>`` or ``<groupId>|<userId>|<bucket>``;
``operation`` one of SB (stored bytes), SO (stored objects), HG/HP/HD (GET/PUT/DELETE
requests), BI/BO (bytes in/out). Only completed hours (before the simulated now) are served,
and only hours in which a selected bucket existed. A row:
``{"timestamp": "<epoch ms of the interval start>", "operation", "value", "count",
"maxValue", "averageValue", "whitelistValue"}``. For SB/SO, ``value`` is the level during the
hour; for a day or month it is the maximum (``averageValue`` the floor of the mean). For
requests and bytes in/out, ``value`` is the sum over the interval. A deleted bucket's
history stays queryable by its id (it no longer appears in ``/system/bucketusage``). An
unknown group, user or bucket answers 400, as ``/system/bucketusage`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from metering.simulator import views_storage
from metering.simulator.views_vcd import View

HOUR_SECONDS = 3600
LEVELS = ("SB", "SO")
GRANULARITIES = ("raw", "hour", "day", "month")


def _when(text: str | None, name: str) -> datetime:
    if not text or len(text) != 12 or not text.isdigit():
        raise ValueError(f"{name} must be YYYYMMDDhhmm, got {text!r}")
    try:  # slicing, not strptime: every /usage call parses two of these
        year, month, day, hour = int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10])
        return datetime(year, month, day, hour, int(text[10:]), tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{name} must be a valid YYYYMMDDhhmm time, got {text!r}") from None


def _hour_of(v: View, when: datetime) -> int:
    """The first whole hour index at or after ``when``."""
    seconds = (when - v.start).total_seconds()
    return int(-(-seconds // HOUR_SECONDS))


def _bucket_key(v: View, h: int, granularity: str) -> str:
    when = v.start.timestamp() + h * HOUR_SECONDS
    stamp = datetime.fromtimestamp(when, tz=UTC)
    if granularity == "day":
        stamp = stamp.replace(hour=0)
    elif granularity == "month":
        stamp = stamp.replace(day=1, hour=0)
    return str(int(stamp.timestamp()) * 1000)


def usage(request: Request, v: View) -> Response:
    p = request.query_params
    ident, op = p.get("id"), p.get("operation")
    if not ident or not op:
        raise ValueError("id and operation are required")
    if op not in views_storage.OPERATIONS:
        raise ValueError(f"unknown operation {op!r}")
    granularity = p.get("granularity", "raw")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
    start, end = _when(p.get("startTime"), "startTime"), _when(p.get("endTime"), "endTime")
    parts = ident.split("|", 2)
    selector = dict(zip(("groupId", "userId", "bucketName"), parts, strict=False))
    picked = views_storage.select(v, selector, history=True)
    if picked is None:
        return Response("no such group, user or bucket", status_code=400)
    lo, hi = _hour_of(v, start), min(_hour_of(v, end), v.hour)
    values, present = views_storage.series(v, picked[1], op, lo, max(lo, hi))
    rows = _rows(v, op, granularity, lo, values, present)
    if p.get("reversed", "false").lower() == "true":
        rows.reverse()
    limit = p.get("limit")
    return JSONResponse(rows[: int(limit)] if limit and limit.isdigit() else rows)


def _rows(
    v: View, op: str, granularity: str, lo: int, values: Any, present: Any
) -> list[dict[str, Any]]:
    groups: dict[str, list[int]] = {}
    for k in np.flatnonzero(present > 0).tolist():
        key = _bucket_key(v, lo + k, "hour" if granularity == "raw" else granularity)
        groups.setdefault(key, []).append(int(values[k]))
    rows = []
    for stamp, items in groups.items():
        total = sum(items)
        value = max(items) if op in LEVELS else total
        rows.append(
            {
                "timestamp": stamp,
                "operation": op,
                "value": value,
                "count": len(items),
                "maxValue": max(items),
                "averageValue": total // len(items),
                "whitelistValue": 0,
            }
        )
    return rows
