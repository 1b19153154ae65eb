"""Ground truth: exact, reproducible, equal to what the APIs served hour by hour."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from metering.simulator import Simulation
from metering.window import Window

from .conftest import START, Api, hours

MONTH = Window.month(2026, 10)
LICENSED = (  # docs/metering-rules.md: guestOs start → licence family
    ("Microsoft Windows Server", "windows-server"),
    ("Red Hat Enterprise Linux", "rhel"),
    ("SUSE Linux Enterprise", "sles"),
)


def test_month_truth_covers_every_product(sim: Simulation) -> None:
    rows = sim.truth(MONTH)
    products = {r["product"] for r in rows}
    assert products == {
        "vcpu", "ram", "vm_disk", "tkg_cluster", "object_storage", "object_requests",
        "object_transfer", "alp_instance", "dse_core", "os_licence", "os_licence_vm",
        "vdc_cpu", "vdc_ram", "independent_disk", "vm_snapshot", "catalog_media", "edge_gateway",
        "edge_gateway_month", "public_ip", "public_ip_month", "vapp_template",
    }  # fmt: skip
    dims = {(r["product"], r["dimension"]) for r in rows}
    assert {("dse_core", k) for k in ("rabbitmq", "postgres", "mysql")} <= dims
    assert {("object_storage", p) for p in ("1DC-3R", "2DC-3R", "EC-4+2")} <= dims
    assert {("object_requests", v) for v in ("GET", "PUT", "DELETE")} <= dims
    assert {("object_transfer", d) for d in ("in", "out")} <= dims
    families = ("windows-server", "rhel", "sles")
    assert {(p, f) for p in ("os_licence", "os_licence_vm") for f in families} <= dims
    pools = ("AllocationPool", "ReservationPool", "Flex")
    assert {(p, m) for p in ("vcpu", "ram", "vdc_cpu", "vdc_ram") for m in pools} <= dims
    assert {("vcpu", ""), ("ram", "")} <= dims  # Pay-As-You-Go and elastic Flex VDCs
    assert all(Decimal(r["quantity"]) > 0 for r in rows)
    assert {r["org_name"] for r in rows} >= {"shadow-it", "東京 Systems", "A<B Labs"}
    units = {r["product"]: r["unit"] for r in rows}
    assert units["vcpu"] == "vCPU-hour" and units["object_storage"] == "GB-hour"


def test_truth_is_additive_and_reproducible(sim: Simulation) -> None:
    def totals(window: Window) -> dict[tuple[str, str, str, str], Decimal]:
        out: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
        for r in sim.truth(window):
            out[(r["site"], r["org_name"], r["product"], r["dimension"])] += Decimal(r["quantity"])
        return out

    cut = START + timedelta(days=15)
    first, second = totals(Window(START, cut)), totals(Window(cut, MONTH.end))
    whole = totals(MONTH)
    assert whole == {k: first.get(k, Decimal(0)) + second.get(k, Decimal(0)) for k in whole}
    again = Simulation.from_sample_data(seed=7, start=START).truth(MONTH)
    assert again == sim.truth(MONTH)
    other = Simulation.from_sample_data(seed=8, start=START).truth(MONTH)
    assert other != again


def test_truth_equals_the_served_vms_hour_by_hour(api: Api, sim: Simulation) -> None:
    """Walk a day through the per-org vm query and the adminDisk query and add up what was
    served."""
    day = Window(START + timedelta(days=14), START + timedelta(days=15))
    served: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for h in range(24):
        sim.set_now(day.start + hours(h))
        for site in ("az1", "az2"):
            basis, org_of_vdc = {}, {}
            for vdc in api.all_query(site, "adminOrgVdc"):
                org_of_vdc[vdc["href"]] = vdc["orgName"]
                model = vdc["otherAttributes"]["allocationModel"]
                pooled = vdc["cpuAllocationMhz"] or vdc["memoryAllocationMB"]
                billed = model in ("AllocationPool", "ReservationPool") or (
                    model == "Flex" and pooled
                )
                basis[vdc["href"]] = model if billed else ""
                if billed:
                    served[(site, vdc["orgName"], "vdc_cpu", model)] += (
                        Decimal(vdc["cpuAllocationMhz"]) / 1000
                    )
                    served[(site, vdc["orgName"], "vdc_ram", model)] += (
                        Decimal(vdc["memoryAllocationMB"]) / 1024
                    )
            for disk in api.all_query(site, "adminDisk"):  # attached or not
                key = (site, org_of_vdc[disk["vdc"]], "independent_disk")
                served[(*key, disk["storageProfileName"])] += Decimal(disk["sizeMb"]) / 1024
            for org, vms in api.org_vms(site).items():
                for vm in vms:
                    if vm["isVAppTemplate"]:
                        continue  # a VM inside a vApp template (tests/simulator/test_catalog.py)
                    if vm["snapshot"]:  # only these VMs are asked for their snapshots
                        uuid = vm["href"].rsplit("/vm-", 1)[-1]
                        section = api.get(f"/{site}/vcd/api/vApp/vm-{uuid}/snapshotSection", site)
                        held = sum(s["size"] for s in section.json()["snapshot"])
                        assert held > 0 and section.status_code == 200
                        key = (site, org, "vm_snapshot", vm["storageProfileName"])
                        served[key] += Decimal(held) / 2**30
                    compute = basis[vm["vdc"]]
                    disk = Decimal(vm["totalStorageAllocatedMb"]) / 1024
                    served[(site, org, "vm_disk", vm["storageProfileName"])] += disk
                    family = next(
                        (f for start, f in LICENSED if vm["guestOs"].startswith(start)), None
                    )
                    if family:
                        served[(site, org, "os_licence_vm", family)] += 1
                    if vm["status"] == "POWERED_ON":
                        served[(site, org, "vcpu", compute)] += vm["numberOfCpus"]
                        served[(site, org, "ram", compute)] += Decimal(vm["memoryMB"]) / 1024
                        if family:
                            served[(site, org, "os_licence", family)] += vm["numberOfCpus"]
    truth = {
        (r["site"], r["org_name"], r["product"], r["dimension"]): Decimal(r["quantity"])
        for r in sim.truth(day)
        if r["product"]
        in (
            "vcpu", "ram", "vm_disk", "os_licence", "os_licence_vm", "vdc_cpu", "vdc_ram",
            "independent_disk", "vm_snapshot",
        )
    }  # fmt: skip
    assert {k: v for k, v in served.items() if v} == truth


def test_truth_equals_the_served_edge_gateways_hour_by_hour(api: Api, sim: Simulation) -> None:
    """Walk twelve days through /cloudapi/1.0.0/edgeGateways (gateways created, deleted and
    given more IPs on the way): gateway-hours and Σ totalIpCount over every uplink's subnets
    (docs/metering-rules.md) add up to the truth of both bases."""
    window = Window(START + timedelta(days=10), START + timedelta(days=22))
    served: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    seen: dict[str, set[int]] = defaultdict(set)
    for h in range(window.hours):
        sim.set_now(window.start + hours(h))
        for site in ("az1", "az2"):
            body = api.get(f"/{site}/vcd/cloudapi/1.0.0/edgeGateways", site, pageSize=128).json()
            assert body["resultTotal"] == len(body["values"])
            for edge in body["values"]:
                org = edge["orgRef"]["name"]
                ips = sum(
                    subnet["totalIpCount"]
                    for uplink in edge["edgeGatewayUplinks"]
                    for subnet in uplink["subnets"]["values"]
                )
                seen[edge["id"]].add(ips)
                for product in ("edge_gateway", "edge_gateway_month"):
                    served[(site, org, product, "")] += 1
                for product in ("public_ip", "public_ip_month"):
                    served[(site, org, product, "")] += ips
    products = ("edge_gateway", "edge_gateway_month", "public_ip", "public_ip_month")
    truth = {
        (r["site"], r["org_name"], r["product"], r["dimension"]): Decimal(r["quantity"])
        for r in sim.truth(window)
        if r["product"] in products
    }
    assert served == truth
    assert any(len(counts) > 1 for counts in seen.values())  # IPs added mid-way
    gateway_hours = [v for key, v in served.items() if key[2] == "edge_gateway"]
    assert any(v % window.hours for v in gateway_hours)  # some created or deleted on the way


def test_truth_endpoint_matches_python_and_refuses_partial_hours(api: Api) -> None:
    response = api.request(
        "GET", "/_sim/truth", params={"start": "2026-10-02T00:00:00Z", "end": "2026-10-03T00:00Z"}
    )
    assert response.status_code == 200
    window = Window(START + timedelta(days=1), START + timedelta(days=2))
    assert response.json()["rows"] == api.sim.truth(window)
    partial = api.request(
        "GET", "/_sim/truth", params={"start": "2026-10-02T00:30:00Z", "end": "2026-10-03T00:00Z"}
    )
    assert partial.status_code == 400 and "whole hours" in partial.text
    assert api.request("GET", "/_sim/truth").status_code == 400


def test_clock_endpoint(api: Api) -> None:
    moved = api.request("POST", "/_sim/clock", json={"now": "2026-10-05T07:00:00Z"})
    assert moved.json() == {"now": "2026-10-05T07:00:00+00:00", "hour": 103}
    assert api.request("GET", "/_sim/clock").json()["hour"] == 103
    assert api.request("POST", "/_sim/clock", json={"when": "x"}).status_code == 400


@settings(max_examples=25, deadline=None)
@given(a=st.integers(-48, 790), span1=st.integers(1, 400), span2=st.integers(1, 400))
def test_truth_of_adjacent_windows_adds_up(sim: Simulation, a: int, span1: int, span2: int) -> None:
    def totals(lo: int, hi: int) -> dict[tuple[str, ...], Decimal]:
        rows = sim.truth(Window(START + hours(lo), START + hours(hi)))
        return {(r["site"], r["org_name"], r["product"], r["dimension"]): Decimal(r["quantity"])
                for r in rows}  # fmt: skip

    left, right = totals(a, a + span1), totals(a + span1, a + span1 + span2)
    whole = totals(a, a + span1 + span2)
    keys = set(left) | set(right)
    assert whole == {k: left.get(k, Decimal(0)) + right.get(k, Decimal(0)) for k in keys}


def test_truth_equals_served_clusters_apps_and_data_solutions(api: Api, sim: Simulation) -> None:
    """Walk two days through the CSE, ALP and DSE APIs: hours and service vCPU-hours."""
    window = Window(START + timedelta(days=20), START + timedelta(days=22))
    rde = "/{site}/vcd/cloudapi/1.0.0/entities/types/vmware/{kind}"
    served: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for h in range(48):
        sim.set_now(window.start + hours(h))
        for site in ("az1", "az2"):

            def get(path: str, site: str = site) -> list[dict]:
                return list(api.get(path.format(site=site), site, pageSize=128).json()["values"])

            for cluster in get(rde.replace("{kind}", "capvcdCluster/1.2.0")):
                served[(site, cluster["org"]["name"], "tkg_cluster", "")] += 1
            for app in get("/{site}/vcd/cloudapi/1.0.0/apps"):
                served[(site, app["org"]["name"], "alp_instance", app["appId"])] += 1
            for dse in get(rde.replace("{kind}", "dsInstance/0.1")):
                spec = dse["entity"]["spec"]
                if "containers" in spec:
                    (service,) = [c for c in spec["containers"] if c["role"] == "service"]
                    cpu = service["limits"]["cpu"]
                else:  # an instance that gives its CPU only as spec.data.cpu
                    cpu = spec["data"]["cpu"]
                vcpu = Decimal(cpu[:-1]) / 1000 if cpu.endswith("m") else Decimal(cpu)
                kind = dse["name"].split("-")[0]
                served[(site, dse["org"]["name"], "dse_core", kind)] += (
                    vcpu * spec["data"]["replicas"]
                )
    truth = {
        (r["site"], r["org_name"], r["product"], r["dimension"]): Decimal(r["quantity"])
        for r in sim.truth(window)
        if r["product"] in ("tkg_cluster", "alp_instance", "dse_core")
    }
    assert served == truth
