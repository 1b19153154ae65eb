"""The columns of the simulated world: one dataclass of numpy arrays per resource kind.

Every resource has a lifetime ``[created, deleted)`` in whole hours from the month start
(:data:`BEFORE` = it existed before, :data:`NEVER` = it outlives the month) and at most a
few change points. Units: memory and disks in MB, object storage in chunks of 2 MiB
(:data:`CHUNK_BYTES`), CPU of data solutions as Kubernetes quantity strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BEFORE = -(2**30)
NEVER = 2**30
CHUNK_BYTES = 2**21
Ints = npt.NDArray[np.int64]

# Service CPU limits per kind, used in turn by a kind's instances (all quantity forms appear).
SERVICE_CPU = {
    "rabbitmq": ("1500m", "2", "1"),
    "postgres": ("2", "500m", "4"),
    "mysql": ("0.5", "2", "1"),
}
SIDECAR_CPU = ("100m", "250m")
OPERATOR_CPU = ("500m", "200m")
K8S_VERSIONS = ("v1.26.8+vmware.1", "v1.27.5+vmware.1")
USERS = ("admin", "app", "velero")
APP_TYPES = ("VmApp", "ContainerApp")
# Guest OS of a VM: (VCD `guestOs`, the vSphere guest full name; vSphere `osType` id; the
# licence family metering bills it under, "" for none). Plain VMs use them in turn
# (:func:`metering.simulator.world.guest_os_codes`); TKG nodes run Photon OS, VM apps Ubuntu.
GUEST_OS = (
    ("Ubuntu Linux (64-bit)", "ubuntu64Guest", ""),
    ("Microsoft Windows Server 2019 (64-bit)", "windows2019srv_64Guest", "windows-server"),
    ("Microsoft Windows Server 2022 (64-bit)", "windows2019srvNext_64Guest", "windows-server"),
    ("Red Hat Enterprise Linux 9 (64-bit)", "rhel9_64Guest", "rhel"),
    ("SUSE Linux Enterprise 15 (64-bit)", "sles15_64Guest", "sles"),
    ("VMware Photon OS (64-bit)", "vmwarePhoton64Guest", ""),
    ("Debian GNU/Linux 12 (64-bit)", "debian12_64Guest", ""),
)
GUEST_OS_PHOTON = 5
# VCD's Org VDC allocation models (go-vcd `types.VdcAllocationModel*`; tf-vcd `vcd_org_vdc`).
ALLOCATION_MODELS = ("AllocationVApp", "AllocationPool", "ReservationPool", "Flex")


@dataclass
class OrgVdcs:
    """One Org VDC per org and site (per ``World.presence``), for the whole month: its
    allocation model (index into ALLOCATION_MODELS) and its CPU (MHz) and memory (MB)
    allocation (0 for Pay-As-You-Go, and for an elastic Flex VDC without one)."""

    model: Ints
    cpu_mhz: Ints
    memory_mb: Ints

    def billing_model(self) -> list[str]:
        """Per VDC, the allocation model its compute is billed under, '' for on usage only
        (docs/metering-rules.md, "Org VDC charge basis"): Allocation Pool and Reservation
        Pool always, Flex when it has an allocation; Pay-As-You-Go never."""
        out = []
        for model, cpu, memory in zip(
            self.model.tolist(), self.cpu_mhz.tolist(), self.memory_mb.tolist(), strict=True
        ):
            name = ALLOCATION_MODELS[model]
            pooled = name in ("AllocationPool", "ReservationPool")
            out.append(name if pooled or (name == "Flex" and (cpu or memory)) else "")
        return out


@dataclass
class EdgeGateways:
    """Edge gateways of the orgs' VDCs, with the external-network IPs allocated to them:
    ``ips0`` on the site's internet uplink for the whole life; from hour ``change_h`` on, a
    second uplink adds ``extra`` more (a tenant asking for addresses mid-month). ``used`` of
    the first uplink's IPs are in use (served, never billed: allocation is)."""

    site: Ints
    org: Ints
    ordinal: Ints
    created: Ints
    deleted: Ints
    ips0: Ints
    extra: Ints
    change_h: Ints
    used: Ints

    def ips_at(self, hour: int) -> Ints:
        """Allocated IPs of every gateway during ``hour`` (whether it exists or not)."""
        out: Ints = self.ips0 + np.where(self.change_h <= hour, self.extra, 0)
        return out


def millicores(quantity: str) -> int:
    """A Kubernetes CPU quantity ("2", "1500m", "0.5") in millicores."""
    if quantity.endswith("m"):
        return int(quantity[:-1])
    whole, _, frac = quantity.partition(".")
    return int(whole or "0") * 1000 + int((frac + "000")[:3])


@dataclass
class VMs:
    """Plain VMs, TKG node VMs (kind 1, ref = cluster) and VM-app VMs (kind 2, ref = app)."""

    site: Ints
    org: Ints
    kind: Ints
    ref: Ints  # vApp number (plain), cluster index (node), app index (app)
    ordinal: Ints
    pool: Ints  # node VMs: 0 control plane, 1 workers
    created: Ints
    deleted: Ints
    vcpu0: Ints
    mem0: Ints
    vcpu1: Ints
    mem1: Ints
    resize_h: Ints
    off_a: Ints
    off_b: Ints
    disk_mb: Ints
    spolicy: Ints
    sizing: Ints  # sizing policy index or -1
    guest_os: Ints  # index into GUEST_OS


@dataclass
class Disks:
    """Independent disks (VCD ``adminDisk``): one Org VDC's, a fixed size and storage policy
    for their lifetime; ``attached`` 1 when attached to a VM (reported, never billed by)."""

    site: Ints
    org: Ints
    ordinal: Ints
    created: Ints
    deleted: Ints
    size_mb: Ints  # a whole number of GiB, in MB
    spolicy: Ints  # index into Inventory.vm_storage_policies
    attached: Ints


@dataclass
class Snapshots:
    """VM snapshots: one per listed VM (``vm``: index into ``World.vms``), taken at ``taken``
    and removed at ``removed`` (whole hours, like lifetimes); shown only while the VM exists.
    Its size is a whole number of 2 MiB chunks (:data:`CHUNK_BYTES`), so GB are exact."""

    vm: Ints
    taken: Ints
    removed: Ints
    chunks: Ints


@dataclass
class Clusters:
    site: Ints
    org: Ints
    ordinal: Ints
    created: Ints
    deleted: Ints
    cp: Ints
    w0: Ints
    w1: Ints
    scale_h: Ints
    cp_sizing: Ints
    w_sizing: Ints
    spolicy: Ints
    disk_mb: Ints
    k8s: Ints
    backup_bucket: Ints  # bucket index holding its Velero backups, or -1


@dataclass
class Apps:
    site: Ints
    org: Ints
    ordinal: Ints
    template: Ints
    cluster: Ints  # ContainerApp target cluster, or -1
    created: Ints
    deleted: Ints


@dataclass
class DataSolutions:
    site: Ints
    org: Ints
    ordinal: Ints
    kind: Ints  # index into DSE_KINDS
    cluster: Ints
    created: Ints
    deleted: Ints
    replicas0: Ints
    replicas1: Ints
    change_h: Ints
    service_q: Ints  # index into SERVICE_CPU[kind]
    sidecar_q: Ints
    operator_q: Ints


@dataclass
class Buckets:
    site: Ints  # the org's home site: the only Cloudian/OSE that reports the bucket
    org: Ints
    ordinal: Ints
    user: Ints
    policy: Ints
    created: Ints
    deleted: Ints
    chunks0: Ints
    growth: Ints  # chunks per hour
    objects0: Ints
    obj_growth: Ints
    req_get: Ints
    req_put: Ints
    req_delete: Ints
    velero_cluster: Ints  # the cluster whose backups it holds, or -1
