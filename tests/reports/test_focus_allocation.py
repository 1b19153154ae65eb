"""Property: FOCUS splits each rounded line over its resources exactly, to the cent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from metering.close.register import Document, DocumentKind, DocumentState
from metering.reports.focus import focus_table

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
weights = st.lists(
    st.integers(min_value=1, max_value=10**12).map(lambda n: Decimal(n).scaleb(-9)),
    min_size=1,
    max_size=8,
)


def _doc(line_amount: Decimal, usage: list[Decimal], tax: Decimal) -> Document:
    total = line_amount + tax
    body = {
        "bill_to": {"name": "T"},
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


@settings(max_examples=20, deadline=None)
@given(line=cents, usage=weights, tax=cents)
def test_split_sums_to_the_line_and_each_share_is_within_a_cent(line, usage, tax):
    table = focus_table(
        [_doc(line, usage, tax)],
        issuer="P",
        region_id="r",
        month_start=datetime(2026, 10, 1, tzinfo=UTC),
        month_end=datetime(2026, 11, 1, tzinfo=UTC),
        replication_factors={},
    ).to_pylist()
    shares = {r["ResourceId"]: r["BilledCost"] for r in table if r["ChargeCategory"] == "Usage"}
    assert sum(shares.values(), Decimal(0)) == line
    assert sum((r["BilledCost"] for r in table), Decimal(0)) == line + tax
    whole = sum(usage, Decimal(0))
    for i, w in enumerate(usage):
        exact = line * w / whole
        assert abs(shares[f"r{i}"] - exact) < Decimal("0.01")


def test_focus_csv_defuses_formula_like_text_and_parquet_keeps_it() -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from metering.reports.focus import focus_files

    table = pa.table(
        {
            "SubAccountName": ['=HYPERLINK("http://x")', "plain", "@SUM(A1)", None],
            "BilledCost": pa.array(
                [Decimal("-1.50"), Decimal("2.00"), Decimal("0.10"), Decimal("0")],
                type=pa.decimal128(18, 2),
            ),
        }
    )
    parquet, csv = focus_files(table)
    text = csv.decode("utf-8").splitlines()
    assert text[1].startswith("\"'=HYPERLINK") and text[1].endswith(",-1.50")
    assert text[2] == '"plain",2.00'
    assert text[3].startswith('"\'@SUM(A1)"')
    assert pq.read_table(io.BytesIO(parquet)).column("SubAccountName")[0].as_py().startswith("=")
