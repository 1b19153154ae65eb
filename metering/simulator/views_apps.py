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
    """The RDE envelope (go-vcd ``types/v56/openapi.go`` ``DefinedEntity``)."""
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


def _pools(v: View, c: int, ready: bool) -> list[Record]:
    """``status.capvcd.nodePool``: one pool per MachineDeployment and one for the control
    plane (CAPVCD ``controllers/capi_objects_utils.go`` ``getNodePoolList``); while machines
    boot, ``availableReplicas`` (the ready count) is 0."""
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
            "availableReplicas": int(cl.cp[c]) if ready else 0,
        },
        {
            "name": f"{name}-worker-node-pool-1",
            "sizingPolicy": sizing[int(cl.w_sizing[c])].name,
            **common,
            "desiredReplicas": workers,
            "availableReplicas": workers if ready else 0,
        },
    ]


def cluster_stage(v: View, c: int) -> str:
    """Where cluster ``c`` is in its life at this hour (docs/simulator.md, "CSE states").

    ``pre_created`` (its first hour: the RDE as CSE's UI or go-vcd's ``rde.tmpl`` posts it,
    no ``status``), ``provisioning`` (its second hour: machines booting), ``error`` (its third
    hour: CSE repairs it) and ``resolution_error`` (its fourth), ``deleting`` (its last hour),
    else ``provisioned``.
    """
    cl = v.world.clusters
    age = v.hour - int(cl.created[c])
    if v.hour == int(cl.deleted[c]) - 1 and age > 1:
        return "deleting"
    if age == 0:
        return "pre_created"
    if age == 1:
        return "provisioning"
    if age == 2:
        return "error"
    if age == 3:
        return "resolution_error"
    return "provisioned"


def _org_vdc(v: View, c: int, org: int) -> Record:
    """``vcdProperties.orgVdcs[0]``: CAPVCD writes the VDC URN; clusters seen in the field
    also carry a bare UUID, or the VDC name in ``id`` (go-vcd ``cse_util.go`` FIXME)."""
    ref = v.vdc_ref(org)
    ident = {0: ref["id"], 1: v.vdc_id(org), 2: ref["name"]}[c % 3]
    return {"name": ref["name"], "id": ident, "ovdcNetworkName": f"{v.vdc_name(org)}-net"}


_STAGE_STATUS = {
    "provisioning": ("provisioning", "Provisioning"),
    "error": ("error", "Provisioned"),
    "resolution_error": ("provisioned", "Provisioned"),
    "deleting": ("deleting", "Deleting"),
    "provisioned": ("provisioned", "Provisioned"),
}


def cluster_entity(v: View, c: int, stage: str = "provisioned") -> Record:
    """The ``capvcdCluster`` 1.2.0 payload (valid against its JSON Schema) in ``stage``."""
    cl, org = v.world.clusters, int(v.world.clusters.org[c])
    name, k8s = v.cluster_name(c), K8S_VERSIONS[int(cl.k8s[c])]
    entity: Record = {
        "apiVersion": "capvcd.vmware.com/v1.1",
        "kind": "CAPVCDCluster",
        "metadata": {
            "name": name,
            "orgName": v.world.org_names[org],
            "virtualDataCenterName": v.vdc_name(org),
            "site": v.base,
        },
        "spec": {
            "vcdKe": {
                "isVCDKECluster": True,
                "markForDelete": stage == "deleting",
                "autoRepairOnErrors": True,
            },
            "capiYaml": f"# cluster-api manifest of {name} (not simulated)\n",
        },
    }
    if stage == "pre_created":
        return entity
    cse_state, phase = _STAGE_STATUS[stage]
    errors = (
        [{"name": "ControlPlaneEndpointUnreachable", "occurredAt": v.at(v.hour),
          "vcdResourceId": "", "vcdResourceName": name,
          "additionalDetails": {"Detailed Error": "load balancer not ready"}}]
        if stage == "error" else []
    )  # fmt: skip
    entity["status"] = {
        "vcdKe": {"state": cse_state, "vcdKeVersion": "4.1.0"},
        "capvcd": {
            "phase": phase,
            "kubernetes": k8s,
            "uid": names.uid("capi", v.world.seed, c),
            "useAsManagementCluster": False,
            "errorSet": errors,
            "eventSet": [],
            "upgrade": {
                "ready": stage != "provisioning",
                "current": {"kubernetesVersion": k8s, "tkgVersion": "v2.4.0"},
            },
            "nodePool": _pools(v, c, ready=stage != "provisioning"),
            "vcdProperties": {
                "site": v.base,
                "organizations": [v.org_ref(org)],
                "orgVdcs": [_org_vdc(v, c, org)],
            },
            "capvcdVersion": "1.1.0",
            "createdByVersion": "1.1.0",
        },
    }
    return entity


def live_clusters(v: View) -> list[int]:
    cl = v.world.clusters
    return np.flatnonzero((cl.site == v.site) & alive(cl.created, cl.deleted, v.hour)).tolist()


def cluster_record(v: View, c: int) -> Record:
    """One cluster RDE as VCD lists it at this hour, in the state its stage gives it."""
    stage = cluster_stage(v, c)
    org = int(v.world.clusters.org[c])
    rde = _wrapper(
        v, v.cluster_id(c), CAPVCD_TYPE, v.cluster_name(c), org, cluster_entity(v, c, stage)
    )
    if stage == "pre_created":
        rde["state"] = "PRE_CREATED"
    elif stage == "resolution_error":
        rde["state"] = "RESOLUTION_ERROR"
        rde["message"] = "entity does not validate against the type's schema"
    return rde


def cluster_records(v: View) -> list[Record]:
    return [cluster_record(v, c) for c in live_clusters(v)]


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
    """Data-solution instances as ``vmware:dsInstance:0.1`` RDEs (no public source: the
    reference's [P] shape, docs/simulator.md).

    ``spec.data`` follows the instance template's ``dataSchema`` (cpu, memory, storage,
    highAvailability; go-vcd ``types/v56/dse.go``) plus ``replicas``. Three instances in four
    also list their ``containers`` (service, sidecar, operator); the fourth gives its CPU
    only as ``spec.data.cpu``. ``spec.data.replicas`` copies of each service and sidecar
    container run; the operator container runs once per instance and is never billed.
    """
    d, out = v.world.dse, []
    for i in np.flatnonzero((d.site == v.site) & alive(d.created, d.deleted, v.hour)).tolist():
        kind, org, cluster = DSE_KINDS[int(d.kind[i])], int(d.org[i]), int(d.cluster[i])
        solution, version = SOLUTION_TYPES[kind]
        replicas = int(d.replicas1[i] if v.hour >= d.change_h[i] else d.replicas0[i])
        name = f"{kind}-{int(d.ordinal[i])}"
        urn = f"urn:vcloud:entity:vmware:dsInstance:{names.uid('dse', v.world.seed, i)}"
        spec: Record = {
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
        }
        if i % 4:
            spec["containers"] = _containers(kind, d, i)
        entity = {
            "apiVersion": "dataservices.vmware.com/v1alpha1",
            "kind": "DSInstance",
            "metadata": {"name": name},
            "spec": spec,
            "status": {"phase": "Running"},
        }
        out.append(_wrapper(v, urn, DSE_TYPE, name, org, entity))
    return out


def _provider_rde(v: View, nss: str, version: str, key: str, entity: Record) -> Record:
    """A provider-owned RDE (DSE's configuration lives in the System org)."""
    return {
        "id": f"urn:vcloud:entity:vmware:{nss}:{names.uid(nss, key)}",
        "entityType": f"urn:vcloud:type:vmware:{nss}:{version}",
        "name": entity["metadata"]["name"],
        "externalId": None,
        "entity": entity,
        "state": "RESOLVED",
        "owner": {"name": "administrator", "id": "urn:vcloud:user:" + names.uid("user", "admin")},
        "org": {"name": "System", "id": "urn:vcloud:org:a93c9db9-7471-3192-8d09-a8f7eeda85f9"},
        "message": None,
    }


def dse_config_records(v: View) -> list[Record]:
    """``vmware:dsConfig:0.1``: one per data solution (go-vcd ``types/v56/dse.go``
    ``DataSolution``)."""
    return [
        _provider_rde(v, "dsConfig", "0.1", solution, {
            "apiVersion": "vcd.vmware.com/v1alpha1",
            "kind": "VCDDataSolution",
            "metadata": {"name": solution},
            "spec": {"artifacts": [{"image": f"registry.example/{kind}:{version}"}],
                     "description": solution, "solutionType": solution},
        })
        for kind, (solution, version) in SOLUTION_TYPES.items()
    ]  # fmt: skip


def dse_template_records(v: View) -> list[Record]:
    """``vmware:dsInstanceTemplate:0.1``: a Small and a High availability size per solution
    (go-vcd ``DataSolutionInstanceTemplate``: cpu/memory/storage are quantity strings)."""
    out = []
    for kind, (solution, version) in SOLUTION_TYPES.items():
        for label, ha in (("Small", False), ("High availability", True)):
            data = {"cpu": SERVICE_CPU[kind][0], "name": "", "memory": "4Gi",
                    "storage": "50Gi", "namespace": "", "pvcPolicy": "Retain",
                    "highAvailability": ha}  # fmt: skip
            out.append(_provider_rde(v, "dsInstanceTemplate", "0.1", f"{solution}/{label}", {
                "apiVersion": "vcd.vmware.com/v1alpha1",
                "kind": "VCDDataSolutionInstanceTemplate",
                "metadata": {"name": label},
                "spec": {"data": data, "builtIn": True, "version": version, "featured": False,
                         "description": f"{label} {solution}", "solutionType": solution},
            }))  # fmt: skip
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
    "vmware:dsConfig:0.1": dse_config_records,
    "vmware:dsInstanceTemplate:0.1": dse_template_records,
}
"""Every entity type the simulated VCD has registered (``/cloudapi/1.0.0/entityTypes``), with
its entities; ``vmware:dsOrgConfig:0.1.1`` is registered but holds none here."""
REGISTERED_ONLY = ("vmware:dsOrgConfig:0.1.1",)


def entity_type_records(v: View) -> list[Record]:
    """``DefinedEntityType`` records (go-vcd ``types/v56/openapi.go``; schema left out)."""
    out: list[Record] = []
    for key in (*ENTITY_TYPES, *REGISTERED_ONLY):
        vendor, nss, version = key.split(":")
        out.append({
            "id": f"urn:vcloud:type:{key}", "name": nss, "description": None,
            "nss": nss, "version": version, "vendor": vendor, "interfaces": [],
            "readonly": False, "externalId": None,
        })  # fmt: skip
    return out
