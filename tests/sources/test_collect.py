"""collect/backfill end to end over HTTP (in-process ASGI) against a scripted provider:
every dataset lands, faults lose and duplicate nothing, re-runs replace, gaps are recorded
and Cloudian's history is backfilled, bad records are quarantined and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metering.config import ProviderConfig, parse_config
from metering.lake import store
from metering.lake.schemas import DATASETS
from metering.sources.collect import Options, backfill, collect
from metering.window import Window

from .provider import OLD_BUCKET_UNTIL, ORGS, Provider

START = datetime(2026, 10, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SAMPLE_DATASETS = [n for n, d in DATASETS.items() if d.source and not d.series]


async def no_sleep(_: float) -> None:
    return None


def make_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "lake"
) -> ProviderConfig:
    monkeypatch.setenv("T_VCD_PW", "vcd-secret")
    monkeypatch.setenv("T_CLOUDIAN_PW", "cloudian-secret")
    sites = [
        {
            "name": s,
            "vcd_url": f"http://x/{s}/vcd",
            "ose_url": f"http://x/{s}/ose",
            "cloudian_url": f"http://x/{s}/cloudian",
            "vcd_user": "admin",
            "vcd_password_env": "T_VCD_PW",
            "cloudian_password_env": "T_CLOUDIAN_PW",
            "concurrency": 8,
        }
        for s in ("az1", "az2")
    ]
    raw = {
        "provider": {"name": "t", "lake_dir": name, "tenant_catalog": "t.toml", "pricing_dir": "p"},
        "sites": sites,
    }
    return parse_config(raw, tmp_path / "provider.toml")


def run_hours(config: ProviderConfig, provider: Provider, hours: range) -> list[Any]:
    summaries = []
    for h in hours:
        provider.now = START + h * HOUR
        options = Options(transport=provider.transport(), sleep=no_sleep)
        summaries.append(collect(config, provider.now, options=options))
    return summaries


def lake_rows(lake: Path, dataset: str) -> list[tuple[Any, ...]]:
    """All rows but the run id and collection time, sorted: what must not change."""
    table = store.read_dataset(lake, dataset).drop_columns(["run_id", "collected_at"])
    rows = [tuple(sorted((k, repr(v)) for k, v in r.items())) for r in table.to_pylist()]
    return sorted(rows)


def test_one_collection_lands_every_dataset_with_nodes_linked_and_exact_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 2))
    summary = run_hours(config, provider, range(2, 3))[0]
    at = START + 2 * HOUR
    assert summary.status == "ok" and summary.quarantined == 0
    assert {(r.site, r.source) for r in summary.results} == {
        (s, src) for s in ("az1", "az2") for src in ("vcd", "cse", "alp", "dse", "ose", "cloudian")
    }
    lake = config.lake_dir
    for dataset in SAMPLE_DATASETS:
        for site in ("az1", "az2"):
            table = store.read_dataset(lake, dataset, site=site, window=Window(at, at + HOUR))
            assert table.num_rows > 0, f"{dataset} at {site} is empty"
    vms = store.read_dataset(lake, "vcd_vm", site="az1", window=Window(at, at + HOUR)).to_pylist()
    assert len(vms) == len(provider.vms("az1"))
    nodes = [v for v in vms if v["is_tkg_node"]]
    assert {v["tkg_cluster_id"] for v in nodes} == {c["id"] for c in provider.clusters("az1")}
    assert all(v["vapp_name"] == v["tkg_cluster_name"] for v in nodes)
    assert {v["org_name"] for v in vms} == set(ORGS)  # org names resolved from the org hrefs
    dse = store.read_dataset(lake, "dse_instance", site="az1").to_pylist()[0]
    assert (dse["service_cpu_millicores"], dse["sidecar_cpu_millicores"]) == (6000, 300)
    assert dse["operator_cpu_millicores"] == 500  # counted apart, once, never × replicas
    policies = {
        p["policy_name"]: p for p in store.read_dataset(lake, "cloudian_storage_policy").to_pylist()
    }
    assert policies["2DC-3R"]["total_replicas"] == 3 and policies["2DC-3R"]["dc_count"] == 2
    assert (policies["EC-4+2"]["ec_k"], policies["EC-4+2"]["ec_m"]) == (4, 2)
    series = store.read_dataset(lake, "cloudian_usage", site="az1").to_pylist()
    sb = sorted(
        (r["interval_start"], r["value"])
        for r in series
        if r["operation"] == "SB" and r["bucket"] == "b-acme"
    )
    assert sb == [(START + h * HOUR, provider.bucket_bytes(0, h)) for h in range(2)]
    assert all(
        r["storage_policy"] == ("EC-4+2" if r["bucket"] == "old" else "2DC-3R")
        and r["sample_time"] == r["interval_end"]
        for r in series
    )


def test_sampled_vcpu_hours_equal_the_providers_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 6))
    table = store.read_dataset(config.lake_dir, "vcd_vm").to_pylist()
    lake_hours = sum(r["vcpu"] for r in table if r["powered_on"])
    expected = 0
    for h in range(6):
        provider.now = START + h * HOUR
        expected += sum(
            v["numberOfCpus"]
            for s in ("az1", "az2")
            for v in provider.vms(s)
            if v["status"] == "POWERED_ON"
        )
    assert lake_hours == expected


def test_ten_percent_faults_of_every_kind_lose_and_duplicate_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = make_config(tmp_path, monkeypatch, "clean")
    faulty = make_config(tmp_path, monkeypatch, "faulty")
    run_hours(clean, Provider(START, START), range(0, 8))
    provider = Provider(START, START, fault_rate=0.10, seed=11)
    summaries = run_hours(faulty, provider, range(0, 8))
    assert set(provider.faults_served) == {"503", "429", "500", "truncated", "duplicate", "loop"}
    assert all(s.status == "ok" for s in summaries), [
        s.lines() for s in summaries if s.status != "ok"
    ]
    for dataset in [*SAMPLE_DATASETS, "cloudian_usage"]:
        assert lake_rows(faulty.lake_dir, dataset) == lake_rows(clean.lake_dir, dataset), dataset


def test_re_running_a_window_leaves_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 4))
    before = {d: lake_rows(config.lake_dir, d) for d in [*SAMPLE_DATASETS, "cloudian_usage"]}
    files = sorted(p.name for d in before for p in store.dataset_files(config.lake_dir, d))
    run_hours(config, provider, range(0, 4))
    backfill(
        config,
        Window(START, START + 3 * HOUR),
        options=Options(transport=provider.transport(), sleep=no_sleep),
    )
    after = {d: lake_rows(config.lake_dir, d) for d in before}
    assert after == before
    assert sorted(p.name for d in before for p in store.dataset_files(config.lake_dir, d)) == files
    assert len(store.read_dataset(config.lake_dir, "runs")) == 2 * 2 * 4 * 6 + 2 * 1  # history kept


def test_a_site_down_for_an_hour_is_a_recorded_gap_filled_by_backfill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 3))
    provider.down = {"az2"}
    down = run_hours(config, provider, range(3, 4))[0]
    provider.down = set()
    assert down.status == "partial"
    assert {(r.site, r.status) for r in down.results} == {("az1", "ok"), ("az2", "failed")}
    runs = store.read_dataset(config.lake_dir, "runs", site="az2").to_pylist()
    failed = [r for r in runs if r["status"] == "failed"]
    assert {r["sample_time"] for r in failed} == {START + 3 * HOUR} and len(failed) == 6
    assert all("HTTP 503" in r["error"] for r in failed)
    hour2 = store.time_key(START + 2 * HOUR)
    assert hour2 not in store.sample_keys(config.lake_dir, "cloudian_usage", "az2")
    provider.now = START + 5 * HOUR
    options = Options(transport=provider.transport(), sleep=no_sleep)
    [summary] = backfill(config, Window(START, START + 5 * HOUR), options=options)
    assert hour2 in store.sample_keys(config.lake_dir, "cloudian_usage", "az2")
    assert f"az2:vcd_vm@{store.time_key(START + 3 * HOUR)}" in summary.unfilled
    assert not any(
        g.startswith("az1:") and "@20261001T0" in g and g.endswith(("0000Z", "0100Z"))
        for g in summary.unfilled
    )


def test_a_bad_record_is_quarantined_named_and_counted_and_the_rest_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START, bad_vm=True)
    summary = run_hours(config, provider, range(0, 1))[0]
    vcd = [r for r in summary.results if r.source == "vcd"]
    assert [(r.status, r.quarantined) for r in vcd] == [("partial", 1), ("partial", 1)]
    assert summary.quarantined == 2
    q = store.read_dataset(config.lake_dir, "quarantine").to_pylist()
    assert {(r["dataset"], r["site"]) for r in q} == {("vcd_vm", "az1"), ("vcd_vm", "az2")}
    assert all(r["reason"].startswith("numberOfCpus: expected an integer") for r in q)
    assert all('"numberOfCpus": "lots"' in r["raw_record"] for r in q)
    vms = store.read_dataset(config.lake_dir, "vcd_vm", site="az1")
    assert vms.num_rows == len(provider.vms("az1")) - 1
    lake_text = b"".join(p.read_bytes() for p in config.lake_dir.rglob("*.parquet"))
    assert b"vcd-secret" not in lake_text and b"cloudian-secret" not in lake_text


def test_the_next_regular_run_reads_a_missed_cloudian_hour_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 3))
    provider.down = {"az1"}
    run_hours(config, provider, range(3, 4))
    provider.down = set()
    keys = store.sample_keys(config.lake_dir, "cloudian_usage", "az1")
    assert store.time_key(START + 2 * HOUR) not in keys
    run_hours(config, provider, range(4, 5))
    keys = store.sample_keys(config.lake_dir, "cloudian_usage", "az1")
    assert {store.time_key(START + h * HOUR) for h in range(4)} <= keys
    series = store.read_dataset(config.lake_dir, "cloudian_usage", site="az1").to_pylist()
    sb = [r for r in series if r["operation"] == "SB" and r["bucket"] == "b-acme"]
    assert sorted(r["value"] for r in sb) == [provider.bucket_bytes(0, h) for h in range(4)]


def test_a_site_with_an_unreadable_ca_bundle_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    config = make_config(tmp_path, monkeypatch)
    broken = dataclasses.replace(config.sites[1], ca_bundle=tmp_path / "missing-ca.pem")
    config = dataclasses.replace(config, sites=(config.sites[0], broken))
    summary = run_hours(config, Provider(START, START), range(0, 1))[0]
    by_site = {(r.site, r.status) for r in summary.results}
    assert by_site == {("az1", "ok"), ("az2", "failed")}
    errors = {r.error for r in summary.results if r.site == "az2"}
    assert len(errors) == 1 and "ca_bundle: cannot load" in errors.pop()
    assert store.dataset_files(config.lake_dir, "vcd_vm", site="az2") == []
    assert store.dataset_files(config.lake_dir, "vcd_vm", site="az1") != []


def test_a_deleted_buckets_hours_survive_later_runs_and_backfill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 6))

    def old_rows() -> list[tuple[datetime, str]]:
        rows = store.read_dataset(config.lake_dir, "cloudian_usage", site="az1").to_pylist()
        return sorted(
            (r["interval_start"], r["storage_policy"])
            for r in rows
            if r["bucket"] == "old" and r["operation"] == "SB"
        )

    expected = [(START + h * HOUR, "EC-4+2") for h in range(OLD_BUCKET_UNTIL)]
    assert old_rows() == expected  # the run at 03:00 read 02:00 though "old" was gone
    options = Options(transport=provider.transport(), sleep=no_sleep)
    backfill(config, Window(START, START + 5 * HOUR), options=options)
    assert old_rows() == expected  # re-reading the window keeps the deleted bucket's hours


class _Recording(httpx.AsyncBaseTransport):
    """The provider's transport, noting every request URL (the test's own instrument)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.urls = inner, []  # type: ignore[var-annotated]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await self.inner.handle_async_request(request)


def test_cloudian_series_requests_only_what_rating_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SB/HG/HP/HD/BI/BO once per bucket and hour window, never SO (nothing reads it)."""
    config = make_config(tmp_path, monkeypatch)
    provider = Provider(START, START)
    run_hours(config, provider, range(0, 1))
    provider.now = START + HOUR
    recording = _Recording(provider.transport())
    options = Options(transport=recording, sleep=no_sleep)
    summary = collect(config, provider.now, sites=["az1"], sources=["cloudian"], options=options)
    assert summary.status == "ok"
    usage = [u.params for u in recording.urls if u.path.endswith("/cloudian/usage")]
    buckets = {p["id"] for p in usage}
    assert buckets and sorted(p["operation"] for p in usage) == sorted(
        op for _ in buckets for op in ("SB", "HG", "HP", "HD", "BI", "BO")
    )
    series = store.read_dataset(config.lake_dir, "cloudian_usage", site="az1").to_pylist()
    assert {r["operation"] for r in series} == {"SB", "HG", "HP", "HD", "BI", "BO"}
