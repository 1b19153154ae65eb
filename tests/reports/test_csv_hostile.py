"""Hostile names in every CSV metering hands out: one row per record, nothing a spreadsheet
evaluates (OWASP CSV injection: leading =, +, -, @, tab, CR, also after blanks)."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from metering.reports import invoice
from metering.reports.csvfile import csv_bytes, neutralise
from metering.reports.focus import ascii_name, write_focus
from metering.reports.provider import report_csv
from tests.reports.test_focus_allocation import _doc

# a line break inside a name: unquoted, a spreadsheet starts a new row with =1+1
BREAKING = ["a\r=1+1", "b\n=2+2", 'quote " and, comma; semi']
LEADING = [
    "\t=cmd|' /C calc'!A0",
    '   =HYPERLINK("http://x")',
    " \t+1",
    "\uff1dSUM(A1)",  # full-width =
    "-1+2",
    "\r=1",
]
HOSTILE = BREAKING + LEADING


def _shown(name: str) -> str:
    """How a name must appear in a CSV cell once parsed."""
    return "'" + name if name in LEADING else name


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _evaluated(cell_text: str) -> bool:
    """Whether a spreadsheet would read this cell as a formula."""
    return cell_text.startswith(("\t", "\r", "\n")) or cell_text.lstrip().startswith(
        ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
    )


@pytest.mark.parametrize("name", LEADING)
def test_neutralise_defuses_every_formula_lead(name: str) -> None:
    safe = neutralise(name)
    assert safe.startswith("'") and safe[1:] == name


def test_plain_names_are_left_alone() -> None:
    for name in ("ACME GmbH", "a=b", "x-1", "élan", ""):
        assert neutralise(name) == name


def test_provider_report_keeps_one_row_per_record_whatever_the_name() -> None:
    rows = [
        {
            "month": "2026-10",
            "site": "az1",
            "customer_label": f"c-{i}",
            "product": "vm",
            "dimension": name,
            "metric": "vms",
            "quantity": Decimal("-1.5"),
            "unit": "VMs",
        }
        for i, name in enumerate(HOSTILE)
    ]
    parsed = _rows(report_csv(rows))
    assert len(parsed) == 1 + len(HOSTILE)
    for name, row in zip(HOSTILE, parsed[1:], strict=True):
        assert row[4] == _shown(name)  # the name, intact, defused
        assert row[6] == "-1.5"  # a real number stays a number
        assert not any(_evaluated(c) for i, c in enumerate(row) if i != 6)


def test_usage_csv_keeps_one_row_per_record_whatever_the_name() -> None:
    usage = [
        {
            "site": "az1",
            "resource_id": name,
            "resource_name": name,
            "product": "vcpu",
            "dimension": "",
            "unit": "vCPU-hour",
            "quantity": "2",
            "list_amount": "-0.5",
            "first_date": "2026-10-01",
            "last_date": "2026-10-31",
        }
        for name in HOSTILE
    ]
    parsed = _rows(invoice.usage_csv("INV-1", {"tenant_id": "t", "usage": usage}))
    assert len(parsed) == 1 + len(HOSTILE)
    for name, row in zip(HOSTILE, parsed[1:], strict=True):
        assert row[3] == row[4] == _shown(name)
        assert row[8:10] == ["2", "-0.5"]


def test_a_numeric_column_with_text_in_it_is_still_defused() -> None:
    parsed = _rows(csv_bytes(("n",), [["=1+1"], ["1e3"], ["-2"]], numeric=("n",)))
    assert [r[0] for r in parsed[1:]] == ["'=1+1", "1e3", "-2"]


def test_focus_csv_keeps_one_row_per_record_and_defuses_names_after_blanks() -> None:
    from dataclasses import replace

    docs = [
        replace(_doc(Decimal("1.00"), [Decimal(1)], Decimal(0), name=name), id=i, number=f"N{i}")
        for i, name in enumerate(HOSTILE, start=1)
    ]
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
        rows = pq.read_table(paths[0]).num_rows
        parsed = _rows(paths[1].read_bytes())
    assert len(parsed) == 1 + rows
    # the exact name in x_BillingAccountNameUnicode; BillingAccountName is its ASCII form
    # (the full-width = folds to a plain one): both defused
    exact = parsed[0].index("x_BillingAccountNameUnicode")
    assert {row[exact] for row in parsed[1:]} == {_shown(name) for name in HOSTILE}
    column = parsed[0].index("BillingAccountName")
    names = {row[column] for row in parsed[1:]}
    assert names == {neutralise(ascii_name(name, "t")) for name in HOSTILE}
    assert "'=SUM(A1)" in names
    assert not any(_evaluated(c) for row in parsed[1:] for c in row if not _is_number(c))


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
