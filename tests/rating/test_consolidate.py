"""Samples in the lake → usage intervals: the gap rule, power state, DSE cores, Cloudian."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pyarrow.parquet as pq

from metering.lake.store import write_partition
from metering.rating.consolidate import consolidate_day, intervals_path
from tests.rating.lake_builders import dse, hour, make_config, sb, vm, write

DAY = date(2026, 10, 2)


def intervals(tmp_path: Path, day: date = DAY, **rating: object) -> list[dict[str, object]]:
    config = make_config(tmp_path, **rating)
    consolidate_day(config, day)
    rows = pq.read_table(intervals_path(config.lake_dir, day)).to_pylist()
    return sorted(rows, key=lambda r: (r["product"], r["resource_id"], r["interval_start"]))


def spans(rows: list[dict[str, object]], product: str) -> list[tuple[int, int, D]]:
    out = []
    for r in rows:
        if r["product"] == product:
            start, end = r["interval_start"], r["interval_end"]
            out.append((start.hour, 24 if end.day != start.day else end.hour, r["level"]))  # type: ignore[union-attr]
    return out


def test_powered_off_vm_pays_storage_only_and_holds_merge(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in range(24):
        on = h < 15
        write(
            lake,
            "vcd_vm",
            hour(2, h),
            [vm(hour(2, h), status="POWERED_ON" if on else "POWERED_OFF")],
        )
    rows = intervals(tmp_path)
    assert spans(rows, "vcpu") == [(0, 15, D(4))]
    assert spans(rows, "ram") == [(0, 15, D(16))]
    assert spans(rows, "vm_disk") == [(0, 24, D(100))]
    (disk,) = [r for r in rows if r["product"] == "vm_disk"]
    assert disk["dimension"] == "Gold" and disk["samples"] == 24


def test_gap_rule_a_sample_holds_at_most_two_intervals(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in [*range(0, 6), *range(10, 24)]:  # the site was down 06:00-09:00
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h))])
    rows = intervals(tmp_path)
    # 06:00-07:00 carries the 05:00 sample over the missed 06:00 instant: filled (estimated)
    assert spans(rows, "vcpu") == [(0, 6, D(4)), (6, 7, D(4)), (10, 24, D(4))]
    vcpu = [r for r in rows if r["product"] == "vcpu"]
    assert [(r["filled"], r["samples"]) for r in vcpu] == [(False, 6), (True, 0), (False, 14)]


def disk_pieces(rows: list[dict[str, object]]) -> list[tuple[int, int, object, object]]:
    return [
        (a, b, r["filled"], r["samples"])
        for (a, b, _), r in zip(
            spans(rows, "vm_disk"), [r for r in rows if r["product"] == "vm_disk"], strict=True
        )
    ]


def test_fill_policy_cuts_only_the_carried_hour_out_of_a_stretch(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in [*range(0, 9), *range(10, 24)]:  # the 09:00 run is missing, 10:00 is back
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h))])
    # the stretch is unbroken (24 h × 100 GB); only its carried hour is marked
    assert disk_pieces(intervals(tmp_path)) == [
        (0, 9, False, 9),
        (9, 10, True, 0),
        (10, 24, False, 14),
    ]


def test_gap_intervals_sets_how_long_a_state_is_carried(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in [*range(0, 9), *range(14, 24)]:  # 09:00-13:00 missing
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h))])
    # gap_intervals = 3: a sample holds 3 intervals, so it carries over 2 missed instants
    assert disk_pieces(intervals(tmp_path, gap_intervals=3)) == [
        (0, 9, False, 9),
        (9, 11, True, 0),
        (14, 24, False, 10),
    ]


def test_resource_missing_from_a_complete_run_has_ended(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    other = {"vm_id": "urn:vcloud:vm:2", "vm_name": "db01"}
    for h in range(24):
        rows = [vm(hour(2, h), **other)]
        if h < 12:
            rows.append(vm(hour(2, h)))
        write(lake, "vcd_vm", hour(2, h), rows)
    vcpu = [r for r in intervals(tmp_path) if r["product"] == "vcpu"]
    ended = [r for r in vcpu if r["resource_id"] == "urn:vcloud:vm:1"]
    assert [(r["interval_start"].hour, r["interval_end"].hour) for r in ended] == [(0, 12)]


def test_previous_days_last_sample_holds_into_the_day(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    write(lake, "vcd_vm", hour(1, 23), [vm(hour(1, 23))])
    for h in range(1, 24):  # the 00:00 run of day 2 failed
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h))])
    rows = [r for r in intervals(tmp_path) if r["product"] == "vcpu"]
    assert spans(rows, "vcpu") == [(0, 1, D(4)), (1, 24, D(4))]
    assert [r["filled"] for r in rows] == [True, False]  # the carried hour is estimated


def test_no_interval_crosses_midnight_and_days_add_up(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for d in (1, 2, 3):
        for h in range(24):
            write(lake, "vcd_vm", hour(d, h), [vm(hour(d, h))])
    config = make_config(tmp_path)
    total = timedelta()
    for d in (1, 2, 3):
        consolidate_day(config, date(2026, 10, d))
        for r in pq.read_table(intervals_path(config.lake_dir, date(2026, 10, d))).to_pylist():
            assert r["interval_start"].date() == r["usage_date"]
            if r["product"] == "vcpu":
                total += r["interval_end"] - r["interval_start"]
    assert total == timedelta(hours=72)


def test_a_change_and_back_is_three_intervals_and_the_disk_stays_one(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in range(24):
        resized = 6 <= h < 12  # 4 vCPU, 8 from 06:00 to 12:00, 4 again
        off = 18 <= h < 20
        row = vm(
            hour(2, h), vcpu=8 if resized else 4, status="POWERED_OFF" if off else "POWERED_ON"
        )
        write(lake, "vcd_vm", hour(2, h), [row])
    rows = intervals(tmp_path)
    assert spans(rows, "vcpu") == [(0, 6, D(4)), (6, 12, D(8)), (12, 18, D(4)), (20, 24, D(4))]
    assert spans(rows, "ram") == [(0, 18, D(16)), (20, 24, D(16))]
    assert [(r["samples"], r["level"]) for r in rows if r["product"] == "vm_disk"] == [(24, D(100))]


def test_samples_older_than_the_gap_or_after_the_day_change_nothing(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    times = [(1, 20), (1, 21), (1, 23), (2, 1), (2, 2), (2, 23), (3, 0), (3, 1)]
    for d, h in times:  # day 2's 00:00 run is missing: day 1's 23:00 sample holds into it
        write(lake, "vcd_vm", hour(d, h), [vm(hour(d, h), vcpu=d)])
    vcpu = [r for r in intervals(tmp_path) if r["product"] == "vcpu"]
    assert spans(vcpu, "vcpu") == [(0, 1, D(1)), (1, 3, D(2)), (3, 4, D(2)), (23, 24, D(2))]
    # carried over the missed 00:00 and 03:00 instants: filled, no sample of their own
    assert [(r["filled"], r["samples"]) for r in vcpu] == [
        (True, 0),
        (False, 2),
        (True, 0),
        (False, 1),
    ]


def test_consolidation_is_idempotent(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in range(0, 24, 3):
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h), vcpu=2 + h % 2)])
    first = intervals(tmp_path)
    assert intervals(tmp_path) == first


def test_example_5_dse_cores_from_limits_operators_never(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    rabbit = {
        "instance_id": "urn:dse:mq",
        "instance_name": "mq",
        "kind": "rabbitmq",
        "replicas": 3,
        "service_cpu_millicores": 4500,
        "sidecar_cpu_millicores": 0,
        "operator_cpu_millicores": 500,
    }
    for h in range(24):
        write(lake, "dse_instance", hour(2, h), [dse(hour(2, h)), dse(hour(2, h), **rabbit)])
    rows = intervals(tmp_path)
    cores = {r["dimension"]: r["level"] for r in rows if r["product"] == "dse_core"}
    assert cores == {"postgres": D(6), "rabbitmq": D("4.5")}


def test_dse_settings_sidecars_and_ratio(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for h in range(24):
        write(lake, "dse_instance", hour(2, h), [dse(hour(2, h))])
    rows = intervals(tmp_path, dse_include_sidecars=True, dse_vcpus_per_core="2")
    (row,) = [r for r in rows if r["product"] == "dse_core"]
    assert row["level"] == D("3.15")  # (6 + 0.3) vCPU ÷ 2 vCPU per core


def test_cloudian_series_are_intervals_billed_once_across_sites(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    gib = 2**30
    for site in ("az1", "az2"):  # one multi-DC cluster: both sites report the same series
        write(
            lake,
            "cloudian_group",
            hour(2, 0),
            [
                {
                    "site": site,
                    "source": "cloudian",
                    "run_id": "r",
                    "collected_at": hour(2, 0),
                    "sample_time": hour(2, 0),
                    "group_id": "g-acme",
                    "group_name": "acme",
                }
            ],
            site=site,
        )
        for h in range(24):
            start, end = hour(2, h), hour(2, h) + timedelta(hours=1)
            rows = [
                sb(start, end, site, 500 * gib + 512 * 2**20),
                sb(start, end, site, 7, operation="HG"),
            ]
            write(lake, "cloudian_usage", end, rows, site=site)
    rows = intervals(tmp_path)
    storage = [r for r in rows if r["product"] == "object_storage"]
    assert {r["site"] for r in storage} == {"az1"}
    assert len(storage) == 24 and {r["level"] for r in storage} == {D("500.5")}
    assert {r["org_name"] for r in storage} == {"acme"}
    requests = [r for r in rows if r["product"] == "object_requests"]
    assert sum(r["level"] for r in requests) == 24 * 7
    assert {r["dimension"] for r in requests} == {"GET"} and {r["measure"] for r in requests} == {
        "count"
    }


def test_cloudian_bytes_in_and_out_are_transfer_in_gb_billed_once(tmp_path: Path) -> None:
    """BI/BO → object_transfer in/out, GB of 2^30 bytes exactly, counted per hour, and like
    the bytes stored read from one site only when both report the bucket."""
    lake = tmp_path / "data" / "lake"
    for site in ("az1", "az2"):
        for h in range(3):
            start, end = hour(2, h), hour(2, h) + timedelta(hours=1)
            rows = [
                sb(start, end, site, 3 * 2**29, operation="BI"),  # 1.5 GB in
                sb(start, end, site, 2**21, operation="BO"),  # 2 MiB out
            ]
            write(lake, "cloudian_usage", end, rows, site=site)
    transfer = [r for r in intervals(tmp_path) if r["product"] == "object_transfer"]
    assert {r["site"] for r in transfer} == {"az1"}
    assert {r["measure"] for r in transfer} == {"count"}
    totals = {d: sum(r["level"] for r in transfer if r["dimension"] == d) for d in ("in", "out")}
    assert totals == {"in": D("4.5"), "out": D("0.005859375")}


def _two_site_series(lake: Path, values: dict[str, int]) -> None:
    """Both sites report the group's bucket every hour of Oct 2, each with its own value."""
    for site, value in values.items():
        group = {
            "site": site,
            "source": "cloudian",
            "run_id": "r",
            "collected_at": hour(2, 0),
            "sample_time": hour(2, 0),
            "group_id": "g-acme",
            "group_name": "acme",
        }
        write(lake, "cloudian_group", hour(2, 0), [group], site=site)
        for h in range(24):
            start, end = hour(2, h), hour(2, h) + timedelta(hours=1)
            write(lake, "cloudian_usage", end, [sb(start, end, site, value)], site=site)


def test_a_series_several_sites_report_is_billed_at_the_tenants_home_site(
    tmp_path: Path,
) -> None:
    # domain.md: logical bytes are billed once, at the tenant's home site
    _two_site_series(tmp_path / "data" / "lake", {"az1": 5 * 2**30, "az2": 4 * 2**30})
    (tmp_path / "tenants.toml").write_text(
        '[[tenants]]\nid = "acme"\nbilling_name = "ACME"\norgs = ["acme"]\nplan = "std"\n'
        'home_site = "az2"\n',
        encoding="utf-8",
    )
    storage = [r for r in intervals(tmp_path) if r["product"] == "object_storage"]
    assert {(r["site"], r["level"]) for r in storage} == {("az2", D(4))} and len(storage) == 24


def test_without_a_home_site_the_configured_site_order_decides(tmp_path: Path) -> None:
    _two_site_series(tmp_path / "data" / "lake", {"az1": 5 * 2**30, "az2": 4 * 2**30})
    rows = intervals(tmp_path, series_site_order=["az2", "az1"])
    assert {(r["site"], r["level"]) for r in rows if r["product"] == "object_storage"} == {
        ("az2", D(4))
    }


def test_cloudian_different_buckets_at_two_sites_both_count(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    for site, name in (("az1", "a"), ("az2", "b")):
        start, end = hour(2, 0), hour(2, 1)
        write(lake, "cloudian_usage", end, [sb(start, end, site, 2**30, bucket=name)], site=site)
    storage = [r for r in intervals(tmp_path) if r["product"] == "object_storage"]
    assert sorted((r["site"], r["resource_name"]) for r in storage) == [("az1", "a"), ("az2", "b")]


def history(vm_id: str, h: int, **overrides: object) -> dict[str, object]:
    """A VM resized 06-12, on Silver storage 14-16, off 18-20, renamed at 22:00."""
    return vm(
        hour(2, h),
        vm_id=vm_id,
        vcpu=8 if 6 <= h < 12 else 4,
        storage_policy="Silver" if 14 <= h < 16 else "Gold",
        vm_name="web02" if h >= 22 else "web01",
        status="POWERED_OFF" if 18 <= h < 20 else "POWERED_ON",
        **overrides,
    )


def stretches(rows: list[dict[str, object]], vm_id: str) -> list[tuple[object, ...]]:
    keys = ("product", "dimension", "level", "interval_start", "interval_end", "samples")
    return sorted(tuple(r[k] for k in keys) for r in rows if r["resource_id"] == vm_id)


def test_bitmask_and_sorted_merges_give_the_same_intervals(tmp_path: Path) -> None:
    # A parent_id of '' sends a VM through the sorted merge (int_resource_intervals and
    # int_level_intervals); the others are merged by run bitmasks (int_run_intervals).
    lake = tmp_path / "data" / "lake"
    node = {"is_tkg_node": True, "tkg_cluster_id": ""}
    before = hour(1, 23)
    write(lake, "vcd_vm", before, [vm(before, vm_id="a"), vm(before, vm_id="b", **node)])
    for h in [*range(0, 9), *range(10, 24)]:  # both missing from a run at 09:00
        write(lake, "vcd_vm", hour(2, h), [history("a", h), history("b", h, **node)])
    write(lake, "vcd_vm", hour(2, 9), [vm(hour(2, 9), vm_id="c")])
    out = intervals(tmp_path)
    assert {r["parent_id"] for r in out if r["resource_id"] == "b"} == {""}
    assert stretches(out, "a") == stretches(out, "b")
    vcpu = [r for r in out if r["resource_id"] == "a"]
    assert spans(vcpu, "vcpu") == [
        (0, 6, D(4)),
        (6, 9, D(8)),
        (10, 12, D(8)),
        (12, 18, D(4)),
        (20, 22, D(4)),
        (22, 24, D(4)),
    ]
    assert spans(vcpu, "vm_disk") == [
        (0, 9, D(100)),
        (10, 14, D(100)),
        (14, 16, D(100)),
        (16, 22, D(100)),
        (22, 24, D(100)),
    ]
    assert [r["samples"] for r in vcpu if r["product"] == "ram"] == [9, 8, 2, 2]


def test_more_runs_a_day_than_a_bitmask_holds_still_merge(tmp_path: Path) -> None:
    # Runs every 15 minutes: 96 a day, beyond the 64 bits of int_resource_runs.
    lake = tmp_path / "data" / "lake"
    for q in range(96):
        t = hour(2, q // 4).replace(minute=15 * (q % 4))
        write(lake, "vcd_vm", t, [vm(t, vcpu=8 if 40 <= q < 48 else 4)])
    out = intervals(tmp_path)
    assert spans(out, "vcpu") == [(0, 10, D(4)), (10, 12, D(8)), (12, 24, D(4))]
    assert [r["samples"] for r in out if r["product"] == "vm_disk"] == [96]


def test_cloudian_repeated_hours_are_ranked_among_unique_ones(tmp_path: Path) -> None:
    # Rows whose key occurs once skip the ranking; the repeated ones (two sites, a retry of a
    # series without a user) are ranked by their real keys, NULLs equal, as before.
    lake = tmp_path / "data" / "lake"
    gib = 2**30
    anon = {"group_id": "g-anon", "user_id": None, "bucket": "anon"}
    for h in range(24):
        start, end = hour(2, h), hour(2, h) + timedelta(hours=1)
        rows = [sb(start, end, "az1", (h + 1) * gib, bucket=f"b{n}") for n in range(40)]
        rows.append(sb(start, end, "az1", 3, operation="HG", **anon))
        write(lake, "cloudian_usage", end, rows)
        write(lake, "cloudian_usage", end, [sb(start, end, "az2", 9 * gib, bucket="b7")], "az2")
    start, end = hour(2, 5), hour(2, 6)
    later = end + timedelta(minutes=2)
    retry = [sb(start, end, "az1", 4, operation="HG", collected_at=later, **anon)]
    write_partition(lake, "cloudian_usage", "az1", end, retry, suffix="-retry")
    rows = intervals(tmp_path)
    keys = [(r["resource_id"], r["product"], r["interval_start"]) for r in rows]
    assert len(keys) == len(set(keys)) == 24 * 40 + 24
    b7 = [r for r in rows if r["resource_name"] == "b7"]
    assert {r["site"] for r in b7} == {"az1"}  # the first site name, never the replica's 9 GB
    assert [r["level"] for r in b7] == [D(h + 1) for h in range(24)]
    anon_rows = [r for r in rows if r["resource_name"] == "anon"]
    assert [r["level"] for r in anon_rows] == [D(4) if h == 5 else D(3) for h in range(24)]
    assert {r["org_name"] for r in anon_rows} == {None}
