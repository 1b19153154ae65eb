"""DuckDB per site, in separate processes and merged, writes exactly the one-process outputs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from metering.cli import main
from metering.config import load_config
from metering.errors import ConfigError
from metering.rating.engines import EngineChoice, rate_month_with
from metering.rating.outputs import OUTPUT_SCHEMAS
from metering.rating.run import output_path, rate_month
from tests.rating import fixture_month
from tests.rating.lake_builders import write_config_file

OCT = fixture_month.OCT
RATING = 'default_plan = "standard"\ndefault_tax_rate = "0.2"'


@pytest.fixture
def provider(tmp_path: Path) -> Path:
    """A provider whose lake holds the fixture month (three sites), pricing and catalog."""
    fixture_month.write_inputs(tmp_path)
    path = write_config_file(tmp_path, RATING)
    fixture_month.write_lake(load_config(path), fixture_month.usage(resources=240))
    return path


def written(lake: Path) -> dict[str, list[dict[str, object]]]:
    return {n: pq.read_table(output_path(lake, n, OCT)).to_pylist() for n in OUTPUT_SCHEMAS}


def test_per_site_processes_merge_to_the_single_process_outputs(provider: Path) -> None:
    config = load_config(provider)
    single = rate_month(config, OCT)
    expected = written(config.lake_dir)
    assert {r["site"] for r in expected["rated_usage"]} == {"az1", "az2", "az3"}
    assert any(x["site"] == "*" for x in expected["invoice_lines"])  # tiers across sites
    merged = rate_month_with(config, OCT, EngineChoice(site_workers=2))
    assert written(config.lake_dir) == expected
    for name in OUTPUT_SCHEMAS:
        assert pq.read_schema(output_path(config.lake_dir, name, OCT)) == pq.read_schema(
            single.paths[name]
        )
    assert (merged.totals, merged.rows, merged.invoice_lines) == (
        single.totals,
        single.rows,
        single.invoice_lines,
    )


def test_rate_command_per_site(provider: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rate", "--month", "2026-10", "-c", str(provider), "--per-site", "2"]) == 0
    assert "EUR" in capsys.readouterr().out
    args = ["rate", "--month", "2026-10", "-c", str(provider), "--per-site", "-1"]
    assert main(args) == 2  # a usage error
    assert "--per-site" in capsys.readouterr().err


def test_engine_choices_are_checked() -> None:
    with pytest.raises(ConfigError, match="--engine: must be one of duckdb, spark"):
        EngineChoice(engine="polars")
    with pytest.raises(ConfigError, match="--spark-master: only with --engine spark"):
        EngineChoice(master="sc://localhost:15002")


def test_spark_engine_without_the_extra_is_one_clear_line(
    provider: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    assert main(["rate", "--month", "2026-10", "-c", str(provider), "--engine", "spark"]) == 1
    err = capsys.readouterr().err.strip()
    assert "pip install 'metering[spark]'" in err and len(err.splitlines()) == 1
