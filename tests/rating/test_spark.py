"""The rating SQL on Spark equals DuckDB's to the last decimal, every row and every type.

The normal suite runs Spark SQL on Sail (``pysail``), a Spark Connect server that needs no
JVM, in-process on a loopback port; ``test_spark_local.py`` runs real PySpark local mode.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.cli import main
from metering.config import load_config
from metering.rating.catalog import load_catalog
from metering.rating.day_digest import usage_days_of
from metering.rating.engine import connect, register_table
from metering.rating.outputs import OUTPUT_SCHEMAS
from metering.rating.policy import load_pricing
from metering.rating.run import (
    output_path,
    output_tables,
    rate_month,
    rate_on,
    register_usage_table,
)
from metering.rating.tables import check_plans
from tests.rating import fixture_month
from tests.rating.conftest import settings
from tests.rating.lake_builders import write_config_file

pytest.importorskip("pyspark")
sail = pytest.importorskip("pysail.spark")

from metering.rating.spark import (  # noqa: E402
    rate_month_spark,
    rate_on_spark,
    register_arrow,
    slice_plan,
    sort_keys,
    spark_outputs,
    spark_reader,
    spark_session,
)

Outputs = dict[str, pa.Table]


@pytest.fixture(scope="module")
def sail_url() -> Iterator[str]:
    server = sail.SparkConnectServer("127.0.0.1", 0)
    server.start(background=True)
    _, port = server.listening_address
    try:
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.stop()


def rate_both(root: Path, usage: pa.Table, master: str) -> tuple[Outputs, Outputs]:
    """The fixture month rated on DuckDB and on the Spark session at ``master``."""
    pricing_dir, catalog = fixture_month.write_inputs(root)
    s = settings(default_plan="standard", default_tax_rate=Decimal("0.2"))
    pricing = load_pricing(pricing_dir)
    tenants = load_catalog(catalog, s.default_plan)
    check_plans(pricing, tenants, s.default_plan)
    con = connect()
    try:
        register_usage_table(con, usage)
        rate_on(con, fixture_month.OCT, s, pricing, tenants)
        duck = output_tables(con)
    finally:
        con.close()
    with spark_session(master) as spark:
        register_arrow(spark, "usage_intervals", usage)
        register_arrow(spark, "usage_days", usage_days_of(usage))
        rate_on_spark(spark, fixture_month.OCT, s, pricing, tenants)
        on_spark = {name: read().read_all() for name, read in spark_outputs(spark).items()}
    return duck, on_spark


def assert_identical(duck: Outputs, on_spark: Outputs) -> None:
    for name, schema in OUTPUT_SCHEMAS.items():
        assert duck[name].schema == schema, name
        assert on_spark[name].schema == schema, name
        assert on_spark[name].num_rows == duck[name].num_rows, name
        for want, got in zip(duck[name].to_pylist(), on_spark[name].to_pylist(), strict=True):
            assert got == want, name


def test_fixture_month_on_spark_equals_duckdb_to_the_last_decimal(
    tmp_path: Path, sail_url: str
) -> None:
    duck, on_spark = rate_both(tmp_path, fixture_month.usage(), sail_url)
    assert_identical(duck, on_spark)
    # the fixture reaches every rule the equality is meant to cover
    details = " ".join(duck["invoice_lines"].column("tier_detail").to_pylist())
    assert "graduated tier 3" in details and "volume tier 2" in details
    assert "fixed monthly fee" in details and "custom rate" in details
    totals = {t["tenant_id"]: t for t in duck["invoice_totals"].to_pylist()}
    assert totals["idle"]["minimum_adjustment"] > 0
    assert totals["acme"]["discount_amount"] < 0
    assert totals["gamma"]["currency"] == "JPY"
    assert totals["gamma"]["total_amount"] == totals["gamma"]["total_amount"].to_integral()
    assert any(t.startswith("unmapped:") for t in totals)
    reasons = set(duck["unrated_usage"].column("reason").to_pylist())
    assert any(r.startswith("no tenant") for r in reasons)
    assert any(r.startswith("no price") for r in reasons)


def test_a_month_with_no_usage_rates_the_same_on_spark(tmp_path: Path, sail_url: str) -> None:
    empty = fixture_month.usage(resources=0)
    duck, on_spark = rate_both(tmp_path, empty, sail_url)
    assert_identical(duck, on_spark)
    assert duck["rated_usage"].num_rows == 0 and duck["invoice_totals"].num_rows == 4


def test_rate_command_on_spark_writes_what_duckdb_writes(
    tmp_path: Path, sail_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture_month.write_inputs(tmp_path)
    path = write_config_file(tmp_path, 'default_plan = "standard"\ndefault_tax_rate = "0.2"')
    config = load_config(path)
    fixture_month.write_lake(config, fixture_month.usage(resources=120))
    duck = rate_month(config, fixture_month.OCT)
    expected = {name: pq.read_table(p) for name, p in duck.paths.items()}
    args = ["rate", "--month", "2026-10", "-c", str(path), "--engine", "spark"]
    assert main([*args, "--spark-master", sail_url]) == 0
    assert "EUR" in capsys.readouterr().out
    for name, table in expected.items():
        on_spark = pq.read_table(output_path(config.lake_dir, name, fixture_month.OCT))
        assert on_spark.schema == table.schema, name
        assert on_spark.to_pylist() == table.to_pylist(), name


def test_outputs_streamed_in_small_slices_are_duckdbs_files_byte_for_byte(
    tmp_path: Path, sail_url: str
) -> None:
    fixture_month.write_inputs(tmp_path)
    path = write_config_file(tmp_path, 'default_plan = "standard"\ndefault_tax_rate = "0.2"')
    config = load_config(path)
    fixture_month.write_lake(config, fixture_month.usage(resources=120))
    duck = rate_month(config, fixture_month.OCT)
    expected = {name: Path(str(p)).read_bytes() for name, p in duck.paths.items()}
    # a sixth of rated_usage per slice: several slices, and tenants split across slices
    result = rate_month_spark(config, fixture_month.OCT, sail_url, slice_rows=duck.rows // 6)
    assert (result.rows, result.totals) == (duck.rows, duck.totals)
    for name, content in expected.items():
        assert Path(str(result.paths[name])).read_bytes() == content, name


def crafted_unrated(rows: int = 40) -> pa.Table:
    """unrated_usage rows in random order with nulls, ties on leading keys and one large
    (site, org) group, to slice on every level of its sort key."""
    rng = random.Random(5)
    sites, orgs = ["az1", "az2", "Zeta", "\u00e9t\u00e9", None], ["acme", "b", None]
    records = []
    for i in range(rows):
        big = i < rows // 3
        records.append(
            {
                "month": date(2026, 10, 1),
                "site": "az1" if big else rng.choice(sites),
                "org_name": "acme" if big else rng.choice(orgs),
                "tenant_id": None,
                "resource_id": f"r{i % 4}" if big else rng.choice(["r1", "r2", None]),
                "resource_name": f"vm {i}",
                "product": f"p{i}",
                "dimension": rng.choice(["", "x", None]),
                "quantity": Decimal(i),
                "unit": "h",
                "reason": "no tenant",
            }
        )
    rng.shuffle(records)
    return pa.Table.from_pylist(records, schema=OUTPUT_SCHEMAS["unrated_usage"])


def assert_slices_concatenate_in_order(master: str) -> None:
    """Tiny slices of a crafted output, read back, are DuckDB's ORDER BY of it exactly."""
    table = crafted_unrated()
    con = connect()
    try:
        register_table(con, "crafted", table)
        keys = ", ".join(sort_keys("unrated_usage"))
        want = con.sql(f"select * from crafted order by {keys}").to_arrow_table()
    finally:
        con.close()
    with spark_session(master) as spark:
        register_arrow(spark, "unrated_usage", table)
        frame = spark.table("unrated_usage")
        plan = list(slice_plan(frame, sort_keys("unrated_usage"), 3))
        got = spark_reader(spark, "unrated_usage", 3).read_all()
    assert got.equals(want)
    assert len(plan) >= table.num_rows // 3
    assert max(len(low) for low, _ in plan) >= 3  # split below (site, org_name)


def test_slices_of_an_output_concatenate_to_its_exact_order(sail_url: str) -> None:
    assert_slices_concatenate_in_order(sail_url)
