"""A month rated again reuses the lineage of the days that did not change, and writes exactly
what rating every day from its intervals writes (metering.rating.day_lineage)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from metering.config import ProviderConfig, load_config
from metering.errors import RatingError
from metering.lake.store import write_file
from metering.rating.consolidate import current_recorded, intervals_path
from metering.rating.day_digest import KEY, checked, with_digest
from metering.rating.day_lineage import lineage_path
from metering.rating.outputs import OUTPUT_SCHEMAS
from metering.rating.provenance import stamp
from metering.rating.run import RatingResult, output_path, rate_month
from tests.rating import fixture_month
from tests.rating.lake_builders import write_config_file

OCT = fixture_month.OCT
RATING = 'default_plan = "standard"\ndefault_tax_rate = "0.2"'
DAYS = list(OCT.days())


@pytest.fixture
def config(tmp_path: Path) -> ProviderConfig:
    """A provider whose lake holds the fixture month (three sites), pricing and catalog."""
    fixture_month.write_inputs(tmp_path)
    provider = load_config(write_config_file(tmp_path, RATING))
    fixture_month.write_lake(provider, fixture_month.usage(resources=160))
    return provider


def written(config: ProviderConfig) -> dict[str, list[dict[str, object]]]:
    return {
        n: pq.read_table(output_path(config.lake_dir, n, OCT)).to_pylist() for n in OUTPUT_SCHEMAS
    }


def from_scratch(config: ProviderConfig) -> tuple[RatingResult, dict[str, list[dict[str, object]]]]:
    """The month rated with every day from its intervals (no lineage kept)."""
    shutil.rmtree(config.lake_dir / "rating" / "day_lineage", ignore_errors=True)
    result = rate_month(config, OCT)
    assert result.reused_days == ()
    return result, written(config)


def rewrite_day(
    config: ProviderConfig, day: date, table: pa.Table, *, fingerprint: bool = True
) -> None:
    """The day's file written again with ``table``'s rows, as consolidation writes it."""
    digest = checked(table, day)
    if not fingerprint:  # as a version before fingerprints wrote it
        digest = {k: v for k, v in digest.items() if k != "fingerprint"}
    recorded = current_recorded(config)
    write_file(intervals_path(config.lake_dir, day), with_digest(stamp(table, recorded), digest))


def day_rows(config: ProviderConfig, day: date) -> pa.Table:
    table = pq.read_table(intervals_path(config.lake_dir, day))
    return table.replace_schema_metadata(None)


def test_a_month_rated_again_reuses_every_day_and_writes_the_same_outputs(
    config: ProviderConfig,
) -> None:
    first = rate_month(config, OCT)
    assert first.reused_days == ()
    expected = written(config)
    assert all(lineage_path(config.lake_dir, day).is_file() for day in DAYS)
    again = rate_month(config, OCT)
    assert again.reused_days == tuple(DAYS)
    assert written(config) == expected
    assert (again.totals, again.rows, again.invoice_lines) == (
        first.totals,
        first.rows,
        first.invoice_lines,
    )


def test_a_day_consolidated_again_with_other_rows_is_rated_again(config: ProviderConfig) -> None:
    rate_month(config, OCT)
    day = date(2026, 10, 12)
    rows = day_rows(config, day)
    assert rows.num_rows > 0
    doubled = pc.multiply(
        rows.column("level"), pa.scalar(Decimal(2), rows.schema.field("level").type)
    )
    changed = rows.set_column(
        rows.schema.get_field_index("level"), "level", doubled.cast(rows.schema.field("level").type)
    )
    rewrite_day(config, day, changed)
    result = rate_month(config, OCT)
    assert day not in result.reused_days and len(result.reused_days) == len(DAYS) - 1
    outputs = written(config)
    scratch, expected = from_scratch(config)
    assert outputs == expected and result.totals == scratch.totals
    # the same rows written again (another night's run of the day): the lineage still holds
    rewrite_day(config, day, changed)
    assert rate_month(config, OCT).reused_days == tuple(DAYS)


def test_a_change_of_price_rates_every_day_again(config: ProviderConfig) -> None:
    before = rate_month(config, OCT)
    card = config.pricing_dir / "tiered-2.toml"
    card.write_text(card.read_text(encoding="utf-8").replace('"0.0115"', '"0.0125"'), "utf-8")
    after = rate_month(config, OCT)
    assert after.reused_days == ()
    assert after.totals != before.totals
    outputs = written(config)
    scratch, expected = from_scratch(config)
    assert outputs == expected and after.totals == scratch.totals


def test_a_lineage_file_that_does_not_match_its_day_fails_the_rating(
    config: ProviderConfig,
) -> None:
    rate_month(config, OCT)
    path = lineage_path(config.lake_dir, date(2026, 10, 5))
    table = pq.read_table(path)
    assert table.num_rows > 0
    rows = table.to_pylist()
    rows[0]["quantity_exact"] += 1  # one resource's day rated one unit over
    tampered = pa.Table.from_pylist(rows, schema=table.schema)
    pq.write_table(tampered, path)  # the footer (its key) kept: only the figures differ
    with pytest.raises(RatingError, match="audit_conservation"):
        rate_month(config, OCT)


def test_an_unreadable_lineage_file_is_rated_again_and_written_again(
    config: ProviderConfig,
) -> None:
    first = rate_month(config, OCT)
    expected = written(config)
    path = lineage_path(config.lake_dir, date(2026, 10, 7))
    path.write_bytes(b"not parquet")
    other = lineage_path(config.lake_dir, date(2026, 10, 8))
    kept = pq.read_table(other)  # another day's file, its footer key kept, a column dropped
    pq.write_table(kept.drop_columns(["parts"]), other)
    again = rate_month(config, OCT)
    assert date(2026, 10, 7) not in again.reused_days
    assert date(2026, 10, 8) not in again.reused_days
    assert written(config) == expected and again.totals == first.totals
    assert pq.read_table(path).num_rows > 0 and "parts" in pq.read_schema(other).names
    assert rate_month(config, OCT).reused_days == tuple(DAYS)


def test_a_day_consolidated_before_fingerprints_is_always_rated_from_its_intervals(
    config: ProviderConfig,
) -> None:
    day = date(2026, 10, 20)
    rewrite_day(config, day, day_rows(config, day), fingerprint=False)
    meta = pq.read_schema(intervals_path(config.lake_dir, day)).metadata or {}
    assert b"fingerprint" not in meta[KEY]
    expected = from_scratch(config)[1]
    assert not lineage_path(config.lake_dir, day).exists()
    again = rate_month(config, OCT)
    assert day not in again.reused_days and len(again.reused_days) == len(DAYS) - 1
    assert written(config) == expected


def test_the_rate_command_says_how_many_days_it_read_from_their_lineage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metering.cli import main

    fixture_month.write_inputs(tmp_path)
    path = write_config_file(tmp_path, RATING)
    fixture_month.write_lake(load_config(path), fixture_month.usage(resources=40))
    assert main(["rate", "--month", "2026-10", "-c", str(path)]) == 0
    assert "read from the lineage" not in capsys.readouterr().out
    assert main(["rate", "--month", "2026-10", "-c", str(path)]) == 0
    assert "31 day(s) read from the lineage an earlier rating" in capsys.readouterr().out
