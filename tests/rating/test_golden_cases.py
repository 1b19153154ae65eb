"""Data-driven golden cases: tests/cases/rating/<case>/ (pricing, catalog, usage, expected CSVs).

A case is a folder with ``pricing/*.toml``, ``tenants.toml``, ``usage.csv`` (intervals) and
``expected_lines.csv`` / ``expected_totals.csv`` computed by hand (see each case's README).
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from metering.window import parse_utc
from tests.rating.conftest import Rater, make_interval

CASES = Path(__file__).parents[1] / "cases" / "rating"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _usage(path: Path) -> list[dict[str, Any]]:
    return [
        make_interval(
            site=r["site"],
            org_name=r["org_name"],
            resource_type=r["resource_type"],
            resource_id=r["resource_id"],
            product=r["product"],
            dimension=r["dimension"],
            measure=r["measure"],
            level=D(r["level"]),
            interval_start=parse_utc(r["interval_start"]),
            interval_end=parse_utc(r["interval_end"]),
        )
        for r in _read(path)
    ]


def _same(expected: dict[str, str], actual: dict[str, Any]) -> bool:
    for key, text in expected.items():
        value = actual[key]
        if isinstance(value, D):
            if value != D(text):
                return False
        elif (value or "") != text:
            return False
    return True


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_golden_case(case: str, tmp_path: Path) -> None:
    folder = CASES / case
    rater = Rater(tmp_path)
    shutil.copytree(folder / "pricing", rater.pricing_dir)
    shutil.copy(folder / "tenants.toml", rater.catalog)
    result = rater.rate(_usage(folder / "usage.csv"))
    lines = sorted(
        result["invoice_lines"],
        key=lambda x: (x["tenant_id"], x["product"], x["dimension"], x["site"], x["rate_card_id"]),
    )
    expected = _read(folder / "expected_lines.csv")
    assert len(lines) == len(expected)
    for want, got in zip(expected, lines, strict=True):
        assert _same(want, got), (want, got)
    totals = {t["tenant_id"]: t for t in result["invoice_totals"]}
    for want in _read(folder / "expected_totals.csv"):
        assert _same(want, totals[want["tenant_id"]]), (want, totals[want["tenant_id"]])
