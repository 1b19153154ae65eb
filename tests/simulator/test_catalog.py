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
