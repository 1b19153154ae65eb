"""Hostile tenant and resource names through a whole close: every CSV handed out (usage CSV,
provider report, FOCUS) keeps one row per record with the name intact and defused, and the
invoice still shows the right total."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq

from metering.close.register import Register
from metering.close.settings import load_settings
from tests.close.builders import (
    FROZEN_NOW,
    MONTH,
    build_month,
    load_case,
    rating_rows,
    write_rating,
)
from tests.close.test_close import pdf_text

TENANT = '\t=HYPERLINK("http://x")\r=1+1'  # a tab first, a CR inside
RESOURCE = "  =cmd|' /C calc'!A0\n@SUM(A1)"  # blanks before =, a LF inside


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def _evaluated(cell: str) -> bool:
    return cell.startswith(("\t", "\r", "\n")) or cell.lstrip().startswith(("=", "+", "@"))


def test_hostile_names_survive_a_close_in_every_csv(tmp_path: Path) -> None:
    from metering.close.run import close_month

    config = build_month(tmp_path)
    catalog = config.tenant_catalog
    toml_name = TENANT.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    toml_name = toml_name.replace("\r", "\\r")
    catalog.write_text(
        catalog.read_text(encoding="utf-8").replace(
            'billing_name = "ACME Industries GmbH"', f'billing_name = "{toml_name}"'
        ),
        encoding="utf-8",
    )
    tables = rating_rows(load_case())
    for row in tables["invoice_totals"]:
        if row["tenant_id"] == "acme":
            row["tenant_name"] = TENANT
    for row in tables["rated_usage"]:
        if row["resource_id"] == "vm-1":
            row["resource_name"] = RESOURCE
    write_rating(config, tables)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)

    # the provider report names no tenant; its private label mapping: one row per tenant,
    # the name defused and intact
    report = _rows(result.outputs["provider_csv"])
    assert {len(r) for r in report} == {len(report[0])}
    assert not any(TENANT in c for r in report for c in r)
    quantity = report[0].index("quantity")
    assert not any(_evaluated(c) for r in report[1:] for i, c in enumerate(r) if i != quantity)
    csv_path = result.outputs["provider_csv"]
    mapping = _rows(csv_path.with_name(csv_path.name.replace(".csv", ".labels.csv")))
    assert {len(r) for r in mapping} == {3}
    assert [r[2] for r in mapping[1:] if r[1] == "acme"] == ["'" + TENANT]
    assert not any(_evaluated(c) for r in mapping[1:] for c in r)

    # the usage CSV of ACME's invoice
    register = Register(load_settings(config).register_path, config.name)
    try:
        (doc,) = [d for d in register.documents("2026-10") if d.tenant_id == "acme"]
    finally:
        register.close()
    usage = _rows(config.out_dir / "invoices" / "2026-10" / f"{doc.number}-usage.csv")
    assert {len(r) for r in usage} == {len(usage[0])}
    names = {r[4] for r in usage[1:] if r[3] == "vm-1"}
    assert names == {"'" + RESOURCE}

    # FOCUS: as many CSV rows as Parquet rows; Parquet keeps the names as they are
    focus = _rows(result.outputs["focus_csv"])
    table = pq.read_table(result.outputs["focus_parquet"])
    assert len(focus) == 1 + table.num_rows and {len(r) for r in focus} == {len(focus[0])}
    billed = focus[0].index("BillingAccountName")
    assert "'" + TENANT in {r[billed] for r in focus[1:]}
    assert TENANT in set(table.column("BillingAccountName").to_pylist())

    # and the invoice's total is the rating's, to the cent
    text = pdf_text(config.out_dir / "invoices" / "2026-10" / f"{doc.number}.pdf")
    assert "94,66" in text
