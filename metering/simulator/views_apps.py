"""What one site's VCD shows at one hour for CSE (TKG cluster RDEs), DSE (instance RDEs)
and ALP (``/cloudapi/1.0.0/apps``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from metering.simulator import names
from metering.simulator.inventory import DSE_KINDS
from metering.simulator.state import alive
from metering.simulator.tables import K8S_VERSIONS, OPERATOR_CPU, SERVICE_CPU, SIDECAR_CPU
from metering.simulator.views_vcd import View

Record = dict[str, Any]
CAPVCD_TYPE = "urn:vcloud:type:vmware:capvcdCluster:1.2.0"
DSE_TYPE = "urn:vcloud:type:vmware:dsInstance:0.1"
SOLUTION_TYPES = {
    "rabbitmq": ("RabbitMQ", "3.12.10"),
    "postgres": ("VMware SQL with PostgreSQL", "15.5"),
    "mysql": ("VMware SQL with MySQL", "8.0.35"),
}
SERVICE_CONTAINER = {"rabbitmq": "rabbitmq", "postgres": "postgres", "mysql": "mysql"}
SIDECAR_CONTAINER = {
    "rabbitmq": "rabbitmq-exporter",
    "postgres": "metrics-exporter",
    "mysql": "mysqld-exporter",
}


def _wrapper(v: View, urn: str, entity_type: str, name: str, org: int, entity: Record) -> Record:
    """The RDE envelope (go-vcd ``DefinedEntity``)."""
    return {
        "id": urn,
        "entityType": entity_type,
        "name": name,
        "externalId": None,
        "entity": entity,
        "state": "RESOLVED",
        "owner": v.owner(org),
        "org": v.org_ref(org),
        "message": None,
    }


def _pools(v: View, c: int) -> list[Record]:
    cl, sizing = v.world.clusters, v.world.inventory.sizing_policies
    name = v.cluster_name(c)
    workers = int(cl.w1[c] if v.hour >= cl.scale_h[c] else cl.w0[c])
    common = {
        "placementPolicy": "",
        "storageProfile": v.world.inventory.vm_storage_policies[int(cl.spolicy[c])],
        "diskSizeMb": int(cl.disk_mb[c]),
        "nvidiaGpuEnabled": False,
    }
    return [
        {
            "name": f"{name}-control-plane-node-pool",
            "sizingPolicy": sizing[int(cl.cp_sizing[c])].name,
            **common,
            "desiredReplicas": int(cl.cp[c]),
            "availableReplicas": int(cl.cp[c]),
        },
        {
            "name": f"{name}-worker-node-pool-1",
            "sizingPolicy": sizing[int(cl.w_sizing[c])].name,
            **common,
            "desiredReplicas": workers,
            "availableReplicas": workers,
        },
    ]


def cluster_entity(v: View, c: int) -> Record:
    """The ``capvcdCluster`` 1.2.0 payload (valid against its JSON Schema)."""
    cl, org = v.world.clusters, int(v.world.clusters.org[c])
    name, k8s = v.cluster_name(c), K8S_VERSIONS[int(cl.k8s[c])]
    vdc = {**v.vdc_ref(org), "ovdcNetworkName": f"{v.vdc_name(org)}-net"}
    return {
        "apiVersion": "capvcd.vmware.com/v1.1",
        "kind": "CAPVCDCluster",
        "metadata": {
            "name": name,
            "orgName": v.world.org_names[org],
            "virtualDataCenterName": v.vdc_name(org),
            "site": v.base,
        },
        "spec": {
            "vcdKe": {"isVCDKECluster": True, "markForDelete": False, "autoRepairOnErrors": True},
            "capiYaml": f"# cluster-api manifest of {name} (not simulated)\n",
        },
        "status": {
            "vcdKe": {"state": "provisioned", "vcdKeVersion": "4.1.0"},
            "capvcd": {
                "phase": "Provisioned",
                "kubernetes": k8s,
                "uid": names.uid("capi", v.world.seed, c),
                "useAsManagementCluster": False,
                "errorSet": [],
                "eventSet": [],
                "upgrade": {
                    "ready": True,
                    "current": {"kubernetesVersion": k8s, "tkgVersion": "v2.4.0"},
                },
                "nodePool": _pools(v, c),
                "vcdProperties": {
                    "site": v.base,
                    "organizations": [v.org_ref(org)],
                    "orgVdcs": [vdc],
                },
                "capvcdVersion": "1.1.0",
                "createdByVersion": "1.1.0",
            },
        },
    }


def live_clusters(v: View) -> list[int]:
    cl = v.world.clusters
    return np.flatnonzero((cl.site == v.site) & alive(cl.created, cl.deleted, v.hour)).tolist()


def cluster_records(v: View) -> list[Record]:
    return [
        _wrapper(
            v,
            v.cluster_id(c),
            CAPVCD_TYPE,
            v.cluster_name(c),
            int(v.world.clusters.org[c]),
            cluster_entity(v, c),
        )
        for c in live_clusters(v)
    ]


def _containers(kind: str, d: Any, i: int) -> list[Record]:
    service = SERVICE_CPU[kind][int(d.service_q[i])]
    return [
        {"name": SERVICE_CONTAINER[kind], "role": "service",
         "requests": {"cpu": service, "memory": "2Gi"},
         "limits": {"cpu": service, "memory": "4Gi"}},
        {"name": SIDECAR_CONTAINER[kind], "role": "sidecar",
         "limits": {"cpu": SIDECAR_CPU[int(d.sidecar_q[i])], "memory": "128Mi"}},
        {"name": f"{kind}-operator", "role": "operator",
         "limits": {"cpu": OPERATOR_CPU[int(d.operator_q[i])], "memory": "256Mi"}},
    ]  # fmt: skip


def dse_records(v: View) -> list[Record]:
    """Data-solution instances as ``vmware:dsInstance:0.1`` RDEs (the reference's [P] shape).

    ``spec.data.replicas`` copies of each service and sidecar container run; the operator
    container runs once per instance and is never billed.
    """
    d, out = v.world.dse, []
    for i in np.flatnonzero((d.site == v.site) & alive(d.created, d.deleted, v.hour)).tolist():
        kind, org, cluster = DSE_KINDS[int(d.kind[i])], int(d.org[i]), int(d.cluster[i])
        solution, version = SOLUTION_TYPES[kind]
        replicas = int(d.replicas1[i] if v.hour >= d.change_h[i] else d.replicas0[i])
        name = f"{kind}-{int(d.ordinal[i])}"
        urn = f"urn:vcloud:entity:vmware:dsInstance:{names.uid('dse', v.world.seed, i)}"
        entity = {
            "apiVersion": "dataservices.vmware.com/v1alpha1",
            "kind": "DSInstance",
            "metadata": {"name": name},
            "spec": {
                "solutionType": solution,
                "version": version,
                "templateName": "Small" if replicas == 1 else "High availability",
                "cluster": {"id": v.cluster_id(cluster), "name": v.cluster_name(cluster)},
                "namespace": f"{kind}-{int(d.ordinal[i])}",
                "data": {
                    "cpu": SERVICE_CPU[kind][int(d.service_q[i])],
                    "memory": "4Gi",
                    "storage": "50Gi",
                    "highAvailability": replicas > 1,
                    "replicas": replicas,
                },
                "containers": _containers(kind, d, i),
            },
            "status": {"phase": "Running"},
        }
        out.append(_wrapper(v, urn, DSE_TYPE, name, org, entity))
    return out


def app_records(v: View) -> list[Record]:
    """ALP app instances (VCD ``App``); a ContainerApp names its target cluster."""
    a, out = v.world.apps, []
    for i in np.flatnonzero((a.site == v.site) & alive(a.created, a.deleted, v.hour)).tolist():
        template = v.world.inventory.apps[int(a.template[i])]
        org = int(a.org[i])
        record: Record = {
            "appType": template.app_type,
            "id": f"urn:vcloud:app:{names.uid('app', v.world.seed, i)}",
            "appTemplateId": f"urn:vcloud:appTemplate:{names.uid('tpl', template.app_id)}",
            "appId": template.app_id,
            "appVersion": template.version,
            "name": v.app_name(i),
            "creationDate": v.at(int(a.created[i])),
            "status": "READY",
            "logoUrl": f"https://charts.example/{template.app_id}.png",
            "owner": v.owner(org),
            "org": v.org_ref(org),
            "vdc": v.vdc_ref(org),
        }
        if template.app_type == "ContainerApp":
            c = int(a.cluster[i])
            record["cluster"] = {"name": v.cluster_name(c), "id": v.cluster_id(c)}
            record["namespace"] = v.app_name(i)
        out.append(record)
    return out


ENTITY_TYPES: dict[str, Callable[[View], list[Record]]] = {
    "vmware:capvcdCluster:1.2.0": cluster_records,
    "vmware:dsInstance:0.1": dse_records,
}
