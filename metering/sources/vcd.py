"""VCD collector: VMs (TKG nodes linked to their cluster), org VDCs, orgs, sizing policies.

Reads ``/api/query?type=adminVM`` and ``type=adminOrgVdc`` (legacy query, JSON records),
``/cloudapi/1.0.0/orgs`` and ``/cloudapi/2.0.0/vdcComputePolicies`` (OpenAPI). A VM record
carries its org only as an href, so org names come from the orgs listing. A VM is a TKG node
when its vApp is a CSE cluster's vApp (the vApp is named after the cluster, in the cluster's
org); the clusters come from the same CSE listing the ``cse`` collector uses.
"""

from __future__ import annotations

from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    opt_bool,
    opt_int,
    opt_str,
    req_int,
    req_str,
)

CAPVCD_VERSIONS = ("1.1.0", "1.2.0", "1.3.0")


def urn_from_href(href: str | None, kind: str) -> str | None:
    """``…/api/vApp/vm-<uuid>`` → ``urn:vcloud:vm:<uuid>`` (also org/<uuid>, vdc/<uuid>)."""
    if not href:
        return None
    tail = href.rstrip("/").rsplit("/", 1)[-1]
    if tail.startswith("urn:"):
        return tail
    return f"urn:vcloud:{kind}:{tail.removeprefix(kind + '-')}"


async def orgs(ctx: Context) -> list[Record]:
    async def fetch() -> list[Record]:
        return (await paging.openapi(ctx.client, "/cloudapi/1.0.0/orgs")).records

    result: list[Record] = await ctx.shared("vcd.orgs", fetch)
    return result


async def clusters(ctx: Context) -> list[Record]:
    """Every CSE cluster RDE of every capvcdCluster version the site has registered."""

    async def fetch() -> list[Record]:
        out: list[Record] = []
        for version in CAPVCD_VERSIONS:
            path = f"/cloudapi/1.0.0/entities/types/vmware/capvcdCluster/{version}"
            try:
                out.extend((await paging.openapi(ctx.client, path)).records)
            except paging.NotFound:
                continue  # that entity type version is not registered on this VCD
        return out

    result: list[Record] = await ctx.shared("cse.clusters", fetch)
    return result


async def sizing_policies(ctx: Context) -> list[Record]:
    async def fetch() -> list[Record]:
        path = "/cloudapi/2.0.0/vdcComputePolicies"
        return (await paging.openapi(ctx.client, path)).records

    result: list[Record] = await ctx.shared("vcd.sizing", fetch)
    return result


def _org_names(org_records: list[Record]) -> dict[str, str]:
    names: dict[str, str] = {}
    for org in org_records:
        if isinstance(org, dict) and org.get("id") and org.get("name"):
            names[str(org["id"])] = str(org["name"])
    return names


def _vm_row(vm: Record, org_names: dict[str, str], nodes: dict[tuple[str, str], Record]) -> Row:
    if vm.get("isVAppTemplate") in (True, "true"):
        return {}
    org_id = urn_from_href(opt_str(vm, "org"), "org")
    org_name = opt_str(vm, "orgName") or org_names.get(org_id or "")
    if not org_name:
        raise RecordError(f"org: cannot resolve the VM's organization ({vm.get('org')!r})")
    status = req_str(vm, "status")
    vapp_name = opt_str(vm, "containerName")
    cluster = nodes.get((org_name, vapp_name or ""))
    return {
        "vm_id": opt_str(vm, "id") or urn_from_href(req_str(vm, "href"), "vm"),
        "vm_name": req_str(vm, "name"),
        "org_id": org_id,
        "org_name": org_name,
        "vdc_id": urn_from_href(opt_str(vm, "vdc"), "vdc"),
        "vdc_name": opt_str(vm, "vdcName"),
        "vapp_id": urn_from_href(opt_str(vm, "container"), "vapp"),
        "vapp_name": vapp_name,
        "status": status,
        "powered_on": status == "POWERED_ON",
        "vcpu": req_int(vm, "numberOfCpus", minimum=1),
        "memory_mb": req_int(vm, "memoryMB", minimum=1),
        "storage_mb": req_int(vm, "totalStorageAllocatedMb"),
        "storage_policy": req_str(vm, "storageProfileName"),
        "sizing_policy_id": opt_str(vm, "vmSizingPolicyId"),
        "is_tkg_node": cluster is not None,
        "tkg_cluster_id": cluster.get("id") if cluster else None,
        "tkg_cluster_name": cluster.get("name") if cluster else None,
    }


def cluster_index(cluster_records: list[Record]) -> dict[tuple[str, str], Record]:
    """(org name, cluster name) → cluster RDE, to link node VMs (their vApp) to clusters."""
    index: dict[tuple[str, str], Record] = {}
    for rde in cluster_records:
        if not isinstance(rde, dict):
            continue
        org = (rde.get("org") or {}).get("name") if isinstance(rde.get("org"), dict) else None
        org = org or opt_str(rde, "entity.metadata.orgName")
        name = opt_str(rde, "name") or opt_str(rde, "entity.metadata.name")
        if org and name:
            index[(org, name)] = rde
    return index


async def _vms(ctx: Context) -> list[Batch]:
    vms = await paging.vcd_query(ctx.client, "adminVM")
    names = _org_names(await orgs(ctx))
    nodes = cluster_index(await clusters(ctx))
    batch = Batch("vcd_vm")
    batch.map(vms.records, lambda r: _vm_row(r, names, nodes) or None, "href")
    return [batch]


def _vdc_row(vdc: Record, org_names: dict[str, str]) -> Row:
    org_id = urn_from_href(opt_str(vdc, "org"), "org")
    org_name = opt_str(vdc, "orgName") or org_names.get(org_id or "")
    if not org_name:
        raise RecordError("orgName: missing and the org href does not resolve")
    ints = {
        "cpu_allocation_mhz": "cpuAllocationMhz",
        "cpu_limit_mhz": "cpuLimitMhz",
        "cpu_used_mhz": "cpuUsedMhz",
        "memory_allocation_mb": "memoryAllocationMB",
        "memory_limit_mb": "memoryLimitMB",
        "memory_used_mb": "memoryUsedMB",
        "storage_limit_mb": "storageLimitMB",
        "storage_used_mb": "storageUsedMB",
        "vm_count": "numberOfVMs",
        "running_vm_count": "numberOfRunningVMs",
    }
    row: Row = {column: opt_int(vdc, field) for column, field in ints.items()}
    row.update(
        vdc_id=opt_str(vdc, "id") or urn_from_href(req_str(vdc, "href"), "vdc"),
        vdc_name=req_str(vdc, "name"),
        org_id=org_id,
        org_name=org_name,
        allocation_model=opt_str(vdc, "allocationModel"),
        is_enabled=opt_bool(vdc, "isEnabled"),
        provider_vdc_name=opt_str(vdc, "providerVdcName"),
    )
    return row


async def _vdcs(ctx: Context) -> list[Batch]:
    vdcs = await paging.vcd_query(ctx.client, "adminOrgVdc")
    names = _org_names(await orgs(ctx))
    batch = Batch("vcd_org_vdc")
    batch.map(vdcs.records, lambda r: _vdc_row(r, names), "href")
    return [batch]


def _org_row(org: Record) -> Row:
    return {
        "org_id": req_str(org, "id"),
        "org_name": req_str(org, "name"),
        "display_name": opt_str(org, "displayName"),
        "is_enabled": opt_bool(org, "isEnabled"),
        "vdc_count": opt_int(org, "orgVdcCount"),
        "vapp_count": opt_int(org, "vappCount"),
        "running_vm_count": opt_int(org, "runningVMCount"),
        "user_count": opt_int(org, "userCount"),
    }


async def _orgs(ctx: Context) -> list[Batch]:
    batch = Batch("vcd_org")
    batch.map(await orgs(ctx), _org_row, "id")
    return [batch]


def _policy_row(policy: Record) -> Row:
    return {
        "policy_id": req_str(policy, "id"),
        "policy_name": req_str(policy, "name"),
        "description": opt_str(policy, "description"),
        "cpu_count": opt_int(policy, "cpuCount"),
        "cores_per_socket": opt_int(policy, "coresPerSocket"),
        "memory_mb": opt_int(policy, "memory"),
        "cpu_speed_mhz": opt_int(policy, "cpuSpeed"),
        "is_sizing_only": opt_bool(policy, "isSizingOnly"),
    }


async def _policies(ctx: Context) -> list[Batch]:
    batch = Batch("vcd_sizing_policy")
    batch.map(await sizing_policies(ctx), _policy_row, "id")
    return [batch]


PARTS = (
    Part(("vcd_vm",), _vms),
    Part(("vcd_org_vdc",), _vdcs),
    Part(("vcd_org",), _orgs),
    Part(("vcd_sizing_policy",), _policies),
)
