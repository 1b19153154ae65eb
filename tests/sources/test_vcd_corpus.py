"""The VCD collector replayed over loopback HTTP against real-shaped answers (the corpus
under ``tests/sources/corpus/vcd``, each file naming the public source it was checked
against): records that must parse to exact values, records that must be quarantined with a
reason naming the field, and an answer that must fail its part with a clear error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.config import ProviderConfig, parse_config
from metering.lake import store
from metering.sources.collect import CollectSummary, collect

from .vcd_corpus_server import CorpusServer

AT = datetime(2026, 10, 1, 5, tzinfo=UTC)
ACME = "5e2a4c6d-1b3f-4e8a-9c7d-0f1e2d3c4b5a"
GLOBEX = "7c1d2e3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5"


def run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    vm_files: dict[str, str],
    query_files: dict[str, str] | None = None,
    edges: str = "edgeGateways.json",
) -> tuple[ProviderConfig, CollectSummary]:
    monkeypatch.setenv("CORPUS_PW", "pw")
    with CorpusServer(vm_files, query_files, edges) as server:
        site = {
            "name": "az1",
            "vcd_url": server.vcd_url,
            "vcd_user": "administrator",
            "vcd_password_env": "CORPUS_PW",
        }
        raw = {
            "provider": {
                "name": "t",
                "lake_dir": "lake",
                "tenant_catalog": "t",
                "pricing_dir": "p",
            },
            "sites": [site],
        }
        config = parse_config(raw, tmp_path / "provider.toml")
        summary = collect(config, AT, sources=["vcd"])
    return config, summary


def test_vm_records_parse_to_exact_values_or_are_quarantined_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, summary = run(tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"})
    (result,) = summary.results
    assert result.api_version == "39.0"  # highest verified version offered
    vms = store.read_dataset(config.lake, "vcd_vm").to_pylist()
    by_name = {(v["org_name"], v["vm_name"]): v for v in vms}
    assert sorted(by_name) == [
        ("acme", "db01"),
        ("acme", "web01"),
        ("globex", "db01"),
        ("globex", "web01"),
    ]
    web = by_name[("acme", "web01")]
    assert {
        k: web[k]
        for k in (
            "vm_id",
            "org_id",
            "vdc_id",
            "vapp_name",
            "status",
            "vcpu",
            "memory_mb",
            "storage_mb",
            "storage_policy",
            "powered_on",
            "sizing_policy_id",
        )
    } == {
        "vm_id": "urn:vcloud:vm:0a1b2c3d-0000-4000-8000-000000000001",
        "org_id": f"urn:vcloud:org:{ACME}",
        "vdc_id": "urn:vcloud:vdc:33333333-0000-4000-8000-000000000001",
        "vapp_name": "shop",
        "status": "POWERED_ON",
        "vcpu": 4,
        "memory_mb": 8192,
        "storage_mb": 40960,
        "storage_policy": "Gold",
        "powered_on": True,
        "sizing_policy_id": "urn:vcloud:vdcComputePolicy:44444444-0000-4000-8000-000000000001",
    }
    db = by_name[("acme", "db01")]  # every number under otherAttributes, as strings
    assert (db["vcpu"], db["memory_mb"], db["storage_mb"], db["powered_on"]) == (
        2,
        4096,
        20480,
        False,
    )
    quarantine = store.read_dataset(config.lake, "quarantine").to_pylist()
    vm_rows = [q for q in quarantine if q["dataset"] == "vcd_vm"]
    reasons = sorted({(q["record_key"].rsplit("-", 1)[-1], q["reason"]) for q in vm_rows})
    assert reasons == [
        ("000000000004", "totalStorageAllocatedMb: expected an integer, got None"),
        ("000000000005", "numberOfCpus: expected an integer, got 'lots'"),
        ("000000000006", "status: missing or not a string (None)"),
    ]
    # and 3 disks, db01's snapshot section in both orgs, 4 media and 3 templates (below)
    assert result.status == "partial" and result.quarantined == 6 + 3 + 2 + 4 + 3
    vdc = store.read_dataset(config.lake, "vcd_org_vdc").to_pylist()[0]
    assert (vdc["org_name"], vdc["storage_used_mb"], vdc["running_vm_count"]) == ("acme", 61440, 2)
    assert vdc["allocation_model"] == "Flex"
    policy = store.read_dataset(config.lake, "vcd_sizing_policy").to_pylist()[0]
    assert (policy["cpu_count"], policy["memory_mb"], policy["cpu_speed_mhz"]) == (2, 4096, None)


def test_a_vm_listing_that_does_not_add_up_fails_its_part_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, summary = run(
        tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-globex-short.json"}
    )
    (result,) = summary.results
    # the snapshots are read from the same (shared) VM listing: an org's VMs not known, its
    # snapshots are not either, and neither dataset is written for the run
    # the snapshots and the templates' VMs are read from the same per-org vm listings
    assert result.failed_datasets == ["vcd_vm", "vcd_vm_snapshot", "vcd_vapp_template"]
    assert result.error == (
        "query vm: listing inconsistent after 3 attempts "
        "(1 unique records, total says 3) [site=az1]"
    )
    assert set(result.datasets) == {
        "vcd_org_vdc",
        "vcd_disk",
        "vcd_media",
        "vcd_org",
        "vcd_sizing_policy",
        "vcd_edge_gateway",
    }
    assert not store.sample_keys(config.lake, "vcd_vm", "az1")
    assert not store.sample_keys(config.lake, "vcd_vm_snapshot", "az1")


def test_independent_disks_parse_to_exact_values_or_are_quarantined_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One provider-wide adminDisk listing: each disk's org from its ``org`` href (the record
    names none); a disk without a size, of an org the site does not have, or without a storage
    policy is quarantined with the field named, and the other disks are written."""
    config, summary = run(tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"})
    (result,) = summary.results
    disks = store.read_dataset(config.lake, "vcd_disk").to_pylist()
    got = {
        d["disk_name"]: (
            d["disk_id"], d["org_name"], d["vdc_id"], d["size_mb"], d["storage_policy"],
            d["is_attached"], d["attached_vm_count"],
        )
        for d in disks
    }  # fmt: skip
    assert got == {
        "data-1": (
            "urn:vcloud:disk:dddddddd-0000-4000-8000-000000000001", "acme",
            "urn:vcloud:vdc:33333333-0000-4000-8000-000000000001", 102400, "Gold", True, 1,
        ),
        "data-2": (
            "urn:vcloud:disk:dddddddd-0000-4000-8000-000000000002", "globex",
            "urn:vcloud:vdc:33333333-0000-4000-8000-000000000002", 20480, "Silver", False, 0,
        ),
    }  # fmt: skip
    quarantine = store.read_dataset(config.lake, "quarantine").to_pylist()
    reasons = sorted(
        (q["record_key"].rsplit("/", 1)[-1], q["reason"])
        for q in quarantine
        if q["dataset"] == "vcd_disk"
    )
    assert reasons == [
        ("dddddddd-0000-4000-8000-000000000003", "sizeMb: expected an integer, got None"),
        (
            "dddddddd-0000-4000-8000-000000000004",
            "org: 'https://vcd.example/api/org/99999999-0000-4000-8000-000000000009' "
            "is not an org of the orgs listing",
        ),
        (
            "dddddddd-0000-4000-8000-000000000005",
            "storageProfileName: missing or not a string (None)",
        ),
    ]
    assert result.status == "partial" and "vcd_disk" in result.datasets


def test_vm_snapshots_are_read_for_the_vms_that_have_one_and_a_bad_size_is_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only VMs whose record says ``snapshot`` are asked for their SnapshotSection; its
    snapshots' sizes (bytes) are summed per VM; a snapshot without a size quarantines that
    VM's row naming the snapshot and field."""
    config, summary = run(tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"})
    (result,) = summary.results
    rows = store.read_dataset(config.lake, "vcd_vm_snapshot").to_pylist()
    got = sorted(
        (r["org_name"], r["vm_name"], r["storage_policy"], r["snapshot_count"], r["size_bytes"])
        for r in rows
    )
    assert got == [
        ("acme", "web01", "Gold", 2, 6 * 2**30),
        ("globex", "web01", "Gold", 2, 6 * 2**30),
    ]
    assert {r["oldest_created"] for r in rows} == {datetime(2026, 9, 30, 22, tzinfo=UTC)}
    quarantine = store.read_dataset(config.lake, "quarantine").to_pylist()
    bad = [
        (q["record_key"].rsplit("-", 1)[-1], q["reason"])
        for q in quarantine
        if q["dataset"] == "vcd_vm_snapshot"
    ]
    reason = "snapshotSection.snapshot[0].size: expected an integer, got None"
    assert bad == [("000000000002", reason)] * 2
    assert "vcd_vm_snapshot" in result.datasets


def test_vm_records_without_the_snapshot_attribute_fail_the_snapshot_part_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "vm-no-snapshot-attribute.json"
    config, summary = run(tmp_path, monkeypatch, {ACME: name, GLOBEX: name})
    (result,) = summary.results
    assert result.failed_datasets == ["vcd_vm_snapshot"]
    assert result.error.endswith(
        "; vm query records carry no 'snapshot' attribute at this API version: the VMs that "
        "have a snapshot cannot be told apart [site=az1, source=vcd]"
    )
    assert {v["vm_name"] for v in store.read_dataset(config.lake, "vcd_vm").to_pylist()} == {
        "web01"
    }
    assert not store.sample_keys(config.lake, "vcd_vm_snapshot", "az1")


def test_media_records_parse_to_exact_bytes_or_are_quarantined_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """adminMedia: each item under the org that owns it (its ``org`` href, resolved through
    the orgs listing), its exact ``storageB`` and storage policy; a record missing a billed
    field, or naming an org the site does not list, is quarantined with the reason."""
    config, summary = run(tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"})
    (result,) = summary.results
    assert "vcd_media" in result.datasets
    media = sorted(store.read_dataset(config.lake, "vcd_media").to_pylist(), key=str)
    assert [
        (m["org_name"], m["media_name"], m["size_bytes"], m["storage_policy"], m["is_published"])
        for m in sorted(media, key=lambda m: m["media_id"])
    ] == [
        ("acme", "ubuntu-22.04.5-live-server-amd64.iso", 4707319808, "Gold", True),
        ("globex", "drivers.flp", 1474560, "Silver", False),
    ]
    first = min(media, key=lambda m: m["media_id"])
    assert first["media_id"] == "urn:vcloud:media:66666666-0000-4000-8000-000000000001"
    assert first["org_id"] == f"urn:vcloud:org:{ACME}"
    assert first["catalog_id"] == "urn:vcloud:catalog:88888888-0000-4000-8000-000000000001"
    assert (first["catalog_name"], first["vdc_name"], first["status"]) == (
        "acme-catalog",
        "acme-vdc",
        "RESOLVED",
    )
    quarantine = store.read_dataset(config.lake, "quarantine").to_pylist()
    reasons = sorted(
        (q["record_key"].rsplit("-", 1)[-1], q["reason"])
        for q in quarantine
        if q["dataset"] == "vcd_media"
    )
    assert reasons == [
        ("000000000003", "storageB: expected an integer, got None"),
        ("000000000004", "storageB: expected an integer, got '4.7 GB'"),
        (
            "000000000005",
            "org: 'https://vcd.example/api/org/00000000-dead-4000-8000-000000000000' "
            "is not an org of the orgs listing",
        ),
        ("000000000006", "storageProfileName: missing or not a string (None)"),
    ]


def test_a_malformed_media_page_fails_its_part_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose ``record`` is not a list fails the media part naming the query and the
    site; the other parts are written, and no media sample is (no silent empty catalog)."""
    config, summary = run(
        tmp_path,
        monkeypatch,
        {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"},
        {"adminMedia": "adminMedia-not-a-list.json"},
    )
    (result,) = summary.results
    assert result.failed_datasets == ["vcd_media"]
    media_error = "query adminMedia: page without a record list (total 2) [site=az1]"
    assert media_error in result.error.split("; ")  # beside the corpus's missing TKG types
    assert set(result.datasets) == {
        "vcd_vm",
        "vcd_org_vdc",
        "vcd_disk",
        "vcd_vm_snapshot",
        "vcd_vapp_template",
        "vcd_org",
        "vcd_sizing_policy",
        "vcd_edge_gateway",
    }
    assert not store.sample_keys(config.lake, "vcd_media", "az1")


def test_edge_gateways_parse_to_their_allocated_ips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Allocated IPs = Σ totalIpCount over every uplink's subnets (used ones are recorded, not
    billed); an uplink on IP Spaces has its IPs elsewhere and counts none."""
    config, summary = run(tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"})
    (result,) = summary.results
    assert "vcd_edge_gateway" in result.datasets
    edges = {
        e["edge_gateway_name"]: e
        for e in store.read_dataset(config.lake, "vcd_edge_gateway").to_pylist()
    }
    acme = edges["acme-edge"]
    assert {k: acme[k] for k in ("org_name", "org_id", "owner_name", "gateway_type")} == {
        "org_name": "acme",
        "org_id": f"urn:vcloud:org:{ACME}",
        "owner_name": "acme-vdc",
        "gateway_type": "NSXT_BACKED",
    }
    assert (acme["uplink_count"], acme["allocated_ip_count"], acme["used_ip_count"]) == (2, 7, 3)
    assert (acme["primary_uplink_name"], acme["using_ip_space"]) == ("internet", False)
    globex = edges["globex-edge"]
    assert (globex["allocated_ip_count"], globex["using_ip_space"]) == (0, True)


def test_a_damaged_edge_gateway_is_quarantined_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, summary = run(
        tmp_path,
        monkeypatch,
        {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"},
        edges="edgeGateways-bad.json",
    )
    (result,) = summary.results
    assert result.status == "partial" and "vcd_edge_gateway" in result.datasets
    edges = store.read_dataset(config.lake, "vcd_edge_gateway").to_pylist()
    assert [e["edge_gateway_name"] for e in edges] == ["acme-edge"]
    quarantine = store.read_dataset(config.lake, "quarantine").to_pylist()
    reasons = {
        q["record_key"]: q["reason"] for q in quarantine if q["dataset"] == "vcd_edge_gateway"
    }
    assert reasons == {
        "urn:vcloud:gateway:2d9a4b6c-5e3f-4071-8cbd-3e4f5a6b7c8d": (
            "edgeGatewayUplinks[0].subnets.values[1].totalIpCount: expected an integer, got None"
        ),
        "urn:vcloud:gateway:3e0b5c7d-6f40-4182-9dce-4f5a6b7c8d9e": (
            "orgRef.name: missing or not a string (None)"
        ),
    }


def test_an_edge_gateway_listing_that_does_not_add_up_fails_its_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, summary = run(
        tmp_path,
        monkeypatch,
        {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"},
        edges="edgeGateways-short.json",
    )
    (result,) = summary.results
    assert result.failed_datasets == ["vcd_edge_gateway"]
    assert (result.error or "").endswith(
        "GET /cloudapi/1.0.0/edgeGateways: listing inconsistent after 3 attempts "
        "(1 unique records, total says 3) [site=az1]"
    )
    assert "vcd_vm" in result.datasets
    assert not store.sample_keys(config.lake, "vcd_edge_gateway", "az1")


def test_template_vms_are_billed_to_the_org_owning_their_template_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The VMs inside vApp templates (``isVAppTemplate`` true) of the per-org ``vm`` listings,
    each under the org that owns its ``container`` template (adminVAppTemplate), once though
    both orgs list it; a template naming an unknown org, a VM of that template and a VM whose
    template is not listed are quarantined with the reason."""
    config, summary = run(tmp_path, monkeypatch, {ACME: "vm-acme.json", GLOBEX: "vm-acme.json"})
    (result,) = summary.results
    assert "vcd_vapp_template" in result.datasets
    rows = store.read_dataset(config.lake, "vcd_vapp_template").to_pylist()
    got = sorted(
        (
            r["org_name"], r["template_id"], r["template_name"], r["vm_id"], r["vm_name"],
            r["storage_mb"], r["storage_policy"], r["catalog_name"], r["is_published"],
        )
        for r in rows
    )  # fmt: skip
    template = "urn:vcloud:vapptemplate:55555555-0000-4000-8000-000000000001"
    assert got == [
        ("acme", template, "ubuntu-template", "urn:vcloud:vm:0a1b2c3d-0000-4000-8000-000000000003",
         "golden-image", 16384, "Gold", "acme-catalog", True),
        ("acme", template, "ubuntu-template", "urn:vcloud:vm:0a1b2c3d-0000-4000-8000-000000000009",
         "golden-data", 40960, "Silver", "acme-catalog", True),
    ]  # fmt: skip
    quarantine = store.read_dataset(config.lake, "quarantine").to_pylist()
    reasons = sorted(
        (q["record_key"].rsplit("-", 1)[-1], q["reason"])
        for q in quarantine
        if q["dataset"] == "vcd_vapp_template"
    )
    t2 = "https://vcd.example/api/vAppTemplate/vappTemplate-55555555-0000-4000-8000-000000000002"
    t9 = "https://vcd.example/api/vAppTemplate/vappTemplate-55555555-0000-4000-8000-000000000009"
    assert reasons == [
        (
            "000000000002",
            "org: 'https://vcd.example/api/org/00000000-dead-4000-8000-000000000000' "
            "is not an org of the orgs listing",
        ),
        ("000000000007", f"container: vApp template {t2!r} was quarantined in the "
         "adminVAppTemplate listing"),
        ("000000000008", f"container: vApp template {t9!r} is not in the "
         "adminVAppTemplate listing"),
    ]  # fmt: skip
