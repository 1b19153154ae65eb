"""VM snapshots of a VCD site: which VMs have one, and how much storage each holds.

No query record gives a snapshot's size. The ``vm`` query records the ``vcd`` collector
already lists per org (:func:`metering.sources.vcd.org_vms`, shared within a run) carry
``snapshot`` (boolean: the VM has a snapshot; VCD API reference ``QueryResultVMRecordType``),
so only the VMs that have one are asked for their ``SnapshotSection``
(``GET /api/vApp/vm-<uuid>/snapshotSection``), whose ``Snapshot`` elements give ``size``
(bytes), ``created`` and ``poweredOn``: one request per snapshotted VM, not per VM. A site
whose VM records lack the ``snapshot`` attribute cannot be read that way and fails the part
with that reason rather than billing no snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from metering.errors import SourceDataError
from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    opt_bool,
    opt_str,
    opt_time,
    req_int,
    req_str,
)
from metering.sources.vcd import attributes, org_vms, orgs, tenant_context, urn_from_href


def _snapshots(section: Any) -> list[Record]:
    """The ``Snapshot`` elements of a SnapshotSection in VCD's JSON form (``snapshot``)."""
    if not isinstance(section, Mapping):
        raise RecordError(f"snapshotSection: not an object ({type(section).__name__})")
    items = section.get("snapshot")
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise RecordError(f"snapshot: expected a list of objects, got {items!r}"[:200])
    return list(items)


def snapshot_row(vm: Record, org: Record, section: Any) -> Row | None:
    """One VM's snapshots as one row (sizes summed; ``None`` when the section lists none)."""
    snapshots = _snapshots(section)
    if not snapshots:
        return None
    sizes = []
    for i, snapshot in enumerate(snapshots):
        try:
            sizes.append(req_int(snapshot, "size"))
        except RecordError as exc:
            raise RecordError(f"snapshotSection.snapshot[{i}].{exc}") from None
    created = [opt_time(s, "created") for s in snapshots]
    known = [c for c in created if c is not None]
    return {
        "vm_id": opt_str(vm, "id") or urn_from_href(req_str(vm, "href"), "vm"),
        "vm_name": req_str(vm, "name"),
        "org_id": str(org["id"]),
        "org_name": str(org["name"]),
        "vdc_id": urn_from_href(opt_str(vm, "vdc"), "vdc"),
        "storage_policy": req_str(vm, "storageProfileName"),
        "snapshot_count": len(snapshots),
        "size_bytes": sum(sizes),
        "oldest_created": min(known) if known else None,
    }


async def _section(ctx: Context, vm: Record) -> Any:
    vm_id = opt_str(vm, "id") or urn_from_href(opt_str(vm, "href"), "vm") or ""
    uuid = vm_id.rsplit(":", 1)[-1]
    body, _ = await ctx.client.get_json("vcd", f"/api/vApp/vm-{uuid}/snapshotSection")
    return body


async def _vm_snapshots(ctx: Context) -> list[Batch]:
    tenants = [o for o in await orgs(ctx) if isinstance(o, dict) and tenant_context(o)]
    listings = await asyncio.gather(*(org_vms(ctx, org) for org in tenants))
    records = [
        (org, attributes(r))
        for org, listing in zip(tenants, listings, strict=True)
        for r in listing
        if isinstance(r, Mapping)
    ]
    vms = [(org, vm) for org, vm in records if not opt_bool(vm, "isVAppTemplate")]
    if vms and not any("snapshot" in vm for _, vm in vms):
        raise SourceDataError(
            "vm query records carry no 'snapshot' attribute at this API version: "
            "the VMs that have a snapshot cannot be told apart",
            site=ctx.client.site.name,
            source="vcd",
        )
    taken = [(org, vm) for org, vm in vms if opt_bool(vm, "snapshot")]
    sections = await asyncio.gather(*(_section(ctx, vm) for _, vm in taken))
    batch = Batch("vcd_vm_snapshot")
    pairs = [(org, vm, section) for (org, vm), section in zip(taken, sections, strict=True)]
    batch.map(
        [{"vm": vm, "org": org, "section": section} for org, vm, section in pairs],
        lambda r: snapshot_row(r["vm"], r["org"], r["section"]),
        "vm.href",
    )
    return [batch]


PARTS = (Part(("vcd_vm_snapshot",), _vm_snapshots),)
