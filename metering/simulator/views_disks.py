"""What one site's VCD shows of its independent disks and VM snapshots at one hour:
``adminDisk`` records and a VM's ``SnapshotSection``.

The record shape is VCD's ``QueryResultAdminDiskRecordType`` in JSON form (VCD API reference,
``AdminDiskRecord``; go-vcloud-director ``types/v56`` ``DiskRecordType``, the type of both
``DiskRecord`` and ``AdminDiskRecord``): ``sizeMb`` (long, MB; go-vcd v2.12.0 replaced
``sizeB``, "not supported in V33.0"), ``storageProfileName``, the ``org`` and ``vdc`` hrefs,
and ``sharingType`` ``"None"`` for a disk that is not shared (go-vcd ``govcd/disk_test.go``).
The record type declares no org name: a collector resolves ``org`` through the orgs listing.
``status`` and the bus attributes are not served: their values are not documented publicly,
and nothing reads them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metering.simulator import names
from metering.simulator.state import alive, snapshots_at
from metering.simulator.tables import CHUNK_BYTES
from metering.simulator.views_vcd import View

Record = dict[str, Any]


def disk_records(view: View) -> list[Record]:
    """``adminDisk`` query records of the disks that exist at the view's hour."""
    w, d = view.world, view.world.disks
    idx = np.flatnonzero((d.site == view.site) & alive(d.created, d.deleted, view.hour))
    policies = w.inventory.vm_storage_policies
    out: list[Record] = []
    for i in idx.tolist():
        org = int(d.org[i])
        uuid = names.uid("disk", w.seed, i)
        attached = bool(d.attached[i])
        out.append(
            {
                "_type": "QueryResultAdminDiskRecordType",
                "link": [],
                "metadata": None,
                "href": f"{view.base}/api/disk/{uuid}",
                "id": None,
                "type": None,
                "name": f"data-{int(d.ordinal[i]):02d}",
                "vdc": f"{view.base}/api/vdc/{view.vdc_id(org)}",
                "vdcName": view.vdc_name(org),
                "org": f"{view.base}/api/org/{view.org_id(org)}",
                "description": "",
                "sizeMb": int(d.size_mb[i]),
                "encrypted": False,
                "uuid": uuid,
                "ownerName": "admin",
                "storageProfileName": policies[int(d.spolicy[i])],
                "attachedVmCount": 1 if attached else 0,
                "isAttached": attached,
                "isShareable": False,
                "sharingType": "None",
            }
        )
    return out


def snapshot_section(view: View, uuid: str) -> Record | None:
    """``GET /api/vApp/vm-{uuid}/snapshotSection`` in VCD's JSON form (``SnapshotSectionType``:
    its ``Snapshot`` elements under ``snapshot``, each with ``poweredOn``, ``created`` and
    ``size`` in bytes), or None when no VM of that id is listed at this site and hour."""
    w, vms = view.world, view.world.vms
    index: dict[str, int] = w.memo(
        ("vm-uuids", view.site),
        lambda: {
            names.uid("vm", w.seed, i): i for i in np.flatnonzero(vms.site == view.site).tolist()
        },
    )
    i = index.get(uuid)
    if i is None or not alive(vms.created[i : i + 1], vms.deleted[i : i + 1], view.hour)[0]:
        return None
    href = f"{view.base}/api/vApp/vm-{uuid}/snapshotSection"
    s = snapshots_at(w.snapshots, view.hour).get(i)
    snapshots = []
    if s is not None:
        taken = int(w.snapshots.taken[s])
        off = int(vms.off_a[i]) <= taken < int(vms.off_b[i])
        snapshots.append(
            {
                "otherAttributes": {},
                "poweredOn": not off,
                "created": view.at(taken),
                "size": int(w.snapshots.chunks[s]) * CHUNK_BYTES,
            }
        )
    return {
        "otherAttributes": {},
        "href": href,
        "type": "application/vnd.vmware.vcloud.snapshotSection+json",
        "link": [],
        "info": {"value": "Snapshot information section"},
        "snapshot": snapshots,
    }
