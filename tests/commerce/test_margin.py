"""Cost cards load like rate cards (one line naming file, line and key), and the margin per
tenant, product and month is the same in the report, the warehouse view and the portal,
recomputed here by hand from the month's usage and the cards."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from metering.commerce.costs import load_costs
from metering.commerce.margin import margin_rows, write_margin_report
from metering.errors import PricingError
from tests.close.month_lake import OCT
from tests.commerce.conftest import COST_HEAD, COSTS


def _card(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    return directory


GOOD = COST_HEAD.format(id="c", start="2026-01-01", end="") + COSTS.format(vcpu="0.004")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            GOOD.replace('unit_cost = "0.0012"', "unit_cost = 0.0012"),
            r"c\.toml:\d+: costs\[2\]\.unit_cost: write prices as strings",
        ),
        (
            GOOD.replace('product = "ram"', 'product = "gpu"'),
            r"c\.toml:\d+: costs\[2\]\.product: unknown product 'gpu'",
        ),
        (
            GOOD.replace('licence_point_value = "0.90"\n', ""),
            r"c\.toml:\d+: costs\[0\]\.points: needs cost_card\.licence_point_value",
        ),
        (
            GOOD.replace('points = "0.0035"', 'points = "0.0035"\nunit_cost = "1"'),
            r"c\.toml:\d+: costs\[0\]: give exactly one of unit_cost",
        ),
        (
            GOOD.replace("effective_from = 2026-01-01", "effective_from = 2026-01-01T06:00:00Z"),
            r"c\.toml:\d+: cost_card\.effective_from: cost cards change on whole days",
        ),
        (
            GOOD.replace(
                'kind = "infrastructure"\nunit_cost = "0.0012"', 'kind = "power"\nunit_cost = "1"'
            ),
            r"c\.toml:\d+: costs\[2\]\.kind: unknown kind 'power'",
        ),
        (
            GOOD + '\n[[costs]]\nproduct = "ram"\nkind = "infrastructure"\nunit_cost = "1"\n',
            r"c\.toml:\d+: costs\[5\]\.kind: a second infrastructure cost for ram/\*",
        ),
    ],
)
def test_a_bad_cost_card_is_one_line_naming_file_line_and_key(tmp_path, text, error):
    with pytest.raises(PricingError, match=error):
        load_costs(_card(tmp_path, "c", text))


def test_cards_of_one_currency_may_not_overlap(tmp_path):
    _card(tmp_path, "a", GOOD.replace('id = "c"', 'id = "a"'))
    _card(tmp_path, "b", GOOD.replace('id = "c"', 'id = "b"').replace("2026-01-01", "2026-06-01"))
    with pytest.raises(PricingError, match=r"b\.toml: cost_card\.effective_from overlaps a\.toml"):
        load_costs(tmp_path)


def test_margin_per_tenant_and_product_recomputed_by_hand(closed_month):
    config, _, _ = closed_month
    report = write_margin_report(config, OCT)
    rows = {(r["tenant_id"], r["product"]): r for r in report.rows}
    assert set(rows) == {(t, p) for t in ("acme", "beta") for p in ("vcpu", "ram", "vm_disk")}
    vcpu = rows[("acme", "vcpu")]
    # 2,976 vCPU-hours: licence 0.0035 points x 0.90 = 0.00315 -> 9.3744 -> 9.37; infrastructure
    # 0.004 for 1-15 Oct (1,440 h) and 0.005 from 16 Oct (1,536 h): 5.76 + 7.68 = 13.44
    assert vcpu["revenue_amount"] == Decimal("37.20")
    assert vcpu["licence_cost_amount"] == Decimal("9.37")
    assert vcpu["infrastructure_cost_amount"] == Decimal("13.44")
    assert vcpu["cost_amount"] == Decimal("22.81") and vcpu["margin_amount"] == Decimal("14.39")
    assert vcpu["margin_percent"] == Decimal("38.68")  # 14.39 / 37.20, half-up
    assert vcpu["cost_card_ids"] == "costs-a, costs-b" and vcpu["costed"]
    # 11,904 GiB-hours x 0.0012 = 14.2848 -> 14.28; revenue 23.81
    assert rows[("beta", "ram")]["margin_amount"] == Decimal("9.53")
    # 100 GB Gold all month: the Gold line (0.06 per GB-month) wins over '*': 6.00
    assert rows[("acme", "vm_disk")]["infrastructure_cost_amount"] == Decimal("6.00")
    assert rows[("acme", "vm_disk")]["margin_amount"] == Decimal("4.00")
    # the CSV has every row, exact; the PDF is a PDF
    lines = list(csv.DictReader(io.StringIO(report.csv_path.read_text(encoding="utf-8"))))
    assert len(lines) == 6
    assert {r["margin_amount"] for r in lines if r["product"] == "vcpu"} == {"14.39"}
    assert report.pdf_path.read_bytes().startswith(b"%PDF")
    # the warehouse view gives the same figures
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        view = con.execute(
            "select tenant_id, product, cost_amount, margin_amount from margin order by 1, 2"
        ).fetchall()
    assert view == sorted(
        (t, p, r["cost_amount"], r["margin_amount"]) for (t, p), r in rows.items()
    )


def test_margin_without_cost_cards_says_where_they_go(closed_month, tmp_path):
    config, _, _ = closed_month
    text = config.source_file.read_text(encoding="utf-8")
    empty = tmp_path / "nothing"
    empty.mkdir()
    other = config.source_file.with_name("no-costs.toml")
    other.write_text(text + f'\n[costs]\ndir = "{empty}"\n', encoding="utf-8")
    from metering.config import load_config

    with pytest.raises(PricingError, match="no cost cards \\(\\*\\.toml\\) in cost directory"):
        margin_rows(load_config(other), OCT)
    other.unlink()
