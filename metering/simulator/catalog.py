"""Tenants' catalog items, media (ISO images) and vApp templates, and what VCD's query
service shows of them.

Each org's catalog at each site it is present at holds one to three media items. Sizes are
whole 2 MiB chunks (:data:`CHUNK_BYTES`), so GB-hours are exact in DECIMAL(38, 9). Most items
exist all month; some are uploaded during it and some deleted. Everything here is a function
of the (org, site) presence index, not of the world's random stream, so every other draw
stays as it was.

A vApp template holds one or two VMs, each with its own disk and storage policy (2 MiB
multiples too). The ``adminVAppTemplate`` records name the template's org; its VMs are listed
by the ``vm`` query of that org (``isVAppTemplate`` true, ``container`` = the template) with
their ``totalStorageAllocatedMb`` and ``storageProfileName`` (docs/collectors.md).

Records follow VCD's JSON form of the query service (docs/collectors.md, "Catalog media"):
attributes ``QueryResultAdminMediaRecordType`` declares at the top level, typed; ``isIso``
(go-vcd ``MediaRecordType``, not in the admin record's schema) under ``otherAttributes``
as a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metering.simulator import names
from metering.simulator.state import alive
from metering.simulator.tables import BEFORE, CHUNK_BYTES, NEVER, Ints

if TYPE_CHECKING:
    from metering.simulator.views_vcd import View

Record = dict[str, Any]
# Media sizes in 2 MiB chunks: 352 MiB (a netinstall ISO), 4 GiB, 4.69 GiB (a DVD), 10 GiB,
# 1.25 GiB; the item's place picks one.
MEDIA_CHUNKS = (176, 2048, 2400, 5120, 640)
MEDIA_NAMES = ("ubuntu-22.04-server.iso", "win2022-eval.iso", "rhel-9.4-dvd.iso", "tools.iso")


@dataclass
class CatalogItems:
    """Catalog media of every (org, site) presence, with their lifetimes in hours."""

    site: Ints
    org: Ints
    ordinal: Ints
    created: Ints
    deleted: Ints
    chunks: Ints  # stored size in 2 MiB chunks
    spolicy: Ints  # index into the inventory's VM storage policies
    published: Ints  # 1 when the item's catalog is published


def catalog_media(presence: list[tuple[int, int]], hours: int, policies: int) -> CatalogItems:
    """One to three media items per presence; about 1 in 4 uploaded during the month, 1 in 5
    deleted during it (never in its first three days)."""
    counts = np.array([1 + p % 3 for p in range(len(presence))], dtype=np.int64)
    pres = np.repeat(np.arange(len(presence), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    j = np.arange(len(pres), dtype=np.int64) - np.repeat(starts, counts)
    mix = pres * 7 + j * 5
    days = max(hours // 24 - 3, 1)
    uploaded = (pres + j) % 4 == 1
    created = np.where(uploaded, 24 * (1 + mix % days) + pres % 24, BEFORE)
    start = np.maximum(created, 0) + 72
    removed = ((pres + j) % 5 == 2) & (start < hours - 1)
    span = np.maximum(hours - start, 1)
    deleted = np.where(removed, start + (pres * 11 + j * 13) % span, NEVER)
    return CatalogItems(
        site=np.array([presence[p][1] for p in pres.tolist()], dtype=np.int64),
        org=np.array([presence[p][0] for p in pres.tolist()], dtype=np.int64),
        ordinal=j,
        created=created.astype(np.int64),
        deleted=deleted.astype(np.int64),
        chunks=np.array(MEDIA_CHUNKS, dtype=np.int64)[mix % len(MEDIA_CHUNKS)],
        spolicy=((pres + j) % max(policies, 1)).astype(np.int64),
        published=((j == 0) & (pres % 4 == 0)).astype(np.int64),
    )


def media_name(ordinal: int) -> str:
    name = MEDIA_NAMES[ordinal % len(MEDIA_NAMES)]
    return name if ordinal < len(MEDIA_NAMES) else f"{ordinal}-{name}"


def media_records(view: View) -> list[Record]:
    """``adminMedia`` query records (``AdminMediaRecord``) of the items alive at the view's
    hour at its site, each under the org that owns it."""
    m, w = view.world.media, view.world
    here = np.flatnonzero((m.site == view.site) & alive(m.created, m.deleted, view.hour))
    policies = w.inventory.vm_storage_policies
    out: list[Record] = []
    for i in here.tolist():
        org = int(m.org[i])
        org_name, ordinal = w.org_names[org], int(m.ordinal[i])
        uuid = names.uid("media", view.site_name, org_name, ordinal)
        catalog = names.uid("catalog", view.site_name, org_name)
        out.append(
            {
                "_type": "QueryResultAdminMediaRecordType",
                "link": [],
                "metadata": None,
                "otherAttributes": {"isIso": "true"},
                "href": f"{view.base}/api/media/{uuid}",
                "id": None,
                "type": None,
                "name": media_name(ordinal),
                "org": f"{view.base}/api/org/{view.org_id(org)}",
                "ownerName": "admin",
                "owner": f"{view.base}/api/admin/user/{view.owner(org)['id'].rsplit(':', 1)[-1]}",
                "isPublished": bool(m.published[i]),
                "storageB": int(m.chunks[i]) * CHUNK_BYTES,
                "vdc": f"{view.base}/api/vdc/{view.vdc_id(org)}",
                "vdcName": view.vdc_name(org),
                "isVdcEnabled": True,
                "catalog": f"{view.base}/api/catalog/{catalog}",
                "catalogName": f"{org_name}-catalog",
                "catalogItem": f"{view.base}/api/catalogItem/{names.uid('item', uuid)}",
                "creationDate": view.at(int(m.created[i])),
                "isBusy": False,
                "status": "RESOLVED",
                "storageProfileName": policies[int(m.spolicy[i])],
            }
        )
    return out


TEMPLATE_NAMES = ("ubuntu-22.04-base", "win2022-std", "rhel9-web", "k8s-node")
TEMPLATE_VM_MB = (20480, 40960, 61440, 102400)


@dataclass
class Templates:
    """vApp templates of every (org, site) presence, and their VMs (flat, ``vm_template``
    naming the template of each)."""

    site: Ints
    org: Ints
    ordinal: Ints
    created: Ints
    deleted: Ints
    published: Ints
    vm_template: Ints  # per template VM: its template's index
    vm_slot: Ints  # per template VM: 0 or 1 within its template
    vm_disk_mb: Ints
    vm_spolicy: Ints


def vapp_templates(presence: list[tuple[int, int]], hours: int, policies: int) -> Templates:
    """None to two templates per presence, one or two VMs each; about 1 in 3 created during
    the month and some deleted during it (never in its first three days)."""
    counts = np.array([p % 3 for p in range(len(presence))], dtype=np.int64)
    pres = np.repeat(np.arange(len(presence), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    j = np.arange(len(pres), dtype=np.int64) - np.repeat(starts, counts)
    mix = pres * 5 + j * 11
    days = max(hours // 24 - 4, 1)
    created = np.where((pres + j) % 3 == 2, 24 * (2 + mix % days) + 5, BEFORE)
    start = np.maximum(created, 0) + 72
    removed = ((pres * 3 + j) % 7 == 4) & (start < hours - 1)
    span = np.maximum(hours - start, 1)
    deleted = np.where(removed, start + (pres * 5 + j * 17) % span, NEVER)
    per = 1 + (pres + j) % 2
    vm_template = np.repeat(np.arange(len(pres), dtype=np.int64), per)
    vm_slot = np.arange(len(vm_template), dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    t_pres, t_j = pres[vm_template], j[vm_template]
    sizes = np.array(TEMPLATE_VM_MB, dtype=np.int64)
    return Templates(
        site=np.array([presence[p][1] for p in pres.tolist()], dtype=np.int64),
        org=np.array([presence[p][0] for p in pres.tolist()], dtype=np.int64),
        ordinal=j,
        created=created.astype(np.int64),
        deleted=deleted.astype(np.int64),
        published=((j == 0) & (pres % 5 == 1)).astype(np.int64),
        vm_template=vm_template,
        vm_slot=vm_slot,
        vm_disk_mb=sizes[(t_pres * 3 + t_j + vm_slot) % len(sizes)],
        vm_spolicy=((t_pres + t_j + vm_slot) % max(policies, 1)).astype(np.int64),
    )


def _template_names(view: View, t: int) -> tuple[str, str]:
    """(uuid, name) of template ``t``."""
    m = view.world.templates
    org_name, ordinal = view.world.org_names[int(m.org[t])], int(m.ordinal[t])
    name = TEMPLATE_NAMES[ordinal % len(TEMPLATE_NAMES)]
    return names.uid("vapptemplate", view.site_name, org_name, ordinal), name


def _alive_templates(view: View) -> list[int]:
    m = view.world.templates
    here = (m.site == view.site) & alive(m.created, m.deleted, view.hour)
    return [int(t) for t in np.flatnonzero(here).tolist()]


def template_records(view: View) -> list[Record]:
    """``adminVAppTemplate`` query records (``AdminVAppTemplateRecord``) of the templates
    alive at the view's hour at its site, each under the org that owns it."""
    m, w = view.world.templates, view.world
    out: list[Record] = []
    for t in _alive_templates(view):
        org = int(m.org[t])
        uuid, name = _template_names(view, t)
        catalog = names.uid("catalog", view.site_name, w.org_names[org])
        out.append(
            {
                "_type": "QueryResultAdminVAppTemplateRecordType",
                "link": [],
                "metadata": None,
                "otherAttributes": {},
                "href": f"{view.base}/api/vAppTemplate/vappTemplate-{uuid}",
                "id": None,
                "type": None,
                "org": f"{view.base}/api/org/{view.org_id(org)}",
                "ownerName": "admin",
                "isPublished": bool(m.published[t]),
                "name": name,
                "vdc": f"{view.base}/api/vdc/{view.vdc_id(org)}",
                "vdcName": view.vdc_name(org),
                "isVdcEnabled": True,
                "catalog": f"{view.base}/api/catalog/{catalog}",
                "catalogName": f"{w.org_names[org]}-catalog",
                "catalogItem": f"{view.base}/api/catalogItem/{names.uid('item', uuid)}",
                "creationDate": view.at(int(m.created[t])),
                "isBusy": False,
                "isGoldMaster": False,
                "isEnabled": True,
                "isExpired": False,
                "isDeployed": False,
                "status": "RESOLVED",
                "storageProfileName": w.inventory.vm_storage_policies[
                    int(m.vm_spolicy[np.flatnonzero(m.vm_template == t)[0]])
                ],
            }
        )
    return out


def template_vm_records(view: View) -> dict[str, list[Record]]:
    """The VMs of the templates alive at the view's hour, as ``vm`` query records
    (``isVAppTemplate`` true), per org UUID: what the owning org's tenant context lists."""
    m, w = view.world.templates, view.world
    policies = w.inventory.vm_storage_policies
    out: dict[str, list[Record]] = {}
    for t in _alive_templates(view):
        org = int(m.org[t])
        uuid, name = _template_names(view, t)
        for v in np.flatnonzero(m.vm_template == t).tolist():
            slot = int(m.vm_slot[v])
            vm_uuid = names.uid("template-vm", uuid, slot)
            out.setdefault(view.org_id(org), []).append(
                {
                    "_type": "QueryResultVMRecordType",
                    "link": [],
                    "metadata": None,
                    "href": f"{view.base}/api/vApp/vm-{vm_uuid}",
                    "id": None,
                    "type": None,
                    "name": f"{name}-vm{slot}",
                    "containerName": name,
                    "container": f"{view.base}/api/vAppTemplate/vappTemplate-{uuid}",
                    "vdc": f"{view.base}/api/vdc/{view.vdc_id(org)}",
                    "vdcName": view.vdc_name(org),
                    "status": "POWERED_OFF",
                    "numberOfCpus": 2,
                    "memoryMB": 4096,
                    "storageProfileName": policies[int(m.vm_spolicy[v])],
                    "vmSizingPolicyId": None,
                    "vmPlacementPolicyId": None,
                    "isVAppTemplate": True,
                    "isDeleted": False,
                    "isDeployed": False,
                    "guestOs": "Ubuntu Linux (64-bit)",
                    "hardwareVersion": 19,
                    "catalogName": f"{w.org_names[org]}-catalog",
                    "dateCreated": view.at(int(m.created[t])),
                    "ownerName": "admin",
                    "isBusy": False,
                    "snapshot": False,
                    "snapshotCreated": None,
                    "totalStorageAllocatedMb": int(m.vm_disk_mb[v]),
                    "otherAttributes": {},
                }
            )
    return out
