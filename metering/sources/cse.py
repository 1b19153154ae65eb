"""CSE collector: TKG clusters and their node pools from ``capvcdCluster`` RDEs.

Reads ``/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/{version}`` for every version the
site has registered (``metering.sources.rde``: ``/cloudapi/1.0.0/entityTypes``, as go-vcd
asks; CSE 4.1 registers 1.2.0, CSE 4.2 1.3.0). None registered fails the part: CSE is not
installed, which is not the same as a CSE with no clusters (ok, zero rows). Node pools name a
VDC sizing policy; its vCPU and memory per node are resolved from
``/cloudapi/2.0.0/vdcComputePolicies`` (null when the policy is unknown: the nodes are billed
as VMs anyway, never under the cluster).

A cluster is read in every state it passes through (docs/collectors.md, "CSE"): an entity
CSE has just created (``PRE_CREATED``) has no ``status`` yet, CAPVCD writes ``nodePool`` only
once machines exist, and an entity in ``RESOLUTION_ERROR`` still names its cluster. Such a
cluster is a row with zero nodes, never a quarantined record: the fee rule
(docs/metering-rules.md) bills every state. ``orgVdcs[].id`` arrives as a URN, a bare UUID,
or the VDC name (go-vcd's ``cse_util.go`` works around the last); it is normalised to a URN,
or to null with the name kept.
"""

from __future__ import annotations

import re

from metering.errors import SourceDataError
from metering.sources.base import Context, Part
from metering.sources.rde import registered_versions
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

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VDC_URN = "urn:vcloud:vdc:"


def pool_role(name: str) -> str:
    return "control_plane" if "control-plane" in name or "controlplane" in name else "worker"


def vdc_urn(value: str | None) -> str | None:
    """A VDC reference as CSE writes it → its URN; a bare name (no id at all) → None."""
    if not value:
        return None
    if value.startswith(VDC_URN) and _UUID.match(value[len(VDC_URN) :]):
        return value
    if _UUID.match(value):
        return VDC_URN + value.lower()
    return None


def _replicas(pool: Record, key: str) -> int:
    """CAPVCD always writes both counts; go-vcd's ``omitempty`` drops a zero: absent = 0."""
    return 0 if dig(pool, key) is None else req_int(pool, key)


def _pools(rde: Record, sizes: dict[str, Record]) -> list[Row]:
    pools = dig(rde, "entity.status.capvcd.nodePool")
    if pools is None:
        return []  # no machines yet (PRE_CREATED, provisioning) or status not written
    if not isinstance(pools, list):
        raise RecordError(f"entity.status.capvcd.nodePool: not a list ({type(pools).__name__})")
    rows = []
    for i, pool in enumerate(pools):
        where = f"entity.status.capvcd.nodePool[{i}]"
        if not isinstance(pool, dict):
            raise RecordError(f"{where}: not an object")
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
                    "desired_replicas": _replicas(pool, "desiredReplicas"),
                    "available_replicas": _replicas(pool, "availableReplicas"),
                }
            )
        except RecordError as exc:
            raise RecordError(f"{where}.{exc}") from None
    return rows


def _first_vdc(rde: Record) -> tuple[str | None, str | None]:
    vdcs = dig(rde, "entity.status.capvcd.vcdProperties.orgVdcs")
    first = vdcs[0] if isinstance(vdcs, list) and vdcs and isinstance(vdcs[0], dict) else {}
    raw_id, name = opt_str(first, "id"), opt_str(first, "name")
    urn = vdc_urn(raw_id)
    if name is None and raw_id is not None and urn is None:
        name = raw_id  # the id slot holds the VDC name
    return urn, name or opt_str(rde, "entity.metadata.virtualDataCenterName")


def cluster_rows(rde: Record, sizes: dict[str, Record]) -> tuple[Row, list[Row]]:
    """One ``cse_cluster`` row and its ``cse_node_pool`` rows."""
    cluster_id = req_str(rde, "id")
    name = opt_str(rde, "name") or req_str(rde, "entity.metadata.name")
    org_name = opt_str(rde, "org.name") or req_str(rde, "entity.metadata.orgName")
    keys = {"cluster_id": cluster_id, "cluster_name": name, "org_id": opt_str(rde, "org.id")}
    keys["org_name"] = org_name
    pools = [{**keys, **pool} for pool in _pools(rde, sizes)]
    vdc_id, vdc_name = _first_vdc(rde)
    cluster = {
        **keys,
        "vdc_id": vdc_id,
        "vdc_name": vdc_name,
        "owner_name": opt_str(rde, "owner.name"),
        "entity_state": req_str(rde, "state"),
        "phase": opt_str(rde, "entity.status.capvcd.phase"),
        "cse_state": opt_str(rde, "entity.status.vcdKe.state"),
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
    if not await registered_versions(ctx, "capvcdCluster"):
        raise SourceDataError(
            "CSE is not installed on this site: no vmware:capvcdCluster entity type is registered",
            site=ctx.site.name,
        )
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
