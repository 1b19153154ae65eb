"""The collectors against the project's simulated provider: in-process (ASGI) for the
hourly replays, and one run through the CLI against a real loopback server.

What is checked: every dataset lands; quantities sampled into the lake add up exactly to
the simulator's ground truth (from its own timeline, not its API); faults at ~10% of calls,
of every kind the simulator has, change no row; a site down for an hour is a recorded gap
that the next run and backfill fill where Cloudian keeps history."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from metering.cli import main
from metering.config import ProviderConfig, load_config
from metering.lake import store
from metering.lake.schemas import DATASETS
from metering.simulator import Simulation, create_app, serve_in_thread
from metering.simulator.faults import KINDS
from metering.sources.collect import CollectSummary, Options, backfill, collect
from metering.window import Window

START = datetime(2026, 10, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SAMPLE_DATASETS = [n for n, d in DATASETS.items() if d.source and not d.series]
ALL_DATASETS = [*SAMPLE_DATASETS, "cloudian_usage"]


async def no_sleep(_: float) -> None:
    return None


def setup(
    tmp_path: Path, name: str = "p", timeout: float = 30.0
) -> tuple[Simulation, ProviderConfig]:
    sim = Simulation.from_sample_data(seed=7, start=START)
    with serve_in_thread(sim):
        config = load_config(sim.provider_config(tmp_path / name))
    sites = tuple(dataclasses.replace(s, timeout_seconds=timeout) for s in config.sites)
    return sim, dataclasses.replace(config, sites=sites)


def replay(sim: Simulation, config: ProviderConfig, hours: range) -> list[CollectSummary]:
    transport = httpx.ASGITransport(create_app(sim))
    out = []
    for h in hours:
        sim.set_now(START + h * HOUR)
        out.append(collect(config, sim.now, options=Options(transport=transport, sleep=no_sleep)))
    return out


def lake_rows(lake: Path, dataset: str) -> list[tuple[Any, ...]]:
    table = store.read_dataset(lake, dataset).drop_columns(["run_id", "collected_at"])
    return sorted(tuple(sorted((k, repr(v)) for k, v in r.items())) for r in table.to_pylist())


FAMILY = """
    select *, case
        when guest_os like 'Microsoft Windows Server%' then 'windows-server'
        when guest_os like 'Red Hat Enterprise Linux%' then 'rhel'
        when guest_os like 'SUSE Linux Enterprise%' then 'sles'
    end as family
    from vcd_vm
"""  # docs/metering-rules.md, guest-OS licences


POOLS = """
    select *, case
        when allocation_model in ('AllocationPool', 'ReservationPool') then allocation_model
        when allocation_model = 'Flex' and (cpu_allocation_mhz > 0 or memory_allocation_mb > 0)
            then 'Flex'
        else '' end as model
    from vcd_org_vdc
"""  # docs/metering-rules.md, Org VDC charge basis
COMPUTE = f"""
    select v.*, d.model from vcd_vm as v
    join ({POOLS}) as d using (site, sample_time, vdc_id)
"""


def lake_usage(lake: Path, window: Window) -> dict[tuple[str, str, str, str], Decimal]:
    """Usage derived from the lake's samples (1 sample = 1 hour) and Cloudian intervals."""
    con = duckdb.connect()
    for name in (
        "vcd_vm",
        "vcd_org_vdc",
        "vcd_disk",
        "vcd_vm_snapshot",
        "vcd_media",
        "vcd_edge_gateway",
        "vcd_vapp_template",
        "cse_cluster",
        "alp_app",
        "dse_instance",
        "cloudian_usage",
        "cloudian_group",
    ):
        con.register(name, store.read_dataset(lake, name))
    sql = f"""
        select site, org_name, 'vcpu', model, sum(vcpu), 1 from ({COMPUTE})
            where powered_on group by all
        union all select site, org_name, 'ram', model, sum(memory_mb), 1024 from ({COMPUTE})
            where powered_on group by all
        union all select site, org_name, 'vdc_cpu', model, sum(cpu_allocation_mhz), 1000
            from ({POOLS}) where model <> '' group by all
        union all select site, org_name, 'vdc_ram', model, sum(memory_allocation_mb), 1024
            from ({POOLS}) where model <> '' group by all
        union all select site, org_name, 'vm_disk', storage_policy, sum(storage_mb), 1024
            from vcd_vm group by all
        union all select site, org_name, 'independent_disk', storage_policy, sum(size_mb), 1024
            from vcd_disk group by all
        union all select site, org_name, 'vm_snapshot', storage_policy, sum(size_bytes),
            1073741824 from vcd_vm_snapshot group by all
        union all select site, org_name, 'os_licence', family, sum(vcpu), 1
            from ({FAMILY}) where powered_on and family is not null group by all
        union all select site, org_name, 'os_licence_vm', family, count(*), 1
            from ({FAMILY}) where family is not null group by all
        union all select site, org_name, 'catalog_media', storage_policy, sum(size_bytes),
            1073741824 from vcd_media group by all
        union all select site, org_name, product, '', count(*), 1
            from vcd_edge_gateway, (values ('edge_gateway'), ('edge_gateway_month')) p(product)
            group by all
        union all select site, org_name, product, '', sum(allocated_ip_count), 1
            from vcd_edge_gateway, (values ('public_ip'), ('public_ip_month')) p(product)
            group by all
        union all select site, org_name, 'vapp_template', storage_policy, sum(storage_mb), 1024
            from vcd_vapp_template group by all
        union all select site, org_name, 'tkg_cluster', '', count(*), 1
            from cse_cluster group by all
        union all select site, org_name, 'alp_instance', app_id, count(*), 1
            from alp_app group by all
        union all select site, org_name, 'dse_core', kind, sum(service_cpu_millicores), 1000
            from dse_instance group by all
        union all select u.site, g.org_name,
            case when operation = 'SB' then 'object_storage'
                when operation in ('BI', 'BO') then 'object_transfer'
                else 'object_requests' end,
            case operation when 'SB' then storage_policy when 'HG' then 'GET'
                when 'HP' then 'PUT' when 'BI' then 'in' when 'BO' then 'out'
                else 'DELETE' end,
            sum(value),
            case when operation in ('SB', 'BI', 'BO') then 1073741824 else 1 end
        from cloudian_usage u
        join (select distinct site, group_id, group_name as org_name from cloudian_group) g
            using (site, group_id)
        where operation in ('SB', 'HG', 'HP', 'HD', 'BI', 'BO')
            and interval_start >= '{window.start.isoformat()}'
            and interval_start < '{window.end.isoformat()}'
        group by all
    """
    out: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for site, org, product, dim, total, divisor in con.sql(sql).fetchall():
        out[(site, org, product, dim)] += Decimal(int(total)) / Decimal(divisor)
    return {k: v for k, v in out.items() if v}


def truth(sim: Simulation, window: Window) -> dict[tuple[str, str, str, str], Decimal]:
    rows = sim.truth(window)
    out = {
        (r["site"], r["org_name"], r["product"], r["dimension"]): Decimal(r["quantity"])
        for r in rows
    }
    return {k: v for k, v in out.items() if v}


def test_a_day_of_hourly_collections_equals_the_ground_truth(tmp_path: Path) -> None:
    sim, config = setup(tmp_path)
    hours = 12
    summaries = replay(sim, config, range(0, hours + 1))  # the last run reads the last hour
    assert all(s.status == "ok" for s in summaries), [s.lines() for s in summaries]
    lake = config.lake_dir
    for dataset in SAMPLE_DATASETS:
        assert store.read_dataset(lake, dataset).num_rows > 0, dataset
    window = Window(START, START + hours * HOUR)
    # drop the extra sample at `hours` (it starts the next hour)
    for dataset in SAMPLE_DATASETS:
        for path in store.dataset_files(lake, dataset):
            if path.stem == store.time_key(window.end):
                path.unlink()
    got, want = lake_usage(lake, window), truth(sim, window)
    assert {k[2] for k in want} >= {
        "vcpu",
        "ram",
        "vm_disk",
        "tkg_cluster",
        "object_storage",
        "object_requests",
        "object_transfer",
        "alp_instance",
        "dse_core",
        "independent_disk",
        "vm_snapshot",
        "edge_gateway",
        "public_ip",
    }
    assert got == want
    vms = store.read_dataset(lake, "vcd_vm").to_pylist()
    clusters = {c["cluster_id"] for c in store.read_dataset(lake, "cse_cluster").to_pylist()}
    assert {v["tkg_cluster_id"] for v in vms if v["is_tkg_node"]} == clusters
    containers = store.read_dataset(lake, "dse_container").to_pylist()
    assert {c["role"] for c in containers} == {"service", "sidecar", "operator"}


def test_ten_percent_faults_of_every_kind_lose_and_duplicate_no_row(tmp_path: Path) -> None:
    clean_sim, clean = setup(tmp_path, "clean")
    replay(clean_sim, clean, range(0, 8))
    sim, faulty = setup(tmp_path, "faulty", timeout=0.5)
    kinds = [k for k in KINDS if k != "site_down"]
    rate = 1 - 0.9 ** (1 / len(kinds))  # ~10% of all calls hit by one fault or another
    for kind in kinds:
        sim.faults.add(kind, "*", rate, delay=1.0, retry_after=1)
    summaries = replay(sim, faulty, range(0, 8))
    fired = {r["kind"]: r["fired"] for r in sim.faults.to_json()}
    assert all(fired[k] > 0 for k in kinds), fired
    assert all(s.status == "ok" for s in summaries), [
        s.lines() for s in summaries if s.status != "ok"
    ]
    for dataset in ALL_DATASETS:
        assert lake_rows(faulty.lake_dir, dataset) == lake_rows(clean.lake_dir, dataset), dataset


def test_site_down_for_an_hour_is_a_gap_and_cloudian_history_is_backfilled(tmp_path: Path) -> None:
    sim, config = setup(tmp_path)
    sim.faults.add("site_down", site="az2", start=START + 3 * HOUR)
    down = replay(sim, config, range(0, 5))[3]
    assert {(r.site, r.status) for r in down.results} == {("az1", "ok"), ("az2", "failed")}
    gaps = [
        r
        for r in store.read_dataset(config.lake_dir, "runs", site="az2").to_pylist()
        if r["status"] == "failed"
    ]
    assert {(r["sample_time"], r["errors"] > 0) for r in gaps} == {(START + 3 * HOUR, True)}
    # the run at 04:00 read both the 02:00 hour it missed and the 03:00 hour
    keys = store.sample_keys(config.lake_dir, "cloudian_usage", "az2")
    assert {store.time_key(START + h * HOUR) for h in range(4)} <= keys
    store.partition_path(config.lake_dir, "cloudian_usage", "az2", START + HOUR).unlink()
    transport = httpx.ASGITransport(create_app(sim))
    [summary] = backfill(
        config,
        Window(START, START + 4 * HOUR),
        options=Options(transport=transport, sleep=no_sleep),
    )
    assert store.time_key(START + HOUR) in store.sample_keys(
        config.lake_dir, "cloudian_usage", "az2"
    )
    assert f"az2:vcd_vm@{store.time_key(START + 3 * HOUR)}" in summary.unfilled
    assert not [g for g in summary.unfilled if g.startswith("az1:")]


def test_cli_collect_against_a_real_loopback_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    with serve_in_thread(sim) as server:
        path = sim.provider_config(tmp_path)
        when = "2026-10-02T05:00:00+00:00"
        httpx.post(f"{server.base_url}/_sim/clock", json={"now": when}).raise_for_status()
        assert main(["collect", "--config", str(path), "--at", when]) == 0
        out = capsys.readouterr().out
        assert out.count(" ok ") == 12 and "0 quarantined" in out
        assert main(["runs", "--config", str(path)]) == 0
    lake = load_config(path).lake_dir
    vms = store.read_dataset(lake, "vcd_vm").to_pylist()
    assert vms and {v["sample_time"] for v in vms} == {datetime(2026, 10, 2, 5, tzinfo=UTC)}
    assert store.read_dataset(lake, "cloudian_usage").num_rows > 0
