"""OSE and Cloudian: shapes, paging, the Admin API's status codes, series, home-site buckets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from metering.simulator import Simulation
from metering.window import Window

from .conftest import START, Api, hours

OSE = "/{site}/ose/api/v1/core"
CLOUDIAN = "/{site}/cloudian"


def _tenants(api: Api, site: str) -> list[dict]:
    body = api.get(OSE.format(site=site) + "/associated-tenants", site, limit=7).json()
    items, total = list(body["items"]), body["pageInfo"]["total"]
    while len(items) < total:
        page = api.get(OSE.format(site=site) + "/associated-tenants", site, offset=len(items),
                       limit=7).json()  # fmt: skip
        items += page["items"]
    return items


def test_ose_tenants_users_usage_and_buckets(api: Api) -> None:
    tenants = _tenants(api, "az1")
    assert len({t["orgId"] for t in tenants}) == len(tenants) > 7
    assert set(tenants[0]) >= {"name", "orgId", "siteName", "siteId", "fullId", "accessible"}
    for tenant in tenants:
        base = OSE.format(site="az1") + f"/tenants/{tenant['orgId']}"
        usage = api.get(base + "/platform-usage").json()
        assert api.get(base + "/usage").json() == usage
        buckets = api.get(base + "/buckets").json()["items"]
        users = api.get(base + "/users").json()["items"]
        assert usage["scope"] == "TENANT"
        assert usage["usedBytes"] == sum(b["usage"]["usedBytes"] for b in buckets)
        assert usage["usedBytes"] == sum(u["usage"]["usedBytes"] for u in users)
        assert usage["bucketCount"] == len(buckets)
        assert all(u["usage"]["scope"] == "USER" and u["active"] is True for u in users)
    nope = OSE.format(site="az1") + "/tenants/urn:vcloud:org:nope"
    assert api.get(nope + "/platform-usage").status_code == 404
    assert api.get(nope + "/usage").status_code == 404


def test_ose_storage_policies_and_backups(api: Api, sim: Simulation) -> None:
    policies = api.get(OSE.format(site="az1") + "/storage-policies").json()["items"]
    assert {p["name"] for p in policies} == {"1DC-3R", "2DC-3R", "EC-4+2"}
    sim.set_now(START + hours(24 * 10))
    clusters = api.get("/az1/vcd/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/1.2.0",
                       pageSize=128).json()["values"]  # fmt: skip
    found = []
    for cluster in clusters:
        path = f"/az1/ose/api/v1/k8s/clusters/{cluster['id']}/backups"
        found += api.get(path).json()["items"]
    assert found and all(b["phase"] == "Completed" and b["sizeBytes"] >= 0 for b in found)
    assert api.get("/az1/ose/api/v1/k8s/clusters/urn:nope/backups").status_code == 404


def test_ose_needs_the_vcd_token(api: Api) -> None:
    response = api.request("GET", "/az1/ose/api/v1/core/associated-tenants")
    assert response.status_code == 401


def test_cloudian_basic_auth(api: Api) -> None:
    response = api.request("GET", "/az1/cloudian/group/list")
    assert response.status_code == 401


def test_cloudian_groups_users_and_limit_plus_one_paging(api: Api) -> None:
    groups = api.get(CLOUDIAN.format(site="az1") + "/group/list").json()
    assert all(g["active"] == "true" and isinstance(g["active"], str) for g in groups)
    names = {g["groupName"] for g in groups}
    assert {"Café Müller", '"Quoted" Media'} <= names
    page = api.get(CLOUDIAN.format(site="az1") + "/group/list", limit=3).json()
    assert len(page) == 3
    rest = api.get(CLOUDIAN.format(site="az1") + "/group/list", limit=100,
                   offset=page[2]["groupId"]).json()  # fmt: skip
    assert rest[0] == page[2] and len(page) - 1 + len(rest) == len(groups)
    gid = groups[0]["groupId"]
    users = api.get(CLOUDIAN.format(site="az1") + "/user/list", groupId=gid, userType="all",
                    userStatus="all", limit=2).json()  # fmt: skip
    assert len(users) == 2 and set(users[0]) >= {"userId", "groupId", "active", "canonicalUserId"}


def test_cloudian_unknown_group_answers_as_the_admin_api_does(api: Api) -> None:
    """apache/cloudstack CloudianClient(Test): /group 204; /user/list 200 with an empty body
    (never 204); the /system calls 400 for an unknown group, user or bucket."""
    base = CLOUDIAN.format(site="az1")
    group = api.get(base + "/group", groupId="no-such-group")
    assert group.status_code == 204 and group.content == b""
    users = api.get(base + "/user/list", groupId="no-such-group", userType="all")
    assert users.status_code == 200 and users.content == b""
    for path in ("/system/bucketusage", "/system/bytecount", "/system/bucketlist"):
        assert api.get(base + path, groupId="no-such-group").status_code == 400
    gid = api.get(base + "/group/list").json()[0]["groupId"]
    assert api.get(base + "/system/bucketusage", groupId=gid, userId="nobody").status_code == 400
    some = api.get(base + "/usage", id="no-such-group|u|b", operation="SB", granularity="hour",
                   startTime="202610010000", endTime="202610010100", reversed="false")  # fmt: skip
    assert some.status_code == 400


def test_cloudian_system_version_is_plain_text(api: Api) -> None:
    response = api.get(CLOUDIAN.format(site="az1") + "/system/version")
    assert response.status_code == 200
    assert response.text.split(" Compiled: ")[0].replace(".", "").isdigit()


def test_cloudian_bytecount_and_bucketusage_agree(api: Api) -> None:
    for group in api.get(CLOUDIAN.format(site="az1") + "/group/list").json():
        gid = group["groupId"]
        count = api.get(CLOUDIAN.format(site="az1") + "/system/bytecount", groupId=gid).json()
        users = api.get(CLOUDIAN.format(site="az1") + "/system/bucketusage", groupId=gid).json()
        buckets = [b for u in users for b in u["buckets"]]
        assert isinstance(count, int)
        assert count == sum(b["byteCount"] for b in buckets)


def test_cloudian_policies_replication_and_erasure_coding(api: Api) -> None:
    policies = api.get(CLOUDIAN.format(site="az1") + "/bppolicy/listpolicy").json()
    by_name = {p["policyName"]: p for p in policies}
    assert by_name["2DC-3R"]["replicationScheme"] == {"DC1": "2", "DC2": "1"}
    assert by_name["EC-4+2"]["dataDistributionScheme"] == "EC"
    assert by_name["EC-4+2"]["ecScheme"] == {"DC1": "4+2"}
    one = api.get(CLOUDIAN.format(site="az1") + "/bppolicy",
                  policyId=by_name["1DC-3R"]["policyId"])  # fmt: skip
    assert one.json()["policyName"] == "1DC-3R"
    per = api.get(CLOUDIAN.format(site="az1") + "/bppolicy/bucketsperpolicy").json()
    assert sum(len(p["buckets"]) for p in per) > 0


def test_buckets_are_reported_only_at_their_home_site(api: Api) -> None:
    seen: dict[str, str] = {}
    for site in ("az1", "az2"):
        for group in api.get(CLOUDIAN.format(site=site) + "/group/list", site).json():
            users = api.get(CLOUDIAN.format(site=site) + "/system/bucketusage", site,
                            groupId=group["groupId"]).json()  # fmt: skip
            for bucket in (b for u in users for b in u["buckets"]):
                assert bucket["bucketName"] not in seen, "a bucket must be reported once"
                seen[bucket["bucketName"]] = site
    assert set(seen.values()) == {"az1", "az2"}


def test_usage_series_hourly_daily_and_only_completed_hours(api: Api, sim: Simulation) -> None:
    sim.set_now(START + hours(30))
    gid = next(
        g["groupId"]
        for g in api.get(CLOUDIAN.format(site="az1") + "/group/list").json()
        if api.get(CLOUDIAN.format(site="az1") + "/system/bytecount", groupId=g["groupId"]).json()
    )
    params = {"startTime": "202610010000", "endTime": "202610030000", "id": gid}
    hourly = api.get(CLOUDIAN.format(site="az1") + "/usage", operation="SB", granularity="hour",
                     **params).json()  # fmt: skip
    assert len(hourly) == 30  # hours 0..29 are complete at 06:00 on day 2
    assert set(hourly[0]) >= {"timestamp", "operation", "value", "count", "maxValue"}
    assert int(hourly[0]["timestamp"]) == int(START.timestamp()) * 1000
    daily = api.get(CLOUDIAN.format(site="az1") + "/usage", operation="HG", granularity="day",
                    **params).json()  # fmt: skip
    gets = api.get(CLOUDIAN.format(site="az1") + "/usage", operation="HG", granularity="hour",
                   **params).json()  # fmt: skip
    assert [d["count"] for d in daily] == [24, 6]
    assert sum(d["value"] for d in daily) == sum(h["value"] for h in gets)
    bad = api.get(CLOUDIAN.format(site="az1") + "/usage", operation="XX", **params)
    assert bad.status_code == 400


def test_bucket_series_sum_to_the_object_storage_truth(api: Api, sim: Simulation) -> None:
    """Summing every bucket's hourly SB of a day equals the ground truth GB-hours."""
    day = Window(START + timedelta(days=3), START + timedelta(days=4))
    sim.set_now(day.end)
    totals: dict[tuple[str, str, str], Decimal] = {}
    for site in ("az1", "az2"):
        for group in api.get(CLOUDIAN.format(site=site) + "/group/list", site).json():
            gid = group["groupId"]
            users = api.get(CLOUDIAN.format(site=site) + "/system/bucketusage", site,
                            groupId=gid).json()  # fmt: skip
            for user in users:
                for bucket in user["buckets"]:
                    series = api.get(
                        CLOUDIAN.format(site=site) + "/usage", site,
                        id=f"{gid}|{user['userId']}|{bucket['bucketName']}", operation="SB",
                        startTime="202610040000", endTime="202610050000", granularity="hour",
                    ).json()  # fmt: skip
                    key = (site, group["groupName"], bucket["policyName"])
                    gb_hours = Decimal(sum(p["value"] for p in series)) / 2**30
                    totals[key] = totals.get(key, Decimal(0)) + gb_hours
    truth = {
        (r["site"], r["org_name"], r["dimension"]): Decimal(r["quantity"])
        for r in sim.truth(day)
        if r["product"] == "object_storage"
    }
    assert {k: v for k, v in totals.items() if v} == truth


def test_bucket_bytes_in_and_out_sum_to_the_transfer_truth(api: Api, sim: Simulation) -> None:
    """Summing every bucket's hourly BI and BO of a day equals the ground truth GB of
    ``object_transfer`` in and out (egress is billed from these)."""
    day = Window(START + timedelta(days=3), START + timedelta(days=4))
    sim.set_now(day.end)
    totals: dict[tuple[str, str, str], Decimal] = {}
    for site in ("az1", "az2"):
        for group in api.get(CLOUDIAN.format(site=site) + "/group/list", site).json():
            gid = group["groupId"]
            users = api.get(CLOUDIAN.format(site=site) + "/system/bucketusage", site,
                            groupId=gid).json()  # fmt: skip
            for user, bucket in ((u, b) for u in users for b in u["buckets"]):
                for op, direction in (("BI", "in"), ("BO", "out")):
                    series = api.get(
                        CLOUDIAN.format(site=site) + "/usage", site,
                        id=f"{gid}|{user['userId']}|{bucket['bucketName']}", operation=op,
                        startTime="202610040000", endTime="202610050000", granularity="hour",
                    ).json()  # fmt: skip
                    key = (site, group["groupName"], direction)
                    gb = Decimal(sum(p["value"] for p in series)) / 2**30
                    totals[key] = totals.get(key, Decimal(0)) + gb
    truth = {
        (r["site"], r["org_name"], r["dimension"]): Decimal(r["quantity"])
        for r in sim.truth(day)
        if r["product"] == "object_transfer"
    }
    assert truth and {k: v for k, v in totals.items() if v} == truth


def test_a_deleted_buckets_history_stays_queryable(api: Api, sim: Simulation) -> None:
    b = sim.world.buckets
    gone = [i for i in range(len(b.site)) if 24 < b.deleted[i] < 744 and b.created[i] < 0]
    assert gone, "the sample month deletes a bucket"
    i = gone[0]
    site = sim.sites[int(b.site[i])]
    end = int(b.deleted[i])
    sim.set_now(START + hours(end + 2))
    from metering.simulator.views_storage import bucket_name
    from metering.simulator.views_vcd import View

    name = bucket_name(View(sim.world, sim.start, int(b.site[i]), sim.hour, ""), i)
    gid = sim.world.group_ids[int(b.org[i])]
    user = ("admin", "app", "velero")[int(b.user[i])]
    listed = api.get(CLOUDIAN.format(site=site) + "/system/bucketusage", site, groupId=gid).json()
    assert name not in {x["bucketName"] for u in listed or [] for x in u["buckets"]}
    when = START + hours(end - 2)
    series = api.get(CLOUDIAN.format(site=site) + "/usage", site, id=f"{gid}|{user}|{name}",
                     operation="SB", startTime=f"{when:%Y%m%d%H%M}",
                     endTime=f"{when + hours(4):%Y%m%d%H%M}").json()  # fmt: skip
    assert [int(p["timestamp"]) for p in series] == [
        int((when + hours(k)).timestamp()) * 1000 for k in (0, 1)
    ]


def test_per_tenant_lookups_answer_only_for_this_site_and_hour(api: Api, sim: Simulation) -> None:
    """Tenant, group and cluster lookups are indexed per site: another site's org id or
    cluster is unknown here, and a cluster answers only while it exists."""
    sim.set_now(START + hours(24 * 20))  # the sample deletes a cluster of az1 on day 20
    az2 = _tenants(api, "az2")[0]
    other = OSE.format(site="az1") + f"/tenants/{az2['orgId']}/usage"
    assert api.get(other).status_code == 404
    assert (
        api.get(OSE.format(site="az2") + f"/tenants/{az2['orgId']}/usage", "az2").json()["scope"]
        == "TENANT"
    )
    cl = sim.world.clusters
    from metering.simulator.index import cluster_urn

    gone = next(c for c in range(len(cl.site)) if cl.deleted[c] <= sim.hour and cl.site[c] == 0)
    away = next(c for c in range(len(cl.site)) if cl.site[c] == 1 and cl.created[c] <= sim.hour)
    for c in (gone, away):
        path = f"/az1/ose/api/v1/k8s/clusters/{cluster_urn(sim.world.seed, c)}/backups"
        assert api.get(path).status_code == 404
    group = sim.world.group_ids[sim.world.presence[0][0]]
    here = api.get(CLOUDIAN.format(site="az1") + "/group", groupId=group).json()
    assert here["groupId"] == group
