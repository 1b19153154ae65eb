"""Property: FOCUS splits each rounded line over its resources exactly, to the cent."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from metering.close.register import Document, DocumentKind, DocumentState
from metering.reports.focus import write_focus
from tests.reports import focus_rules

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
weights = st.lists(
    st.integers(min_value=1, max_value=10**12).map(lambda n: Decimal(n).scaleb(-9)),
    min_size=1,
    max_size=8,
)


def _doc(line_amount: Decimal, usage: list[Decimal], tax: Decimal, name: str = "T") -> Document:
    total = line_amount + tax
    body = {
        "bill_to": {"name": name},
        "lines": [
            {
                "line_no": 1,
                "service": "Compute",
                "product": "vcpu",
                "dimension": "",
                "site": "az1",
                "description": "vCPU",
                "quantity": "100",
                "unit": "vCPU-hour",
                "unit_price": "0.01",
                "rate_card_id": "c",
                "price_from": None,
                "price_to": None,
                "list_amount": str(line_amount),
                "estimated": False,
            }
        ],
        "totals": {
            "lines_amount": str(line_amount),
            "discount_amount": "0.00",
            "minimum_adjustment": "0.00",
            "subtotal_amount": str(line_amount),
            "tax_rate": "0.1",
            "tax_amount": str(tax),
            "total_amount": str(total),
        },
        "usage": [
            {
                "site": "az1",
                "resource_id": f"r{i}",
                "resource_name": f"r{i}",
                "product": "vcpu",
                "dimension": "",
                "list_amount": str(w),
            }
            for i, w in enumerate(usage)
        ],
    }
    return Document(
        1,
        "p",
        "2026-10",
        "t",
        DocumentKind.INVOICE,
        DocumentState.ISSUED,
        1,
        "INV-1",
        "h",
        "EUR",
        str(total),
        None,
        None,
        "2026-11-01T00:00:00+00:00",
        json.dumps(body),
    )


def _focus(docs: list[Document]) -> tuple[pa.Table, list[str]]:
    """The FOCUS export the close writes for ``docs``: the Parquet table and the CSV lines."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = (Path(tmp) / "focus.parquet", Path(tmp) / "focus.csv")
        write_focus(
            docs,
            lambda ids: {d.id: d.body_json for d in docs if d.id in ids},
            paths,
            issuer="P",
            region_id="r",
            month_start=datetime(2026, 10, 1, tzinfo=UTC),
            month_end=datetime(2026, 11, 1, tzinfo=UTC),
            replication_factors={},
        )
        return pq.read_table(paths[0]), paths[1].read_text(encoding="utf-8").splitlines()


@settings(max_examples=20, deadline=None)
@given(line=cents, usage=weights, tax=cents)
def test_split_sums_to_the_line_and_each_share_is_within_a_cent(line, usage, tax):
    table = _focus([_doc(line, usage, tax)])[0].to_pylist()
    shares = {r["ResourceId"]: r["BilledCost"] for r in table if r["ChargeCategory"] == "Usage"}
    assert sum(shares.values(), Decimal(0)) == line
    assert sum((r["BilledCost"] for r in table), Decimal(0)) == line + tax
    whole = sum(usage, Decimal(0))
    for i, w in enumerate(usage):
        exact = line * w / whole
        assert abs(shares[f"r{i}"] - exact) < Decimal("0.01")


def test_focus_csv_defuses_formula_like_tenant_names_and_parquet_keeps_them() -> None:
    one = Decimal(1)
    docs = [
        _doc(Decimal("1.50"), [one], Decimal("0.15"), name='=HYPERLINK("http://x")'),
        replace(_doc(Decimal("2.00"), [one], Decimal(0), name="@SUM(A1)"), id=2, number="INV-2"),
        replace(_doc(Decimal("-1.50"), [one], Decimal(0), name="plain"), id=3, number="INV-3"),
    ]
    table, csv = _focus(docs)
    assert table.column("BillingAccountName").to_pylist()[0] == '=HYPERLINK("http://x")'
    names = set(table.column("BillingAccountName").to_pylist())
    assert names == {'=HYPERLINK("http://x")', "@SUM(A1)", "plain"}  # Parquet: text as is
    assert len(csv) == 1 + table.num_rows
    assert any(line.startswith("\"'=HYPERLINK") or ",\"'=HYPERLINK" in line for line in csv)
    assert not any(',"=' in line or ',"@' in line or line.startswith(('"=', '"@')) for line in csv)
    assert any(",\"'@SUM(A1)" in line for line in csv)
    plain = [line for line in csv if '"plain"' in line]
    assert plain and all("-1.50" in line and "'-1.50" not in line for line in plain[:1])


def test_focus_resource_names_are_ascii_as_string_handling_requires() -> None:
    """An Org VDC is named after its org ('Café Müller-vdc'): FOCUS StringHandling wants ASCII."""
    doc = _doc(Decimal("3.00"), [Decimal(1), Decimal(1), Decimal(1)], Decimal(0))
    body = json.loads(doc.body_json)
    for usage, name in zip(body["usage"], ["Café Müller-vdc", "東京", "web-01"], strict=True):
        usage["resource_name"] = name
    table = _focus([replace(doc, body_json=json.dumps(body))])[0]
    names = {r["ResourceId"]: r["ResourceName"] for r in table.to_pylist() if r["ResourceId"]}
    assert names == {"r0": "Cafe Muller-vdc", "r1": "r1", "r2": "web-01"}
    assert focus_rules.violations(table, ["BillingAccountName-C-002-M"]) == {}
