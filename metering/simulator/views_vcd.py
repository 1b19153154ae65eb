"""What one site's VCD shows at one hour: orgs, VDCs, vApps, VMs and sizing policies.

Records use the JSON field names of the reference ([V] shapes of the legacy query records
and of the OpenAPI objects); hrefs point back at the serving simulator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from metering.simulator import names
from metering.simulator.catalog import template_vm_records
from metering.simulator.index import cluster_urn, site_index
from metering.simulator.state import alive, snapshots_at
from metering.simulator.tables import ALLOCATION_MODELS, GUEST_OS, NEVER
from metering.simulator.world import World, presence_index

Record = dict[str, Any]
VM_ROLES = ("web", "app", "db", "cache", "batch", "api")
OS_TYPES = {name: os_type for name, os_type, _ in GUEST_OS}


@dataclass(frozen=True)
class View:
    """One site at one hour, seen through one base URL (``…/<site>/vcd``)."""

    world: World
    start: datetime
    site: int
    hour: int
    base: str

    @functools.cached_property
    def site_name(self) -> str:  # read ~10 times per VM record of a snapshot
        return self.world.inventory.sites[self.site]

    def at(self, hour: int) -> str:
        """An hour index as an ISO timestamp; resources from before get a fixed past date."""
        when = self.start + timedelta(hours=max(hour, -24 * 60))
        return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def org_id(self, org: int) -> str:
        return names.uid("org", self.site_name, self.world.org_names[org])

    def org_ref(self, org: int) -> Record:
        return {"name": self.world.org_names[org], "id": f"urn:vcloud:org:{self.org_id(org)}"}

    def vdc_id(self, org: int) -> str:
        return names.uid("vdc", self.site_name, self.world.org_names[org])

    def vdc_name(self, org: int) -> str:
        return f"{self.world.org_names[org]}-vdc"

    def vdc_ref(self, org: int) -> Record:
        return {"name": self.vdc_name(org), "id": f"urn:vcloud:vdc:{self.vdc_id(org)}"}

    def cluster_name(self, c: int) -> str:
        return names.cluster_name(int(self.world.clusters.ordinal[c]))

    def cluster_id(self, c: int) -> str:
        return cluster_urn(self.world.seed, c)

    def app_name(self, a: int) -> str:
        template = self.world.inventory.apps[int(self.world.apps.template[a])]
        return f"{template.app_id.removeprefix('bitnami-')}-{int(self.world.apps.ordinal[a])}"

    def sizing_id(self, index: int) -> str:
        name = self.world.inventory.sizing_policies[index].name
        return f"urn:vcloud:vdcComputePolicy:{names.uid('sizing', self.site_name, name)}"

    def owner(self, org: int) -> Record:
        user = names.uid("user", self.site_name, self.world.org_names[org])
        return {"name": "admin", "id": f"urn:vcloud:user:{user}"}


def orgs_present(view: View) -> tuple[int, ...]:
    return site_index(view.world, view.site).orgs


def org_records(view: View) -> list[Record]:
    """``/cloudapi/1.0.0/orgs`` values (go-vcd ``OpenApiOrg``)."""
    vms, n = view.world.vms, len(view.world.org_names)
    here = (vms.site == view.site) & alive(vms.created, vms.deleted, view.hour)
    on = here & ~((vms.off_a <= view.hour) & (view.hour < vms.off_b))
    plain = here & (vms.kind == 0)
    vapps = np.unique(np.stack([vms.org[plain], vms.ref[plain]]), axis=1)[0]
    vapp_count = np.bincount(vapps, minlength=n)
    running = np.bincount(vms.org[on], minlength=n)
    out = []
    for org in orgs_present(view):
        out.append(
            {
                **view.org_ref(org),
                "displayName": view.world.org_names[org],
                "description": "",
                "isEnabled": True,
                "orgVdcCount": 1,
                "catalogCount": 1,
                "vappCount": int(vapp_count[org]),
                "runningVMCount": int(running[org]),
                "userCount": 2,
                "diskCount": 0,
                "canPublish": False,
            }
        )
    return out


def sizing_records(view: View) -> list[Record]:
    """``/cloudapi/2.0.0/vdcComputePolicies`` values (go-vcd ``VdcComputePolicy``)."""
    return [
        {
            "id": view.sizing_id(i),
            "name": p.name,
            "description": f"{p.cpu_count} vCPU, {p.memory_mb // 1024} GiB",
            "cpuCount": p.cpu_count,
            "coresPerSocket": p.cores_per_socket,
            "memory": p.memory_mb,
            "cpuSpeed": 2000,
            "cpuLimit": 0,
            "memoryLimit": 0,
            "cpuReservationGuarantee": 0.0,
            "memoryReservationGuarantee": 0.0,
            "isSizingOnly": True,
            "pvdcComputePolicy": None,
            "compatibleVdcTypes": ["VDC"],
            "isVgpuPolicy": False,
            "pvdcVgpuClustersMap": None,
        }
        for i, p in enumerate(view.world.inventory.sizing_policies)
    ]


def _vm_state(view: View) -> dict[str, np.ndarray]:
    vms, h = view.world.vms, view.hour
    idx = np.flatnonzero((vms.site == view.site) & alive(vms.created, vms.deleted, h))
    resized = vms.resize_h[idx] <= h
    off = (vms.off_a[idx] <= h) & (h < vms.off_b[idx])
    return {
        "idx": idx,
        "vcpu": np.where(resized, vms.vcpu1[idx], vms.vcpu0[idx]),
        "mem": np.where(resized, vms.mem1[idx], vms.mem0[idx]),
        "on": ~off,
    }


def vapp_of(view: View, i: int) -> tuple[str, str]:
    """(vApp name, vApp uuid) of VM ``i``: its own vApp, its cluster's, or its app's."""
    vms, w = view.world.vms, view.world
    kind, ref = int(vms.kind[i]), int(vms.ref[i])
    if kind == 1:
        return view.cluster_name(ref), names.uid("vapp-cluster", w.seed, ref)
    if kind == 2:
        return view.app_name(ref), names.uid("vapp-app", w.seed, ref)
    org = w.org_names[int(vms.org[i])]
    return f"vapp-{ref:02d}", names.uid("vapp", w.seed, view.site_name, org, ref)


def vm_name(view: View, i: int) -> str:
    vms = view.world.vms
    kind, ordinal = int(vms.kind[i]), int(vms.ordinal[i])
    if kind == 1:
        pool = "control-plane" if vms.pool[i] == 0 else "worker"
        return f"{view.cluster_name(int(vms.ref[i]))}-{pool}-{ordinal}"
    if kind == 2:
        return f"{view.app_name(int(vms.ref[i]))}-vm"
    return f"{VM_ROLES[ordinal % len(VM_ROLES)]}-{ordinal:02d}"


def vm_records(view: View, query: str = "adminVM") -> list[Record]:
    """``adminVM`` (``AdminVMRecord``) or ``vm`` (``VMRecord``) query records, JSON form.

    Attributes the record type declares are top-level and typed; a few it does not declare
    ride under ``otherAttributes`` as strings, as VCD serialises them; ``id`` and ``type``
    are null, ``link`` empty and ``metadata`` null. ``totalStorageAllocatedMb`` is declared
    on ``VMRecord`` only, so the ``adminVM`` records do not carry it; ``vm`` records also say
    whether the VM has a snapshot (``snapshot``, ``snapshotCreated``). A ``vm`` record has no
    ``org``: the query runs in one org's tenant context (:func:`vm_records_by_org`).

    A full-size site has ~54,000 VMs and the server answers nothing while it builds them, so
    per-org and per-hour values are computed once and the columns read as Python lists.
    """
    w, vms, state = view.world, view.world.vms, _vm_state(view)
    idx = state["idx"].tolist()
    at = state["idx"]
    org_of, sizing_of = vms.org[at].tolist(), vms.sizing[at].tolist()
    guest_of = vms.guest_os[at].tolist()
    disk, spolicy, created = (
        vms.disk_mb[at].tolist(),
        vms.spolicy[at].tolist(),
        vms.created[at].tolist(),
    )
    vcpu, mem, on_of = state["vcpu"].tolist(), state["mem"].tolist(), state["on"].tolist()
    base, site = view.base, view.site_name
    policies = w.inventory.vm_storage_policies
    orgs = {
        o: (
            f"{base}/api/vdc/{view.vdc_id(o)}",
            view.vdc_name(o),
            f"{base}/api/org/{view.org_id(o)}",
        )
        for o in set(org_of)
    }
    sizing_ids = {s: view.sizing_id(s) if s >= 0 else None for s in set(sizing_of)}
    created_at = {c: view.at(c) for c in set(created)}
    snaps, snap = snapshots_at(w.snapshots, view.hour), w.snapshots
    admin = query == "adminVM"
    record_type = "QueryResultAdminVMRecordType" if admin else "QueryResultVMRecordType"
    out = []
    for k, i in enumerate(idx):
        uuid = names.uid("vm", w.seed, i)
        vapp, vapp_uuid = vapp_of(view, i)
        vdc_href, vdc_name, org_href = orgs[org_of[k]]
        on = on_of[k]
        record: Record = {
            "_type": record_type,
            "link": [],
            "metadata": None,
            "href": f"{base}/api/vApp/vm-{uuid}",
            "id": None,
            "type": None,
            "name": vm_name(view, i),
            "containerName": vapp,
            "container": f"{base}/api/vApp/vapp-{vapp_uuid}",
            "vdc": vdc_href,
            "vdcName": vdc_name,
            "status": "POWERED_ON" if on else "POWERED_OFF",
            "numberOfCpus": vcpu[k],
            "memoryMB": mem[k],
            "storageProfileName": policies[spolicy[k]],
            "vmSizingPolicyId": sizing_ids[sizing_of[k]],
            "vmPlacementPolicyId": None,
            "isVAppTemplate": False,
            "isDeleted": False,
            "isDeployed": on,
            "guestOs": GUEST_OS[guest_of[k]][0],
            "hardwareVersion": 19,
            "ipAddress": f"10.{view.site}.{(i // 250) % 250}.{i % 250 + 2}",
            "dateCreated": created_at[created[k]],
        }
        if admin:
            record.update(
                org=org_href,
                datastoreName=f"{site}-ds-{i % 4}",
                hostName=f"esx-{site}-{i % 8:02d}.local",
                moref=f"vm-{1000 + i}",
                vc=f"{site}-vcenter",
                otherAttributes={"ownerName": "admin", "isBusy": "false"},
            )
        else:
            s = snaps.get(i)
            record.update(
                ownerName="admin",
                isBusy=False,
                snapshot=s is not None,
                snapshotCreated=None if s is None else view.at(int(snap.taken[s])),
                totalStorageAllocatedMb=disk[k],
                otherAttributes={"datastoreName": f"{site}-ds-{i % 4}"},
            )
        out.append(record)
    return out


def vm_records_by_org(view: View) -> dict[str, list[Record]]:
    """``vm`` query records per org UUID: what each org's tenant context lists."""
    by_org: dict[str, list[Record]] = {view.org_id(o): [] for o in orgs_present(view)}
    org_of = view.world.vms.org[_vm_state(view)["idx"]].tolist()
    ids = {o: view.org_id(o) for o in set(org_of)}
    for record, o in zip(vm_records(view, "vm"), org_of, strict=True):
        by_org.setdefault(ids[o], []).append(record)
    for org_id, records in template_vm_records(view).items():
        by_org.setdefault(org_id, []).extend(records)  # the VMs inside vApp templates
    return by_org


def vm_detail(vm: Record) -> Record:
    """The VM document (legacy JSON) of a ``vm`` query record: its spec section and disk."""
    cpus = int(vm["numberOfCpus"])
    uuid = str(vm["href"]).rsplit("/vm-", 1)[-1]
    return {
        "href": vm["href"],
        "id": f"urn:vcloud:vm:{uuid}",
        "name": vm["name"],
        "type": "application/vnd.vmware.vcloud.vm+json",
        "status": 4 if vm["status"] == "POWERED_ON" else 8,
        "vmSpecSection": {
            "modified": False,
            "osType": OS_TYPES.get(str(vm["guestOs"]), "otherGuest64"),
            "numCpus": cpus,
            "numCoresPerSocket": 2 if cpus % 2 == 0 and cpus > 2 else 1,
            "memoryResourceMb": {"configured": int(vm["memoryMB"])},
            "diskSection": {
                "diskSettings": [
                    {
                        "diskId": "2000",
                        "sizeMb": int(vm["totalStorageAllocatedMb"]),
                        "storageProfile": {"name": vm["storageProfileName"]},
                    }
                ]
            },
        },
    }


def vdc_records(view: View) -> list[Record]:
    """``adminOrgVdc`` query records (``AdminVdcRecord``), JSON form.

    VCD's API reference declares the allocation and usage attributes on
    ``QueryResultAdminVdcRecordType`` but not ``numberOfVMs``, ``numberOfRunningVMs`` or
    ``allocationModel`` (go-vcd reads them into ``QueryResultOrgVdcRecordType``), so those
    ride under ``otherAttributes`` as strings; ``id``/``type`` are null.
    """
    vms, state = view.world.vms, _vm_state(view)
    orgs, on = vms.org[state["idx"]], state["on"]

    def per_org(weights: np.ndarray | None = None, mask: np.ndarray | None = None) -> list[int]:
        keep = slice(None) if mask is None else mask
        w = None if weights is None else weights[keep]
        sums = np.bincount(orgs[keep], weights=w, minlength=len(view.world.org_names))
        return [int(x) for x in sums.tolist()]  # exact: every sum is far below 2**53

    vcpu_on, mem_on = per_org(state["vcpu"], on), per_org(state["mem"], on)
    disk, count, running = per_org(vms.disk_mb[state["idx"]]), per_org(), per_org(None, on)
    vdcs, where = view.world.vdcs, presence_index(view.world)
    out: list[Record] = []
    for org in orgs_present(view):
        p = where[(org, view.site)]
        model = ALLOCATION_MODELS[int(vdcs.model[p])]
        cpu, memory = int(vdcs.cpu_mhz[p]), int(vdcs.memory_mb[p])
        out.append(
            {
                "_type": "QueryResultAdminVdcRecordType",
                "link": [],
                "metadata": None,
                "href": f"{view.base}/api/vdc/{view.vdc_id(org)}",
                "id": None,
                "type": None,
                "name": view.vdc_name(org),
                "org": f"{view.base}/api/org/{view.org_id(org)}",
                "orgName": view.world.org_names[org],
                "isEnabled": True,
                "cpuAllocationMhz": cpu,
                "cpuLimitMhz": cpu if model == "ReservationPool" else 0,
                "cpuUsedMhz": vcpu_on[org] * 2000,
                "memoryAllocationMB": memory,
                "memoryLimitMB": memory if model == "ReservationPool" else 0,
                "memoryUsedMB": mem_on[org],
                "storageLimitMB": 0,
                "storageUsedMB": disk[org],
                "providerVdcName": f"{view.site_name}-pvdc",
                "otherAttributes": {
                    "numberOfVMs": str(count[org]),
                    "numberOfRunningVMs": str(running[org]),
                    "allocationModel": model,
                },
            }
        )
    return out


def vapp_records(view: View) -> list[Record]:
    """``adminVApp`` query records; VM-app vApps carry the ALP attributes."""
    w, vms, state = view.world, view.world.vms, _vm_state(view)
    groups: dict[str, tuple[int, list[int]]] = {}
    for k, i in enumerate(state["idx"].tolist()):
        name, uuid = vapp_of(view, i)
        groups.setdefault(uuid, (i, []))[1].append(k)
    out = []
    for uuid, (first, members) in groups.items():
        org = int(vms.org[first])
        name, _ = vapp_of(view, first)
        running = [k for k in members if state["on"][k]]
        record: Record = {
            "_type": "QueryResultAdminVAppRecordType",
            "href": f"{view.base}/api/vApp/vapp-{uuid}",
            "id": f"urn:vcloud:vapp:{uuid}",
            "name": name,
            "vdc": f"{view.base}/api/vdc/{view.vdc_id(org)}",
            "vdcName": view.vdc_name(org),
            "org": f"{view.base}/api/org/{view.org_id(org)}",
            "ownerName": "admin",
            "status": "POWERED_ON" if running else "POWERED_OFF",
            "isDeployed": bool(running),
            "isExpired": False,
            "numberOfVMs": len(members),
            "numberOfCpus": int(state["vcpu"][members].sum()),
            "memoryAllocationMB": int(state["mem"][members].sum()),
            "totalStorageAllocatedMb": int(vms.disk_mb[state["idx"][members]].sum()),
            "creationDate": view.at(int(vms.created[first])),
        }
        if vms.kind[first] == 2:
            template = w.inventory.apps[int(w.apps.template[int(vms.ref[first])])]
            record.update(
                appId=template.app_id,
                appTemplateId=f"urn:vcloud:appTemplate:{names.uid('tpl', template.app_id)}",
                appTemplateName=template.app_id,
                version=template.version,
            )
        out.append(record)
    return out


def lifetime_end(value: int) -> int | None:
    return None if value >= NEVER else value
