"""CSE clusters (valid capvcdCluster 1.2.0 entities), ALP apps, DSE instances."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema

import metering.simulator
from metering.simulator import Simulation

from .conftest import START, Api, hours

CLUSTERS = "/{site}/vcd/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/1.2.0"
DSE = "/{site}/vcd/cloudapi/1.0.0/entities/types/vmware/dsInstance/0.1"
SCHEMA = Path(metering.simulator.__file__).parent / "schemas" / "capvcdCluster-1.2.0.schema.json"


def _all(api: Api, path: str, site: str) -> list[dict]:
    body = api.get(path.format(site=site), site, pageSize=128).json()
    assert body["pageCount"] <= 1
    return list(body["values"])


def test_cluster_entities_validate_against_the_capvcd_schema(api: Api) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    clusters = _all(api, CLUSTERS, "az1") + _all(api, CLUSTERS, "az2")
    assert len(clusters) >= 5
    for rde in clusters:
        jsonschema.validate(rde["entity"], schema)
        assert rde["entityType"] == "urn:vcloud:type:vmware:capvcdCluster:1.2.0"
        assert rde["id"].startswith("urn:vcloud:entity:vmware:capvcdCluster:")
        assert rde["state"] in ("PRE_CREATED", "RESOLVED", "RESOLUTION_ERROR")
        assert rde["org"]["name"]


def test_node_pools_name_sizing_policies_and_nodes_are_vms(api: Api) -> None:
    policies = {p["name"] for p in api.get("/az1/vcd/cloudapi/2.0.0/vdcComputePolicies").json()
                ["values"]}  # fmt: skip
    vms = api.all_query("az1", "adminVM")
    per_vapp = Counter((v["vdcName"], v["containerName"]) for v in vms)
    for rde in _all(api, CLUSTERS, "az1"):
        if "status" not in rde["entity"]:
            continue  # a PRE_CREATED entity: no pools yet
        pools = rde["entity"]["status"]["capvcd"]["nodePool"]
        assert {p["sizingPolicy"] for p in pools} <= policies
        assert any("control-plane" in p["name"] for p in pools)
        nodes = sum(p["desiredReplicas"] for p in pools)
        vdc = rde["entity"]["metadata"]["virtualDataCenterName"]
        assert per_vapp[(vdc, rde["name"])] == nodes


def test_clusters_pass_through_every_state_and_vdc_id_form(api: Api, sim: Simulation) -> None:
    """Over a month each CSE state shows up, with the status fields real clusters carry."""
    seen: dict[tuple[str, str | None], dict] = {}
    vdc_ids: set[str] = set()
    for h in range(744):
        sim.set_now(START + hours(h))
        for rde in _all(api, CLUSTERS, "az1") + _all(api, CLUSTERS, "az2"):
            status = rde["entity"].get("status")
            state = status["vcdKe"]["state"] if status else None
            seen.setdefault((rde["state"], state), rde)
            if status:
                ident = status["capvcd"]["vcdProperties"]["orgVdcs"][0]["id"]
                vdc_ids.add("urn" if ident.startswith("urn:vcloud:vdc:") else
                            "uuid" if len(ident) == 36 else "name")  # fmt: skip
    assert set(seen) >= {
        ("PRE_CREATED", None),
        ("RESOLVED", "provisioning"),
        ("RESOLVED", "provisioned"),
        ("RESOLVED", "error"),
        ("RESOLVED", "deleting"),
        ("RESOLUTION_ERROR", "provisioned"),
    }
    assert vdc_ids == {"urn", "uuid", "name"}
    booting = seen[("RESOLVED", "provisioning")]["entity"]["status"]["capvcd"]["nodePool"]
    assert all(p["availableReplicas"] == 0 < p["desiredReplicas"] for p in booting)
    assert seen[("RESOLVED", "error")]["entity"]["status"]["capvcd"]["errorSet"]
    assert seen[("RESOLVED", "deleting")]["entity"]["spec"]["vcdKe"]["markForDelete"] is True


def test_clusters_scale_during_the_month(api: Api, sim: Simulation) -> None:
    sizes = set()
    for h in range(0, 744, 24):
        sim.set_now(START + hours(h))
        for rde in _all(api, CLUSTERS, "az1"):
            if "status" not in rde["entity"]:
                continue
            pools = rde["entity"]["status"]["capvcd"]["nodePool"]
            sizes.add((rde["id"], tuple(p["desiredReplicas"] for p in pools)))
    assert len(sizes) > len({s[0] for s in sizes}), "some cluster should change its node count"


def test_other_entity_versions_are_404_and_single_entity_by_id(api: Api) -> None:
    missing = api.get("/az1/vcd/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/1.1.0")
    assert missing.status_code == 404
    rde = _all(api, CLUSTERS, "az1")[0]
    one = api.get(f"/az1/vcd/cloudapi/1.0.0/entities/{rde['id']}")
    assert one.status_code == 200 and one.json() == rde


def test_apps_vm_and_container_with_cluster(api: Api) -> None:
    apps = []
    for site in ("az1", "az2"):
        apps += _all(api, "/{site}/vcd/cloudapi/1.0.0/apps", site)
    types = Counter(a["appType"] for a in apps)
    assert types["VmApp"] and types["ContainerApp"]
    for app in apps:
        assert app["id"].startswith("urn:vcloud:app:") and app["status"] == "READY"
        assert app["org"]["name"] and app["vdc"]["id"].startswith("urn:vcloud:vdc:")
        if app["appType"] == "ContainerApp":
            assert app["cluster"]["id"].startswith("urn:vcloud:entity:vmware:capvcdCluster:")
            assert app["namespace"]
        else:
            assert "cluster" not in app


def test_dse_instances_of_every_kind_with_quantity_strings(api: Api) -> None:
    instances = _all(api, DSE, "az1") + _all(api, DSE, "az2")
    solutions = {i["entity"]["spec"]["solutionType"] for i in instances}
    assert solutions == {"RabbitMQ", "VMware SQL with PostgreSQL", "VMware SQL with MySQL"}
    cpus, data_only = set(), 0
    for rde in instances:
        spec = rde["entity"]["spec"]
        assert spec["cluster"]["id"].startswith("urn:vcloud:entity:vmware:capvcdCluster:")
        assert isinstance(spec["data"]["replicas"], int) and isinstance(spec["data"]["cpu"], str)
        cpus.add(spec["data"]["cpu"])
        if "containers" not in spec:
            data_only += 1
            continue
        roles = Counter(c["role"] for c in spec["containers"])
        assert roles == {"service": 1, "sidecar": 1, "operator": 1}
        service = next(c for c in spec["containers"] if c["role"] == "service")
        assert service["limits"]["cpu"] == spec["data"]["cpu"]
        cpus |= {c["limits"]["cpu"] for c in spec["containers"]}
    assert 0 < data_only < len(instances)
    assert all(isinstance(c, str) for c in cpus)
    assert {"2", "1500m", "0.5"} <= cpus


def test_entity_types_are_listed_and_filtered_as_go_vcd_asks(api: Api) -> None:
    path = "/az1/vcd/cloudapi/1.0.0/entityTypes"
    every = api.get(path, "az1").json()["values"]
    assert {t["id"] for t in every} >= {
        "urn:vcloud:type:vmware:capvcdCluster:1.2.0",
        "urn:vcloud:type:vmware:dsConfig:0.1",
        "urn:vcloud:type:vmware:dsInstanceTemplate:0.1",
        "urn:vcloud:type:vmware:dsOrgConfig:0.1.1",
    }
    one = api.get(path, "az1", filter="vendor==vmware;nss==dsConfig;version==0.1").json()
    assert [t["nss"] for t in one["values"]] == ["dsConfig"]
    none = api.get(path, "az1", filter="vendor==vmware;nss==dsNothing").json()
    assert none["values"] == []
    assert api.get(path, "az1", filter="name=like=ds*").status_code == 400
    templates = _all(api, "/{site}/vcd/cloudapi/1.0.0/entities/types/vmware/dsInstanceTemplate/0.1",
                     "az1")  # fmt: skip
    assert {t["entity"]["spec"]["solutionType"] for t in templates} == {
        "RabbitMQ", "VMware SQL with PostgreSQL", "VMware SQL with MySQL"
    }  # fmt: skip
    assert all(isinstance(t["entity"]["spec"]["data"]["cpu"], str) for t in templates)
