"""The schema of ``usage_intervals``: consolidated usage, one row per unchanged stretch.

Written by :func:`metering.rating.consolidate.consolidate_day` to
``<lake>/usage_intervals/date=YYYY-MM-DD/part.parquet``; read by rating and by the warehouse
view of the same name (docs/data-dictionary.md).
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

INTERVALS_SCHEMA = pa.schema(
    [
        ("usage_date", pa.date32()),
        ("site", pa.string()),
        ("dataset", pa.string()),
        ("org_name", pa.string()),
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("resource_name", pa.string()),
        ("parent_id", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("measure", pa.string()),
        ("level", pa.decimal128(18, 9)),
        ("interval_start", TS),
        ("interval_end", TS),
        ("samples", pa.int64()),
        ("filled", pa.bool_()),
    ]
)
