"""FOCUS 1.2 export of a month's issued documents (Parquet + CSV).

Built from the register, not from the lake: every invoice, credit note and corrected invoice
of the month appears with its own ``InvoiceId`` (the document number), so the sum of
``BilledCost`` per ``InvoiceId`` equals that document's total. The SQL (``sql/marts/
focus_charges.sql``) unnests the frozen bodies and splits each line over its resources.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from metering.close.register import Document, DocumentKind
from metering.lake.storage import LakePath, temp_file_beside
from metering.lake.store import read_dataset
from metering.money import minor_unit
from metering.rating.engine import bounded_connection
from metering.reports.csvfile import TableWriter
from metering.resources import read_sql
from metering.window import Window

MANDATORY = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
CONDITIONAL = (
    "SubAccountId",
    "ResourceId",
    "SkuId",
    "ConsumedQuantity",
    "ConsumedUnit",
    "Tags",
    "RegionId",
    "AvailabilityZone",
)


# letters that Unicode does not decompose into a base letter and a mark
_FOLDS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ı": "i"}
)  # fmt: skip


def ascii_name(name: str, fallback: str) -> str:
    """``name`` in ASCII, for the FOCUS name columns (the validator's StringHandling check,
    BillingAccountName-C-002-M, admits only ASCII). An ASCII name stays exactly as it is;
    otherwise accents are dropped (``Müller`` → ``Muller``, ``Ørsted`` → ``Orsted``) and
    letters without an ASCII form (``東京``) are left out, with the spaces their removal
    doubled; ``fallback`` (the tenant id) when nothing is left. The exact name stays in
    ``x_BillingAccountNameUnicode``."""
    if name.isascii():
        return name
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLDS))
    kept = "".join(ch for ch in decomposed if ch.isascii())
    return re.sub(r"  +", " ", kept).strip() or fallback


_DOCUMENTS = pa.schema(
    [
        ("number", pa.string()),
        ("kind", pa.string()),
        ("tenant_id", pa.string()),
        ("tenant_name", pa.string()),
        ("tenant_name_ascii", pa.string()),
        ("currency", pa.string()),
        ("month", pa.string()),
        ("credits_number", pa.string()),
        ("is_correction", pa.bool_()),
        ("minor_scale", pa.int64()),
        ("minor_factor", pa.decimal128(10, 3)),
        ("issuer_name", pa.string()),
        ("region_id", pa.string()),
        ("period_start", pa.timestamp("us", tz="UTC")),
        ("period_end", pa.timestamp("us", tz="UTC")),
        ("body", pa.string()),
    ]
)


def _documents_table(
    docs: Sequence[Document],
    issuer: str,
    region_id: str,
    month_start: datetime,
    month_end: datetime,
    numbers: Mapping[int, str | None],
) -> pa.Table:
    rows = []
    for d in docs:
        body = d.body
        scale = 10 ** minor_unit(d.currency)
        rows.append(
            {
                "number": d.number,
                "kind": d.kind.value,
                "tenant_id": d.tenant_id,
                "tenant_name": body["bill_to"]["name"],
                "tenant_name_ascii": ascii_name(body["bill_to"]["name"], d.tenant_id),
                "currency": d.currency,
                "month": d.month,
                "credits_number": numbers.get(d.credits_id) if d.credits_id else None,
                "is_correction": d.kind is DocumentKind.CREDIT_NOTE or d.replaces_id is not None,
                "minor_scale": scale,
                "minor_factor": Decimal(1).scaleb(-minor_unit(d.currency)),
                "issuer_name": ascii_name(issuer, "Provider"),
                "region_id": region_id,
                "period_start": month_start,
                "period_end": month_end,
                "body": d.body_json,
            }
        )
    return pa.Table.from_pylist(rows, schema=_DOCUMENTS)


def _overhead(scheme: str, centres: list[dict[str, Any]]) -> Decimal | None:
    """Stored bytes per logical byte: replicas → total copies; EC k+m → (k+m)/k per DC that
    holds a full EC set (REPLICATED_EC), once for an EC set spread over DCs."""
    if scheme == "REPLICATION":
        copies = sum(int(c["replicas"] or 0) for c in centres)
        return Decimal(copies) if copies else None
    sets = [(int(c["ec_k"]), int(c["ec_m"])) for c in centres if c.get("ec_k")]
    if not sets:
        return None
    if scheme == "DISTRIBUTED_EC":
        sets = sets[:1]
    return sum((Decimal(k + m) / Decimal(k) for k, m in sets), Decimal(0))


def lake_replication_factors(lake: LakePath, month: Window) -> dict[str, Decimal]:
    """Each Cloudian storage policy's replication factor, from its last sample in ``month``."""
    table = read_dataset(lake, "cloudian_storage_policy", window=month)
    latest: dict[str, dict[str, Any]] = {}
    for row in table.select(["policy_name", "scheme", "data_centers", "sample_time"]).to_pylist():
        known = latest.get(row["policy_name"])
        if known is None or row["sample_time"] > known["sample_time"]:
            latest[row["policy_name"]] = row
    factors = {name: _overhead(r["scheme"], r["data_centers"] or []) for name, r in latest.items()}
    return {name: f.quantize(Decimal("0.0001")) for name, f in factors.items() if f is not None}


# FOCUS rows are built at most this many documents at a time (each batch one Parquet row group),
# in a DuckDB capped at FOCUS_MEMORY_LIMIT: a month's bodies, unnested, do not fit in memory at
# once. The close's own batch (`[invoicing] batch_tenants`, 250) was used until a full-size
# bench month (5,000 tenants with Org VDC allocation and guest-OS lines) ran out of the cap at
# 250 documents; 100 wrote it at a 604 MiB process peak.
FOCUS_BATCH = 100
FOCUS_MEMORY_LIMIT = "512MB"


def _batches(docs: Sequence[Document], size: int) -> Iterable[list[Document]]:
    """The documents in number order (the export's order), ``size`` at a time."""
    ordered = sorted(docs, key=lambda d: d.number or "")
    for start in range(0, max(len(ordered), 1), size):
        yield ordered[start : start + size]


def _batch_table(
    con: duckdb.DuckDBPyConnection,
    batch: list[Document],
    by_id: Mapping[int, Document],
    bodies: Callable[[list[int]], Mapping[int, str]],
    context: dict[str, Any],
    daily: bool = False,
) -> pa.Table:
    """The FOCUS rows of ``batch``. A credit note's charges are split over its credited
    invoice's usage, so that invoice's body comes along; its own rows are dropped. ``daily``:
    usage rows split per day (``focus_daily_weights`` registered)."""
    ids = {d.id for d in batch} | {d.credits_id for d in batch if d.credits_id in by_id}
    texts = bodies(sorted(i for i in ids if i is not None))
    docs = [dataclasses.replace(by_id[i], body_json=texts[i]) for i in sorted(texts)]
    con.register("close_documents", _documents_table(docs, **context))
    table = con.sql(read_sql("marts/focus_charges.sql")).to_arrow_table()
    wanted = pa.array([d.number for d in batch], pa.string())
    table = table.filter(pc.is_in(table.column("InvoiceId"), value_set=wanted))
    return _split_days(con, table) if daily else table


# the columns of rated_usage that split a month's usage row over its days
DAILY_COLUMNS = (
    "tenant_id", "site", "resource_id", "product", "dimension", "rate_card_id", "usage_date",
    "quantity", "filled_hours",
)  # fmt: skip


def _split_days(con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Table:
    """``table``'s usage rows split per day (sql/marts/focus_charges_daily.sql), in its order
    and with its schema."""
    rows = table.append_column("row_id", pa.array(range(table.num_rows), pa.int64()))
    con.register("focus_month_rows", rows)
    try:
        split = con.sql(read_sql("marts/focus_charges_daily.sql")).to_arrow_table()
    finally:
        con.unregister("focus_month_rows")
    return split.select(table.schema.names).cast(table.schema)


def write_focus(
    docs: Sequence[Document],
    bodies: Callable[[list[int]], Mapping[int, str]],
    paths: tuple[Path, Path],
    *,
    issuer: str,
    region_id: str,
    month_start: datetime,
    month_end: datetime,
    replication_factors: Mapping[str, Decimal],
    batch: int = FOCUS_BATCH,
    daily: pa.Table | None = None,
) -> None:
    """Write the FOCUS Parquet and CSV of ``docs`` (issued and credited documents of one
    month; their ``body_json`` may be empty: ``bodies`` reads them by id, a batch at a time)
    to ``paths``, each atomically: Parquet (zstd, DECIMAL kept, text as is, one row group a
    batch) and CSV (every text field quoted, and one a spreadsheet would run as a formula
    gets a leading apostrophe: reports/csvfile). ``daily``: the month's ``rated_usage``
    (``DAILY_COLUMNS``) to split each usage row per day by; None: whole-month rows."""
    context: dict[str, Any] = {
        "issuer": issuer,
        "region_id": region_id,
        "month_start": month_start.astimezone(UTC),
        "month_end": month_end.astimezone(UTC),
        "numbers": {d.id: d.number for d in docs},
    }
    factors = pa.table(
        {
            "policy_name": pa.array(list(replication_factors), pa.string()),
            "replication_factor": pa.array(list(replication_factors.values()), pa.decimal128(9, 4)),
        }
    )
    by_id = {d.id: d for d in docs}
    temps = [temp_file_beside(path, prefix=f".{path.name}.") for path in paths]
    for fd, _ in temps:
        os.close(fd)
    try:
        with bounded_connection(FOCUS_MEMORY_LIMIT) as con:
            con.register("storage_policy_factors", factors)
            if daily is not None:
                con.register("focus_daily_weights", daily.select(list(DAILY_COLUMNS)))
            _write_batches(
                con, docs, by_id, bodies, context, batch, (temps[0][1], temps[1][1]), daily
            )
        for (_, tmp), path in zip(temps, paths, strict=True):
            os.replace(tmp, path)
    finally:
        for _, tmp in temps:
            Path(tmp).unlink(missing_ok=True)


def _write_batches(
    con: duckdb.DuckDBPyConnection,
    docs: Sequence[Document],
    by_id: Mapping[int, Document],
    bodies: Callable[[list[int]], Mapping[int, str]],
    context: dict[str, Any],
    batch: int,
    temps: tuple[str, str],
    daily: pa.Table | None,
) -> None:
    """Each batch's rows appended to the Parquet and CSV temp files (fsynced at the end)."""
    parquet_tmp, csv_tmp = temps
    parquet: pq.ParquetWriter | None = None
    with open(parquet_tmp, "wb") as parquet_file, open(csv_tmp, "wb") as csv_file:
        csv = TableWriter(csv_file)
        try:
            for group in _batches(docs, min(batch, FOCUS_BATCH)):
                table = _batch_table(con, group, by_id, bodies, context, daily is not None)
                if parquet is None:
                    parquet = pq.ParquetWriter(parquet_file, table.schema, compression="zstd")
                parquet.write_table(table)
                csv.write_table(table)
        finally:
            if parquet is not None:
                parquet.close()
            csv.close()
        for handle in (parquet_file, csv_file):
            handle.flush()
            os.fsync(handle.fileno())
