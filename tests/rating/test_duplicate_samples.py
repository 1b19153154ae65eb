"""A resource sampled twice in one run is billed once (docs/metering-rules.md, duplicates).

VCD's offset paging over a changing VM set can return a VM on two pages, a retried page can
repeat rows, and two collector processes can write the same run (two files of one key). The
hour must be billed once: identical duplicates give the intervals of a single sample; for
conflicting ones the sample collected last wins.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from metering.config import load_config
from metering.lake.store import write_partition
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.run import output_path, rate_month
from metering.window import Window
from tests.rating.conftest import write_card
from tests.rating.lake_builders import hour, make_config, sb, vm, write, write_config_file

DAY = date(2026, 10, 2)
KEYS = ("product", "dimension", "level", "interval_start", "interval_end", "samples")


def consolidated(tmp_path: Path) -> list[tuple[Any, ...]]:
    config = make_config(tmp_path)
    consolidate_day(config, DAY)
    rows = pq.read_table(intervals_path(config.lake_dir, DAY)).to_pylist()
    return sorted(tuple(r[k] for k in ("resource_id", *KEYS)) for r in rows)


def cluster(t: datetime, **overrides: Any) -> dict[str, Any]:
    row = {
        "site": "az1",
        "source": "cse",
        "run_id": f"cse-{t:%Y%m%dT%H}",
        "collected_at": t,
        "sample_time": t,
        "cluster_id": "urn:vcloud:entity:vmware:capvcdCluster:1",
        "cluster_name": "k8s",
        "org_name": "acme",
        "entity_state": "RESOLVED",
        "entity_type": "urn:vcloud:type:vmware:capvcdCluster:1.2.0",
        "control_plane_nodes": 1,
        "worker_nodes": 2,
        "node_pool_count": 1,
    }
    row.update(overrides)
    return row


def hours_of(rows: list[tuple[Any, ...]], product: str) -> D:
    """Σ level × hours of a product: what rating bills."""
    total = D(0)
    for r in rows:
        if r[1] == product:
            total += r[3] * D((r[5] - r[4]) // timedelta(seconds=1)) / 3600
    return total


def spans(rows: list[tuple[Any, ...]], product: str) -> list[tuple[int, int, D]]:
    """(start hour, end hour, level) of a product's intervals in time order; 24 = midnight."""
    out = [
        (r[4].hour, 24 if r[5].day != r[4].day else r[5].hour, r[3])
        for r in rows
        if r[1] == product
    ]
    return sorted(out)


def write_day(lake: Path, dup_hour: int, extra: list[dict[str, Any]], suffix: str = "") -> None:
    """A VM and a TKG cluster every hour of the day; ``extra`` rows join the run at dup_hour."""
    for h in range(24):
        t = hour(2, h)
        write(lake, "vcd_vm", t, [vm(t)])
        write(lake, "cse_cluster", t, [cluster(t)])
    if extra:
        t = hour(2, dup_hour)
        vms = [r for r in extra if "vm_id" in r]
        clusters = [r for r in extra if "cluster_id" in r]
        write_partition(lake, "vcd_vm", "az1", t, vms, suffix=suffix)
        if clusters:
            write_partition(lake, "cse_cluster", "az1", t, clusters, suffix=suffix)


def test_identical_duplicates_give_the_intervals_of_one_sample(tmp_path: Path) -> None:
    single = consolidated_day(tmp_path / "single", [])
    t = hour(2, 7)
    doubled = consolidated_day(tmp_path / "doubled", [vm(t), cluster(t)])
    assert hours_of(doubled, "vcpu") == 24 * 4  # not 25 × 4: 07:00 is billed once
    assert hours_of(doubled, "tkg_cluster") == 24
    assert doubled == single


def consolidated_day(tmp_path: Path, extra: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    tmp_path.mkdir(exist_ok=True)
    write_day(tmp_path / "data" / "lake", 7, extra, suffix="-retry")
    return consolidated(tmp_path)


def test_conflicting_duplicates_the_sample_collected_last_wins(tmp_path: Path) -> None:
    t = hour(2, 7)
    later = t + timedelta(minutes=3)
    rows = consolidated_day(tmp_path, [vm(t, vcpu=2, collected_at=later)])
    vcpu = spans(rows, "vcpu")
    assert vcpu == [(0, 7, D(4)), (7, 8, D(2)), (8, 24, D(4))]
    assert hours_of(rows, "vcpu") == 23 * 4 + 2
    assert hours_of(rows, "vm_disk") == 24 * 100  # the disk did not change: one interval
    assert [r[6] for r in rows if r[1] == "vm_disk"] == [24]


def test_conflicting_duplicates_an_earlier_collection_loses(tmp_path: Path) -> None:
    t = hour(2, 7)
    earlier = t - timedelta(minutes=3)
    rows = consolidated_day(tmp_path, [vm(t, vcpu=2, collected_at=earlier)])
    vcpu = spans(rows, "vcpu")
    assert vcpu == [(0, 24, D(4))]


def test_duplicates_in_the_same_file_and_a_tie_is_deterministic(tmp_path: Path) -> None:
    # Same collected_at (a page repeated within one response): the higher level wins, in
    # whichever order the rows were written.
    outs = []
    for n, order in enumerate(((2, 4), (4, 2))):
        lake = tmp_path / str(n) / "data" / "lake"
        for h in range(24):
            t = hour(2, h)
            rows = [vm(t, vcpu=v) for v in order] if h == 7 else [vm(t)]
            write(lake, "vcd_vm", t, rows)
        outs.append(consolidated(tmp_path / str(n)))
    assert outs[0] == outs[1]
    assert hours_of(outs[0], "vcpu") == 24 * 4
    assert [r[6] for r in outs[0] if r[1] == "vcpu"] == [24]


def test_a_cloudian_hour_reported_twice_by_one_site_is_billed_once(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    gib = 2**30
    for h in range(24):
        start, end = hour(2, h), hour(2, h) + timedelta(hours=1)
        write(lake, "cloudian_usage", end, [sb(start, end, "az1", 10 * gib)])
    start, end = hour(2, 7), hour(2, 8)
    again = [
        sb(start, end, "az1", 10 * gib),
        sb(start, end, "az1", 5, operation="HG"),
        sb(start, end, "az1", 7, operation="HG", collected_at=end + timedelta(minutes=1)),
    ]
    write_partition(lake, "cloudian_usage", "az1", end, again, suffix="-retry")
    rows = consolidated(tmp_path)
    assert hours_of(rows, "object_storage") == 24 * 10
    assert [r[3] for r in rows if r[1] == "object_requests"] == [D(7)]


def test_rating_bills_a_duplicated_hour_once(tmp_path: Path) -> None:
    # Before the fix the doubled hour made overlapping intervals and the month failed its
    # audit (audit_no_double_counting); now it rates, and 07:00 counts once, at 2 vCPUs.
    card = '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0125"\n'
    write_card(tmp_path / "pricing", card, policy="standard")
    config = load_config(write_config_file(tmp_path))
    t = hour(2, 7)
    later = t + timedelta(minutes=3)
    write_day(config.lake_dir, 7, [vm(t), vm(t, vcpu=2, collected_at=later)], suffix="retry")
    consolidate_day(config, DAY)
    month = Window.month(2026, 10)
    rate_month(config, month)
    lines = pq.read_table(output_path(config.lake_dir, "invoice_lines", month)).to_pylist()
    (vcpu,) = [r for r in lines if r["product"] == "vcpu"]
    assert vcpu["quantity"] == D(23 * 4 + 2) and vcpu["list_amount"] == D("1.18")


def test_a_resource_merged_by_the_sorted_passes_gets_its_carried_hour_marked(
    tmp_path: Path,
) -> None:
    # a duplicate sample at 03:00 sends the VM through the sorted merge; the 09:00 run is
    # missing: its hour is carried and marked filled there as in the bitmask merge
    lake = tmp_path / "data" / "lake"
    for h in [*range(0, 9), *range(10, 24)]:
        rows = [vm(hour(2, h))] * (2 if h == 3 else 1)
        write(lake, "vcd_vm", hour(2, h), rows)
    config = make_config(tmp_path)
    consolidate_day(config, DAY)
    disk = sorted(
        (r["interval_start"].hour, r["interval_end"].hour or 24, r["filled"])
        for r in pq.read_table(intervals_path(config.lake_dir, DAY)).to_pylist()
        if r["product"] == "vm_disk"
    )
    assert disk == [(0, 9, False), (9, 10, True), (10, 24, False)]
