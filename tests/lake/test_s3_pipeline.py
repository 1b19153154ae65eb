"""Collect, consolidate, rate and close with the lake on S3 (moto's server on loopback) give
the same rows and the same invoice totals as the same run on a local lake.

The simulated provider runs on a real loopback server; the same samples are collected into
both lakes at each instant. Four organisations and 6-hourly samples keep it quick.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from metering.cli import main
from metering.close.inputs import content_hash, open_month
from metering.close.run import close_month
from metering.config import ProviderConfig, load_config
from metering.lake.storage import LakePath, ObjectPath, arrow_dataset
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.engines import EngineChoice, rate_month_with
from metering.rating.run import OUTPUTS, output_path, rate_month
from metering.sources.collect import collect
from metering.window import Window
from tests.lake.conftest import SECRET_KEY, S3Server, lake_section

simulator = pytest.importorskip("metering.simulator")
load_inventory = pytest.importorskip("metering.simulator.inventory").load_inventory

REPO = Path(__file__).resolve().parents[2]
OCT = Window.month(2026, 10)
OCT_1 = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = (date(2026, 10, 1), date(2026, 10, 2))
NOW = datetime(2026, 11, 1, 6, tzinfo=UTC)
TWO_DAYS = "test: two days of October collected"


def _catalog(tmp_path: Path, orgs: list[str]) -> Path:
    """The sample catalog cut to the tenants of ``orgs`` (fewer invoices to render)."""
    text = (REPO / "sample_data" / "tenants.toml").read_text(encoding="utf-8")
    blocks = text.split("[[tenants]]")[1:]
    kept = [b for b in blocks if any(f'"{o}"' in b.split("orgs =")[1].split("]")[0] for o in orgs)]
    path = tmp_path / "tenants.toml"
    path.write_text("".join(f"[[tenants]]{b}" for b in kept), encoding="utf-8")
    return path


def _configs(tmp_path: Path, server, sim, s3: S3Server, bucket: str) -> dict[str, ProviderConfig]:
    configs = {}
    catalog = _catalog(tmp_path, [org.name for org in sim.world.inventory.orgs])
    for kind in ("local", "s3"):
        path = sim.provider_config(tmp_path / kind, server)
        text = path.read_text(encoding="utf-8").replace(
            "[provider]\n", "[provider]\nsampling_interval_minutes = 360\n", 1
        )
        text = re.sub(r"tenant_catalog = .*", f"tenant_catalog = {json.dumps(str(catalog))}", text)
        text += "\n[invoicing]\nworkers = 1\n"
        if kind == "s3":
            text += lake_section(tmp_path / kind, s3.endpoint, f"s3://{bucket}/metering")
        path.write_text(text, encoding="utf-8")
        configs[kind] = load_config(path)
    return configs


def _read(path: LakePath) -> pa.Table:
    return arrow_dataset([path]).to_table()


def _sorted(table: pa.Table) -> list[dict[str, object]]:
    return sorted(table.to_pylist(), key=repr)


def test_collect_rate_close_on_s3_equal_the_same_run_on_a_local_lake(
    tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    inventory = load_inventory()
    inventory = dataclasses.replace(inventory, orgs=inventory.orgs[:4])
    sim = simulator.Simulation.from_sample_data(seed=7, start=OCT_1, inventory=inventory)
    with simulator.serve_in_thread(sim) as server:
        configs = _configs(tmp_path, server, sim, s3_server, bucket)
        instants = Window(OCT_1, OCT_1 + timedelta(days=2, hours=1)).steps(timedelta(hours=6))
        for t in instants:
            sim.set_now(t)
            for config in configs.values():
                assert collect(config, t).status == "ok"
    local, s3 = configs["local"], configs["s3"]
    assert isinstance(s3.lake, ObjectPath) and not (tmp_path / "s3" / "data" / "lake").exists()

    rows = {kind: sum(consolidate_day(c, d) for d in DAYS) for kind, c in configs.items()}
    assert rows["s3"] == rows["local"] > 0
    for day in DAYS:
        s3_rows, local_rows = (_read(intervals_path(c.lake, day)) for c in (s3, local))
        assert _sorted(s3_rows) == _sorted(local_rows)

    # rating on the local lake; on S3 the close rates the month itself, then invoices it
    rated = rate_month(local, OCT)
    result = close_month(s3, OCT, now=NOW, show_progress=False, accept_gaps=TWO_DAYS)
    assert result.problems  # two days of October collected: issued only as accepted
    for name in OUTPUTS:
        s3_rows, local_rows = (_read(output_path(c.lake, name, OCT)) for c in (s3, local))
        assert _sorted(s3_rows) == _sorted(local_rows), name
    hashes = []
    for config in (s3, local):
        con = open_month(config, OCT)
        hashes.append(content_hash(con))
        con.close()
    assert hashes[0] == hashes[1]  # the close sees the same content on either lake
    totals = {
        r["tenant_id"]: r["total_amount"]
        for r in _read(output_path(local.lake, "invoice_totals", OCT)).to_pylist()
    }
    assert set(totals) == {"acme", "globex", "initech"} and all(totals.values())

    # the close on S3: one invoice per tenant for the local lake's total to the cent, and its
    # documents table written to the S3 lake
    path = result.outputs["documents"]
    assert str(path) == f"s3://{bucket}/metering/close/documents/month=2026-10/part.parquet"
    invoiced = {r["tenant_id"]: r["total_amount"] for r in _read(path).to_pylist()}
    assert invoiced == totals and len(result.invoices) == len(totals)
    pdfs = result.out_dir / "invoices" / "2026-10"
    assert all((pdfs / f"{number}.pdf").is_file() for number in result.invoices)

    # rating one site per DuckDB process reads and writes the S3 lake the same way
    per_site = rate_month_with(s3, OCT, EngineChoice(site_workers=2))
    assert per_site.totals == rated.totals and per_site.paths["rated_usage"] == output_path(
        s3.lake, "rated_usage", OCT
    )
    assert _sorted(_read(output_path(s3.lake, "rated_usage", OCT))) == _sorted(
        _read(output_path(local.lake, "rated_usage", OCT))
    )

    # finance's `metering sql` on the S3 lake: lake views and reference tables together
    out = tmp_path / "totals.csv"
    query = (
        "select t.tenant_id, t.total_amount, n.plan from invoice_totals t "
        "join tenants n on n.tenant_id = t.tenant_id order by t.tenant_id"
    )
    assert main(["sql", query, "--output", str(out), "--config", str(s3.source_file)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [
        [tenant, str(total)] for tenant, total in sorted(totals.items())
    ]


def test_a_missing_bucket_on_the_command_line_is_one_line_naming_the_lake(
    tmp_path: Path, s3_server: S3Server, capsys
) -> None:
    path = tmp_path / "provider.toml"
    sim = simulator.Simulation.from_sample_data(seed=7, start=OCT_1)
    with simulator.serve_in_thread(sim) as server:
        path = sim.provider_config(tmp_path, server)
    root = "s3://missing-bucket/metering"
    path.write_text(
        path.read_text(encoding="utf-8") + lake_section(tmp_path, s3_server.endpoint, root),
        encoding="utf-8",
    )
    assert main(["rate", "--month", "2026-10", "--config", str(path)]) != 0
    err = capsys.readouterr().err
    assert root in err and SECRET_KEY not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1
