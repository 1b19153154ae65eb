"""VCD collector: VMs (TKG nodes linked to their cluster), org VDCs, independent disks,
catalog media, orgs, sizing policies.

VMs come from the ``vm`` query, once per organization in that org's tenant context
(``X-VMWARE-VCLOUD-TENANT-CONTEXT`` = the org's bare UUID, ``X-VMWARE-VCLOUD-AUTH-CONTEXT`` =
its name, as go-vcd sends them for a provider running a tenant query type): VCD's API
reference declares a VM's allocated storage (``totalStorageAllocatedMb``) on ``VMRecord``
but not on the provider's ``AdminVMRecord``. Org VDCs come from ``type=adminOrgVdc``,
independent disks from ``type=adminDisk`` (one provider-wide listing; each record's ``org``
href names its org), orgs from ``/cloudapi/1.0.0/orgs``, sizing policies from
``/cloudapi/2.0.0/vdcComputePolicies`` and edge gateways, with the external-network IPs
allocated to them, from ``/cloudapi/1.0.0/edgeGateways`` (docs/collectors.md). Catalog media
come from ``type=adminMedia`` (every media item of every org, each once, under the org that
owns it; ``storageB`` is its stored size in bytes).

Query records arrive in VCD's JSON form: attributes the record type declares at the top
level, typed; others under ``otherAttributes`` as strings; ``_type``, ``link``, ``metadata``,
and often ``id``/``type`` null. :func:`attributes` flattens the two, so every field is read
the same way wherever the site's version puts it. A VM is a TKG node when its vApp is a CSE
cluster's vApp (named after the cluster, in the cluster's org); the clusters come from the
same CSE listing the ``cse`` collector uses.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping

from metering.sources import paging
from metering.sources.base import Context, Part, enriching
from metering.sources.rde import entities, registered_versions
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
    """Every CSE cluster RDE of every capvcdCluster version the site has registered (none
    registered: no CSE, no clusters; the ``cse`` collector reports that itself)."""

    async def fetch() -> list[Record]:
        versions = await registered_versions(ctx, "capvcdCluster")
        return await entities(ctx, "capvcdCluster", versions)

    result: list[Record] = await ctx.shared("cse.clusters", fetch)
    return result


async def sizing_policies(ctx: Context) -> list[Record]:
    async def fetch() -> list[Record]:
        path = "/cloudapi/2.0.0/vdcComputePolicies"
        return (await paging.openapi(ctx.client, path)).records

    result: list[Record] = await ctx.shared("vcd.sizing", fetch)
    return result


def attributes(record: Record) -> Record:
    """A query record with its ``otherAttributes`` (string values) folded in; a declared,
    top-level attribute wins over an undeclared one of the same name."""
    other = record.get("otherAttributes")
    if not isinstance(other, Mapping) or not other:
        return record
    return {**other, **record}


TENANT_HEADER = "X-VMWARE-VCLOUD-TENANT-CONTEXT"


def tenant_context(org: Record) -> dict[str, str] | None:
    """The headers that scope a query to ``org`` (None for System or an org without id).

    go-vcd sends the bare UUID: VCD 10.2 answers 401 to the URN form.
    """
    org_id, name = opt_str(org, "id"), opt_str(org, "name")
    if not org_id or not name or name.lower() == "system":
        return None
    return {
        TENANT_HEADER: org_id.rsplit(":", 1)[-1],
        "X-VMWARE-VCLOUD-AUTH-CONTEXT": name,
    }


def names_of_orgs(org_records: list[Record]) -> dict[str, str]:
    """Org name by org URN, from the site's orgs listing."""
    names: dict[str, str] = {}
    for org in org_records:
        if isinstance(org, dict) and org.get("id") and org.get("name"):
            names[str(org["id"])] = str(org["name"])
    return names


def owning_org(attrs: Record, org_names: dict[str, str]) -> tuple[str, str]:
    """The URN and name of the org a provider-wide record's ``org`` href names: admin query
    records carry the href only, so the name comes from the orgs listing."""
    href = req_str(attrs, "org")
    org_id = urn_from_href(href, "org")
    org_name = org_names.get(org_id or "")
    if org_id is None or not org_name:
        raise RecordError(f"org: {href!r} is not an org of the orgs listing")
    return org_id, org_name


def _vm_row(record: Record, org: Record, nodes: dict[tuple[str, str], Record]) -> Row | None:
    """One ``VMRecord`` of the org ``org`` (the tenant context it was listed in)."""
    vm = attributes(record)
    if opt_bool(vm, "isVAppTemplate"):
        return None  # a VM of a catalog template, not a running workload
    org_id, org_name = str(org["id"]), str(org["name"])
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
        "storage_mb": req_int(vm, "totalStorageAllocatedMb"),  # VMRecord, MB, long
        "storage_policy": req_str(vm, "storageProfileName"),
        "sizing_policy_id": opt_str(vm, "vmSizingPolicyId"),
        "guest_os": opt_str(vm, "guestOs"),
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


async def org_vms(ctx: Context, org: Record) -> list[Record]:
    """Every ``VMRecord`` of one org, listed in its tenant context ([] for System); listed
    once per run, for the VMs and their snapshots (:mod:`metering.sources.vcd_snapshots`)."""
    headers = tenant_context(org)
    if headers is None:
        return []

    async def fetch() -> list[Record]:
        return (await paging.vcd_query(ctx.client, "vm", headers=headers)).records

    result: list[Record] = await ctx.shared(f"vcd.vms.{headers[TENANT_HEADER]}", fetch)
    return result


async def _vms(ctx: Context) -> list[Batch]:
    tenants = [o for o in await orgs(ctx) if isinstance(o, dict) and tenant_context(o)]
    batch = Batch("vcd_vm")
    nodes = cluster_index(await enriching(batch, "TKG node links", clusters(ctx)))
    listings = await asyncio.gather(*(org_vms(ctx, org) for org in tenants))
    for org, records in zip(tenants, listings, strict=True):
        batch.map(records, functools.partial(_vm_row, org=org, nodes=nodes), "href")
    return [batch]


def _vdc_row(record: Record, org_names: dict[str, str]) -> Row:
    vdc = attributes(record)
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
    names = names_of_orgs(await orgs(ctx))
    batch = Batch("vcd_org_vdc")
    batch.map(vdcs.records, lambda r: _vdc_row(r, names), "href")
    return [batch]


def _disk_row(record: Record, org_names: dict[str, str]) -> Row:
    """One ``AdminDiskRecord`` (an independent disk). Its org comes from the record's ``org``
    href, resolved through the orgs listing: the record declares no org name."""
    disk = attributes(record)
    org_id, org_name = owning_org(disk, org_names)
    return {
        "disk_id": opt_str(disk, "id") or urn_from_href(req_str(disk, "href"), "disk"),
        "disk_name": req_str(disk, "name"),
        "org_id": org_id,
        "org_name": org_name,
        "vdc_id": urn_from_href(opt_str(disk, "vdc"), "vdc"),
        "vdc_name": opt_str(disk, "vdcName"),
        "size_mb": req_int(disk, "sizeMb"),  # AdminDiskRecord, MB, long
        "storage_policy": req_str(disk, "storageProfileName"),
        "status": opt_str(disk, "status"),
        "is_attached": opt_bool(disk, "isAttached"),
        "attached_vm_count": opt_int(disk, "attachedVmCount"),
        "is_shareable": opt_bool(disk, "isShareable"),
    }


async def _disks(ctx: Context) -> list[Batch]:
    """Every independent disk of the site from one provider-wide ``adminDisk`` listing."""
    disks = await paging.vcd_query(ctx.client, "adminDisk")
    names = names_of_orgs(await orgs(ctx))
    batch = Batch("vcd_disk")
    batch.map(disks.records, lambda r: _disk_row(r, names), "href")
    return [batch]


def _media_row(record: Record, org_names: dict[str, str]) -> Row:
    """One ``AdminMediaRecord``: the item is the owning org's (``org``), wherever its catalog
    is published or shared (docs/metering-rules.md, "Catalog storage")."""
    media = attributes(record)
    org_id, org_name = owning_org(media, org_names)
    return {
        "media_id": opt_str(media, "id") or urn_from_href(req_str(media, "href"), "media"),
        "media_name": req_str(media, "name"),
        "org_id": org_id,
        "org_name": org_name,
        "catalog_id": urn_from_href(opt_str(media, "catalog"), "catalog"),
        "catalog_name": opt_str(media, "catalogName"),
        "vdc_id": urn_from_href(opt_str(media, "vdc"), "vdc"),
        "vdc_name": opt_str(media, "vdcName"),
        "size_bytes": req_int(media, "storageB"),  # AdminMediaRecord, bytes, long
        "storage_policy": req_str(media, "storageProfileName"),
        "status": opt_str(media, "status"),
        "is_published": opt_bool(media, "isPublished"),
    }


async def _media(ctx: Context) -> list[Batch]:
    media = await paging.vcd_query(ctx.client, "adminMedia")
    names = names_of_orgs(await orgs(ctx))
    batch = Batch("vcd_media")
    batch.map(media.records, lambda r: _media_row(r, names), "href")
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


def _allocated_ips(edge: Record) -> tuple[int, int, bool]:
    """(allocated, used, any uplink on IP Spaces) over every uplink's subnets.

    Allocated = Σ ``totalIpCount`` (go-vcd ``NsxtEdgeGateway.GetAllocatedIpCount`` sums the
    same). An uplink on IP Spaces (``usingIpSpace``) has its IPs in the IP Space API, not in
    its subnets: it counts 0 here (docs/metering-rules.md). Any other subnet without a
    ``totalIpCount`` is an error naming it, so the gateway is quarantined, never billed 0.
    """
    uplinks = edge.get("edgeGatewayUplinks")
    if not isinstance(uplinks, list):
        raise RecordError(f"edgeGatewayUplinks: missing or not a list ({uplinks!r})")
    allocated = used = 0
    ip_space = False
    for u, uplink in enumerate(uplinks):
        where = f"edgeGatewayUplinks[{u}]"
        if not isinstance(uplink, Mapping):
            raise RecordError(f"{where}: not an object ({uplink!r})")
        if opt_bool(uplink, "usingIpSpace"):
            ip_space = True
            continue
        subnets = dig(uplink, "subnets.values")
        if not isinstance(subnets, list):
            raise RecordError(f"{where}.subnets.values: missing or not a list ({subnets!r})")
        for n, subnet in enumerate(subnets):
            if not isinstance(subnet, Mapping):
                raise RecordError(f"{where}.subnets.values[{n}]: not an object ({subnet!r})")
            try:
                allocated += req_int(subnet, "totalIpCount")
                used += opt_int(subnet, "usedIpCount") or 0
            except RecordError as exc:
                raise RecordError(f"{where}.subnets.values[{n}].{exc}") from None
    return allocated, used, ip_space


def _edge_row(edge: Record) -> Row:
    """One ``OpenAPIEdgeGateway`` (go-vcd ``types/v56/nsxt_types.go``)."""
    allocated, used, ip_space = _allocated_ips(edge)
    uplinks = edge["edgeGatewayUplinks"]
    return {
        "edge_gateway_id": req_str(edge, "id"),
        "edge_gateway_name": req_str(edge, "name"),
        "org_id": opt_str(edge, "orgRef.id"),
        "org_name": req_str(edge, "orgRef.name"),
        "owner_id": opt_str(edge, "ownerRef.id") or opt_str(edge, "orgVdc.id"),
        "owner_name": opt_str(edge, "ownerRef.name") or opt_str(edge, "orgVdc.name"),
        "status": opt_str(edge, "status"),
        "gateway_type": opt_str(edge, "gatewayBacking.gatewayType"),
        "uplink_count": len(uplinks),
        "primary_uplink_name": opt_str(uplinks[0], "uplinkName") if uplinks else None,
        "allocated_ip_count": allocated,
        "used_ip_count": used,
        "using_ip_space": ip_space,
    }


async def _edges(ctx: Context) -> list[Batch]:
    edges = await paging.openapi(ctx.client, "/cloudapi/1.0.0/edgeGateways")
    batch = Batch("vcd_edge_gateway")
    batch.map(edges.records, _edge_row, "id")
    return [batch]


PARTS = (
    Part(("vcd_vm",), _vms),
    Part(("vcd_org_vdc",), _vdcs),
    Part(("vcd_disk",), _disks),
    Part(("vcd_media",), _media),
    Part(("vcd_org",), _orgs),
    Part(("vcd_sizing_policy",), _policies),
    Part(("vcd_edge_gateway",), _edges),
)
