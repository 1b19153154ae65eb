"""Settings provenance: a day records what it was built with; changed settings take effect."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from metering.close.run import close_month
from metering.config import load_config
from metering.errors import RatingError
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.provenance import read_recorded
from metering.rating.run import output_path, rate_month
from metering.window import Window
from tests.rating.conftest import write_card
from tests.rating.lake_builders import dse, hour, write, write_config_file

OCT = Window.month(2026, 10)
CARD = """
[[rates]]
product = "dse_core"
dimension = "*"
unit_price = "0.02"
"""


def _lake(tmp_path: Path, rating: str = "") -> Path:
    path = write_config_file(tmp_path, f'default_plan = "std"\n{rating}')
    write_card(tmp_path / "pricing", CARD)
    config = load_config(path)
    for d in (1, 2):
        for h in range(24):
            write(config.lake_dir, "dse_instance", hour(d, h), [dse(hour(d, h))])
        consolidate_day(config, date(2026, 10, d))
    return path


def _core_hours(tmp_path: Path, rating: str) -> tuple[D, tuple[date, ...]]:
    config = load_config(write_config_file(tmp_path, f'default_plan = "std"\n{rating}'))
    result = rate_month(config, OCT)
    lines = pq.read_table(output_path(config.lake_dir, "invoice_lines", OCT)).to_pylist()
    (line,) = [x for x in lines if x["product"] == "dse_core"]
    return line["quantity"], result.reconsolidated


def test_each_day_records_the_settings_and_rules_it_was_built_with(tmp_path: Path) -> None:
    config = load_config(_lake(tmp_path, 'dse_vcpus_per_core = "2"'))
    recorded = read_recorded(intervals_path(config.lake_dir, date(2026, 10, 1)))
    assert recorded is not None
    assert recorded["dse_vcpus_per_core"] == "2" and recorded["dse_include_sidecars"] == "false"
    assert recorded["gap_intervals"] == "2" and recorded["sampling_interval_minutes"] == "60"
    assert len(recorded["rules_version"]) == 16


def test_changed_settings_take_effect_on_days_already_consolidated(tmp_path: Path) -> None:
    _lake(tmp_path)  # built at 1 vCPU = 1 core: 6 cores × 48 h
    assert _core_hours(tmp_path, "") == (D(288), ())
    # 2 vCPU = 1 core: both days are rebuilt before rating, 3 cores × 48 h
    quantity, rebuilt = _core_hours(tmp_path, 'dse_vcpus_per_core = "2"')
    assert quantity == D(144) and rebuilt == (date(2026, 10, 1), date(2026, 10, 2))
    # sidecars (300 m) included: (6 + 0.3) / 2 = 3.15 cores × 48 h
    quantity, _ = _core_hours(tmp_path, 'dse_vcpus_per_core = "2"\ndse_include_sidecars = true')
    assert quantity == D("151.2")
    assert _core_hours(tmp_path, 'dse_vcpus_per_core = "2"\ndse_include_sidecars = true') == (
        D("151.2"),
        (),
    )  # nothing stale any more


def test_refuse_names_the_days_and_the_command(tmp_path: Path) -> None:
    _lake(tmp_path)
    config = load_config(
        write_config_file(
            tmp_path, 'default_plan = "std"\ngap_intervals = 3\nstale_days = "refuse"'
        )
    )
    with pytest.raises(RatingError) as err:
        rate_month(config, OCT)
    text = str(err.value)
    assert "2026-10-01 (gap_intervals: 2 → 3)" in text and "2026-10-02" in text
    assert "metering rate --month 2026-10 --consolidate" in text


def test_a_stale_day_without_its_samples_is_refused_not_rebuilt_empty(tmp_path: Path) -> None:
    config = load_config(_lake(tmp_path))
    for f in (config.lake_dir / "dse_instance").rglob("date=2026-10-02/*.parquet"):
        f.unlink()
    changed = load_config(write_config_file(tmp_path, 'default_plan = "std"\ngap_intervals = 3'))
    with pytest.raises(RatingError, match=r"samples are no longer in the lake.*2026-10-02"):
        rate_month(changed, OCT)
    assert read_recorded(intervals_path(config.lake_dir, date(2026, 10, 2))) is not None


def test_the_provider_report_states_the_settings_its_figures_were_computed_with(
    tmp_path: Path,
) -> None:
    _lake(tmp_path)  # consolidated at 1 vCPU = 1 core
    config = load_config(
        write_config_file(tmp_path, 'default_plan = "std"\ndse_vcpus_per_core = "2"')
    )
    result = close_month(config, OCT, now=datetime(2026, 11, 1, 6, tzinfo=UTC), show_progress=False)
    html = result.outputs["provider_html"].read_text(encoding="utf-8")
    assert "vCPU → core: 2 vCPU = 1 core" in html
    assert "DSE 2 vCPU = 1 core, sidecar containers\nexcluded" in html
    rows = result.outputs["provider_csv"].read_text(encoding="utf-8").splitlines()
    # 3 cores (6 vCPU ÷ 2) × 48 h: the figures are those of the stated ratio
    core_hours = [r for r in rows if r.startswith("2026-10,*,*,") and "dse_core_quantity" in r]
    assert core_hours and core_hours[0].split(",")[-2] == "144"
