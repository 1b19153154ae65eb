"""A consolidated day, checked once when it is made and summed in its file's footer.

No usage may be billed twice. Within a day, consolidation checks that before
it writes the day's file (``sql/audits/day/audit_day_intervals.sql``): no two intervals of
one resource, product, dimension and measure overlap, and each lies inside its day. It then
records the day's *digest* in the file's footer (key ``metering.day_digest``, beside the
settings of :mod:`metering.rating.provenance`): the day, how many intervals, and the sums of
their start and end seconds and of their levels
(``sql/audits/day/day_digest.sql``).

Rating proves the month free of double counting without sorting its intervals again
(``sql/audits/audit_no_double_counting.sql``): it sums the month's intervals per
``usage_date`` the same way and compares them with the digests of the month's files
(``usage_days``, registered beside ``usage_intervals`` by every engine). A day rated twice (a
copy of its rows in another file), in part, or changed after its check does not match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa

from metering.errors import RatingError
from metering.lake.storage import LakePath
from metering.rating.engine import audit, connect, quote
from metering.rating.provenance import read_footer_json, with_footer_json
from metering.resources import read_sql
from metering.window import Window

DAY_AUDIT = "audits/day/audit_day_intervals.sql"
DAY_DIGEST = "audits/day/day_digest.sql"
# The day's SQL is part of the consolidation rules: changing it makes every day stale.
DAY_MODELS = (DAY_AUDIT, DAY_DIGEST)
# The rows' checksum is not a rule of the consolidation (a day without one is still a good
# day): only the reuse of the day's rated lineage needs it (metering.rating.day_lineage).
DAY_FINGERPRINT = "audits/day/day_fingerprint.sql"

USAGE_DAYS_SCHEMA = pa.schema(
    [
        ("usage_date", pa.date32()),
        ("intervals", pa.int64()),
        ("start_seconds", pa.int64()),
        ("end_seconds", pa.int64()),
        ("level_sum", pa.decimal128(38, 9)),
    ]
)
# The footer key of the digest (a JSON object of text values, as the settings').
KEY = b"metering.day_digest"
FIELDS = tuple(USAGE_DAYS_SCHEMA.names)
# Recorded in the same object, beside the digest's fields (day_fingerprint.sql).
FINGERPRINT = "fingerprint"


def _digests(con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Table:
    """``day_digest.sql`` over ``table`` (one row per usage_date)."""
    con.register("day_intervals", table)
    try:
        return con.sql(read_sql(DAY_DIGEST)).to_arrow_table().cast(USAGE_DAYS_SCHEMA)
    finally:
        con.unregister("day_intervals")


def check_day(con: duckdb.DuckDBPyConnection, day: date, table: pa.Table) -> dict[str, str]:
    """Audit ``day``'s intervals (``table``, as they are about to be written) and return
    the digest its file records; any bad row refuses the day with one line naming it."""
    window = Window.day(day)
    con.execute(
        "create or replace temp view day_window as select "
        f"cast({quote(window.start.isoformat())} as timestamptz) as day_start, "
        f"cast({quote(window.end.isoformat())} as timestamptz) as day_end"
    )
    con.register("day_intervals", table)
    try:
        bad = audit(con, DAY_AUDIT)
    finally:
        con.unregister("day_intervals")
    if bad:
        shown = "; ".join(str(row) for row in bad[:3])
        raise RatingError(
            f"consolidating {day.isoformat()}: audit audit_day_intervals found {len(bad)} bad "
            f"row(s), so the day was not written: {shown}",
            window=window,
        )
    rows = _digests(con, table).to_pylist()
    digest = rows[0] if rows else {"usage_date": day, **dict.fromkeys(FIELDS[1:], 0)}
    return {**{name: str(digest[name]) for name in FIELDS}, FINGERPRINT: _fingerprint(con, table)}


def _fingerprint(con: duckdb.DuckDBPyConnection, table: pa.Table) -> str:
    """``day_fingerprint.sql`` over ``table``: its rows' checksum."""
    con.register("day_intervals", table)
    try:
        rows = con.execute(read_sql(DAY_FINGERPRINT)).fetchall()
    finally:
        con.unregister("day_intervals")
    return str(rows[0][0]) if rows else ""


def with_digest(table: pa.Table, digest: Mapping[str, str]) -> pa.Table:
    """``table`` with ``digest`` in its schema metadata (kept in the Parquet footer)."""
    return with_footer_json(table, KEY, digest)


def read_digest(path: LakePath) -> dict[str, str] | None:
    """The digest a day file records (None: written before digests, or by hand)."""
    return read_footer_json(path, KEY)


def fingerprints(files: Iterable[LakePath]) -> dict[date, str]:
    """The rows' checksum each day file records, by usage_date (a file written before
    fingerprints, or by hand, has none and is left out)."""
    found: dict[date, str] = {}
    for path in files:
        text = read_digest(path)
        if text and text.get(FINGERPRINT) and text.get("usage_date"):
            found[date.fromisoformat(text["usage_date"])] = text[FINGERPRINT]
    return found


def checked(table: pa.Table, day: date) -> dict[str, str]:
    """:func:`check_day` on a connection of its own (a day file made outside consolidation)."""
    con = connect()
    try:
        return check_day(con, day, table)
    finally:
        con.close()


def _digest_row(text: Mapping[str, str] | None) -> dict[str, object] | None:
    if text is None or any(name not in text for name in FIELDS):
        return None
    return {
        "usage_date": date.fromisoformat(text["usage_date"]),
        "intervals": int(text["intervals"]),
        "start_seconds": int(text["start_seconds"]),
        "end_seconds": int(text["end_seconds"]),
        "level_sum": Decimal(text["level_sum"]),
    }


def usage_days(files: Iterable[LakePath]) -> pa.Table:
    """The digests the day files record (a file recording none has no row: the month's
    audit then refuses its day)."""
    rows = [row for path in files if (row := _digest_row(read_digest(path))) is not None]
    return pa.Table.from_pylist(rows, schema=USAGE_DAYS_SCHEMA)


def usage_days_of(table: pa.Table) -> pa.Table:
    """The digests of usage intervals not read from day files (a quote's or a test's table),
    per usage_date, as if each day had been consolidated as it is."""
    con = connect()
    try:
        return _digests(con, table)
    finally:
        con.close()
