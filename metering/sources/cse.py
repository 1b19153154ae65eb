"""CSE collector: TKG clusters and their node pools from ``capvcdCluster`` RDEs.

Reads ``/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/{1.1.0,1.2.0,1.3.0}`` (OpenAPI
paging; a version the site has not registered answers 404 and is skipped). Node pools name a
VDC sizing policy; its vCPU and memory per node are resolved from
``/cloudapi/2.0.0/vdcComputePolicies`` (null when the policy is unknown: the nodes are billed
as VMs anyway, never under the cluster).
"""

from __future__ import annotations

from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    dig,
    opt_bool,
    opt_int,
    opt_str,
    req_int,
    req_str,
)
from metering.sources.vcd import clusters, sizing_policies


def pool_role(name: str) -> str:
    return "control_plane" if "control-plane" in name or "controlplane" in name else "worker"


def _pools(rde: Record, sizes: dict[str, Record]) -> list[Row]:
    pools = dig(rde, "entity.status.capvcd.nodePool")
    if not isinstance(pools, list):
        raise RecordError("entity.status.capvcd.nodePool: missing or not a list")
    rows = []
    for i, pool in enumerate(pools):
        if not isinstance(pool, dict):
            raise RecordError(f"entity.status.capvcd.nodePool[{i}]: not an object")
        where = f"entity.status.capvcd.nodePool[{i}]"
        try:
            name = req_str(pool, "name")
            sizing = opt_str(pool, "sizingPolicy")
            size = sizes.get(sizing or "", {})
            rows.append(
                {
                    "pool_name": name,
                    "role": pool_role(name),
                    "sizing_policy": sizing,
                    "vcpu_per_node": opt_int(size, "cpuCount"),
                    "memory_mb_per_node": opt_int(size, "memory"),
                    "storage_policy": opt_str(pool, "storageProfile"),
                    "disk_size_mb": opt_int(pool, "diskSizeMb"),
                    "gpu_enabled": opt_bool(pool, "nvidiaGpuEnabled"),
                    "desired_replicas": req_int(pool, "desiredReplicas"),
                    "available_replicas": req_int(pool, "availableReplicas"),
                }
            )
        except RecordError as exc:
            raise RecordError(f"{where}.{exc}") from None
    return rows


def cluster_rows(rde: Record, sizes: dict[str, Record]) -> tuple[Row, list[Row]]:
    """One ``cse_cluster`` row and its ``cse_node_pool`` rows."""
    cluster_id = req_str(rde, "id")
    name = opt_str(rde, "name") or req_str(rde, "entity.metadata.name")
    org_name = opt_str(rde, "org.name") or req_str(rde, "entity.metadata.orgName")
    keys = {"cluster_id": cluster_id, "cluster_name": name, "org_id": opt_str(rde, "org.id")}
    keys["org_name"] = org_name
    pools = [{**keys, **pool} for pool in _pools(rde, sizes)]
    vdcs = dig(rde, "entity.status.capvcd.vcdProperties.orgVdcs") or [{}]
    first_vdc = vdcs[0] if isinstance(vdcs, list) and vdcs and isinstance(vdcs[0], dict) else {}
    cluster = {
        **keys,
        "vdc_id": opt_str(first_vdc, "id"),
        "vdc_name": opt_str(first_vdc, "name")
        or opt_str(rde, "entity.metadata.virtualDataCenterName"),
        "owner_name": opt_str(rde, "owner.name"),
        "entity_state": req_str(rde, "state"),
        "phase": opt_str(rde, "entity.status.capvcd.phase"),
        "kubernetes_version": opt_str(rde, "entity.status.capvcd.kubernetes"),
        "entity_type": opt_str(rde, "entityType") or "urn:vcloud:type:vmware:capvcdCluster",
        "control_plane_nodes": sum(
            p["available_replicas"] for p in pools if p["role"] == "control_plane"
        ),
        "worker_nodes": sum(p["available_replicas"] for p in pools if p["role"] == "worker"),
        "node_pool_count": len(pools),
    }
    return cluster, pools


async def _clusters(ctx: Context) -> list[Batch]:
    records = await clusters(ctx)
    sizes: dict[str, Record] = {
        str(p["name"]): p for p in await sizing_policies(ctx) if isinstance(p, dict)
    }
    cluster_batch, pool_batch = Batch("cse_cluster"), Batch("cse_node_pool")

    def both(rde: Record) -> Row:
        cluster, pools = cluster_rows(rde, sizes)
        pool_batch.rows.extend(pools)
        return cluster

    cluster_batch.map(records, both, "id")
    return [cluster_batch, pool_batch]


PARTS = (Part(("cse_cluster", "cse_node_pool"), _clusters),)
