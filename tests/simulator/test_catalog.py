"""Catalog storage in the simulator: what its ``adminMedia`` query serves, hour by hour,
adds up to its ground truth, and the month has items uploaded, deleted and published."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from metering.simulator import Simulation
from metering.window import Window

from .conftest import START, Api, hours

MONTH = Window.month(2026, 10)
GB = 2**30


def _org_names(api: Api, site: str) -> dict[str, str]:
    """org uuid → name, from the orgs listing (an AdminMediaRecord names its org by href)."""
    orgs = api.get(f"/{site}/vcd/cloudapi/1.0.0/orgs", site, pageSize=128).json()["values"]
    return {org["id"].rsplit(":", 1)[-1]: org["name"] for org in orgs}


def test_served_media_add_up_to_the_truth_over_the_month(api: Api, sim: Simulation) -> None:
    served: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    seen: dict[str, set[int]] = defaultdict(set)
    published = set()
    hours_in_month = int((MONTH.end - MONTH.start).total_seconds()) // 3600
    for site in ("az1", "az2"):
        names = _org_names(api, site)
        for h in range(hours_in_month):
            sim.set_now(START + hours(h))
            for item in api.all_query(site, "adminMedia", page_size=7):
                org = names[item["org"].rsplit("/", 1)[-1]]
                key = (site, org, "catalog_media", item["storageProfileName"])
                served[key] += Decimal(item["storageB"]) / GB
                seen[item["href"]].add(h)
                if item["isPublished"]:
                    published.add(item["href"])
                assert item["storageB"] % (2 * 2**20) == 0  # whole 2 MiB: exact GB-hours
    truth = {
        (r["site"], r["org_name"], r["product"], r["dimension"]): Decimal(r["quantity"])
        for r in sim.truth(MONTH)
        if r["product"] == "catalog_media"
    }
    assert served == truth
    lifetimes = [(min(h), max(h)) for h in seen.values()]
    assert any(first > 0 for first, _ in lifetimes)  # uploaded during the month
    assert any(last < hours_in_month - 1 for _, last in lifetimes)  # deleted during it
    assert sum(1 for first, last in lifetimes if (first, last) == (0, hours_in_month - 1)) > 10
    assert published
    assert {org for _, org, _, _ in truth} >= {"東京 Systems", "A<B Labs"}


def test_served_template_vms_add_up_to_the_truth_under_the_owning_org(
    api: Api, sim: Simulation
) -> None:
    """Each ``adminVAppTemplate`` record names its org; the VMs inside it are listed by that
    org's ``vm`` query (``isVAppTemplate`` true, ``container`` = the template) with their MB
    and storage policy. Their MB-hours ÷ 1024 under the template's org equal the truth."""
    served: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    created = deleted = False
    hours_in_month = int((MONTH.end - MONTH.start).total_seconds()) // 3600
    for site in ("az1", "az2"):
        names = _org_names(api, site)
        before: set[str] = set()
        for h in range(0, hours_in_month, 3):
            sim.set_now(START + hours(h))
            owners = {
                t["href"]: names[t["org"].rsplit("/", 1)[-1]]
                for t in api.all_query(site, "adminVAppTemplate", page_size=5)
            }
            created |= bool(before) and bool(set(owners) - before)
            deleted |= bool(before - set(owners))
            before = set(owners)
            for org, vms in api.org_vms(site).items():
                for vm in vms:
                    if not vm["isVAppTemplate"]:
                        continue
                    assert owners[vm["container"]] == org  # listed in its owner's context
                    key = (site, org, "vapp_template", vm["storageProfileName"])
                    served[key] += Decimal(vm["totalStorageAllocatedMb"]) / 1024
    # every third hour (the org listings are many requests): the truth of those same hours
    truth: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for h in range(0, hours_in_month, 3):
        window = Window(START + hours(h), START + hours(h + 1))
        for r in sim.truth(window):
            if r["product"] == "vapp_template":
                key = (r["site"], r["org_name"], r["product"], r["dimension"])
                truth[key] += Decimal(r["quantity"])
    assert served == truth
    assert created and deleted
    assert len({org for _, org, _, _ in truth}) > 5
