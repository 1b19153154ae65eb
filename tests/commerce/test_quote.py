"""`metering quote`: a closed month priced with a proposed price book by the real rating
engine, beside its bill; the data directory (lake, rating outputs, register, warehouse) is
byte for byte what it was, and the real outputs too."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from metering.cli import main
from metering.commerce.quote import TOTAL, quote_month
from metering.errors import ConfigError
from metering.window import Window
from tests.close.month_lake import AFTER, CARD, OCT
from tests.rating.conftest import write_card


def _digests(root: Path, skip: Path | None = None) -> dict[str, str]:
    """Every file under ``root`` (but ``skip``) → its SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and (skip is None or skip not in p.parents)
    }


def _rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {(r["tenant_id"], r["product"]): r for r in rows}


def test_a_quote_prices_the_month_and_changes_not_a_byte(closed_month):
    config, root, proposed = closed_month
    quotes = config.out_dir / "quotes"
    before = _digests(root, skip=quotes)
    assert any(name.endswith("invoices.sqlite") for name in before)
    assert any(name.endswith("warehouse.duckdb") for name in before)
    result = quote_month(config, OCT, proposed, now=AFTER)
    assert _digests(root, skip=quotes) == before  # same files, same bytes
    assert result.csv_path == quotes / "2026-10" / "proposed" / "quote-2026-10.csv"
    assert result.pdf_path.read_bytes().startswith(b"%PDF")
    rows = _rows(result.csv_path)
    # 4 vCPU all month = 2,976 vCPU-hours: 37.20 billed at 0.0125, 59.52 at 0.02
    vcpu = rows[("acme", "vcpu")]
    assert (vcpu["old_amount"], vcpu["new_amount"], vcpu["delta_amount"]) == (
        "37.20",
        "59.52",
        "22.32",
    )
    assert vcpu["delta_percent"] == "60.00"
    assert rows[("acme", "ram")]["delta_amount"] == "0.00"  # 23.81 both ways
    # the invoice total: lines 71.01 + 21 % tax 14.91 = 85.92; quoted 93.33 + 19.60 = 112.93
    total = rows[("beta", TOTAL)]
    assert (total["old_amount"], total["new_amount"], total["delta_amount"]) == (
        "85.92",
        "112.93",
        "27.01",
    )
    assert {tenant for tenant, _ in rows} == {"acme", "beta"}
    assert result.unrated_rows == 0


def test_the_command_quotes_one_tenant_and_refuses_an_open_month(closed_month, tmp_path):
    config, _, proposed = closed_month
    out = tmp_path / "q"
    options = ["--pricing", str(proposed), "--tenant", "beta", "--out", str(out)]
    code = main(["quote", "-c", str(config.source_file), "--month", "2026-10", *options])
    assert code == 0
    rows = _rows(out / "quote-2026-10.csv")
    assert {tenant for tenant, _ in rows} == {"beta"}
    assert set(product for _, product in rows) == {"vcpu", "ram", "vm_disk", TOTAL}
    with pytest.raises(ConfigError, match="--tenant: no tenant 'nobody'"):
        quote_month(config, OCT, proposed, tenant="nobody", now=AFTER, out=tmp_path / "x")
    with pytest.raises(ConfigError, match="a quote prices a closed month; 2026-11"):
        quote_month(config, Window.month(2026, 11), proposed, now=AFTER)


def test_a_price_book_the_engine_refuses_is_one_line(closed_month, tmp_path):
    config, _, _ = closed_month
    bad = tmp_path / "bad"
    write_card(bad, CARD.replace('unit_price = "0.0125"', "unit_price = 0.02"), card_id="b")
    with pytest.raises(Exception, match=r"b\.toml:\d+: rates\[0\]\.unit_price: write prices"):
        quote_month(config, OCT, bad, now=AFTER, out=tmp_path / "y")
    assert not (tmp_path / "y").exists()
