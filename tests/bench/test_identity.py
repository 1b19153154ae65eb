"""bench.identity: the before/after check of rating outputs finds identical and changed ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.identity import main
from metering.config import load_config
from tests.rating import fixture_month
from tests.rating.lake_builders import write_config_file


def test_identical_outputs_pass_and_a_changed_price_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture_month.write_inputs(tmp_path)
    config = write_config_file(tmp_path, 'default_plan = "standard"\ndefault_tax_rate = "0.2"')
    fixture_month.write_lake(load_config(config), fixture_month.usage(resources=30))
    saved = tmp_path / "before.json"
    args = ["--config", str(config), "--month", "2026-10"]
    assert main([*args, "--save", str(saved)]) == 0
    assert json.loads(saved.read_text(encoding="utf-8"))["invoice_lines"]["rows"] > 0
    capsys.readouterr()
    assert main([*args, "--compare", str(saved)]) == 0
    assert "identical" in capsys.readouterr().out
    catalog = tmp_path / "tenants.toml"  # acme's custom RAM rate, a cent more per 10 GB-h
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text.replace('ram = "0.0037"', 'ram = "0.0038"'), encoding="utf-8")
    assert main([*args, "--compare", str(saved)]) == 1
    out = capsys.readouterr().out
    # a price changes the lines and totals; the lineage carries quantities only
    assert "invoice_lines:" in out and "total of acme:" in out and "rated_usage" not in out


def test_a_column_dropped_on_purpose_is_compared_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture_month.write_inputs(tmp_path)
    config = write_config_file(tmp_path, 'default_plan = "standard"\ndefault_tax_rate = "0.2"')
    fixture_month.write_lake(load_config(config), fixture_month.usage(resources=5))
    saved = tmp_path / "before.json"
    args = ["--config", str(config), "--month", "2026-10"]
    assert main([*args, "--save", str(saved)]) == 0
    # the older code wrote one more column (as rated_usage.list_amount was)
    before = json.loads(saved.read_text(encoding="utf-8"))
    before["rated_usage"]["columns"]["list_amount"] = "0" * 64
    before["rated_usage"]["sha256"] = "1" * 64
    saved.write_text(json.dumps(before), encoding="utf-8")
    capsys.readouterr()
    assert main([*args, "--compare", str(saved)]) == 1
    assert "rated_usage:" in capsys.readouterr().out
    dropped = ["--dropped", "rated_usage.list_amount"]
    assert main([*args, "--compare", str(saved), *dropped]) == 0
    assert "identical (all but rated_usage.list_amount)" in capsys.readouterr().out
    # any other column still has to match
    before["rated_usage"]["columns"]["quantity"] = "2" * 64
    saved.write_text(json.dumps(before), encoding="utf-8")
    assert main([*args, "--compare", str(saved), *dropped]) == 1
    assert "rated_usage.quantity: differs" in capsys.readouterr().out
