"""Ground truth: the exact usage the simulator served over a window, from its own timeline.

Computed in closed form from the world's columns (never from API responses), per site,
org, product and dimension, with the products and units of docs/architecture.md. Windows
must start and end on whole hours of the simulation (the state only changes on whole hours).

- ``vcpu`` / ``ram``: powered-on hours × vCPUs / × GiB (memory MB ÷ 1024), TKG nodes and
  VM-app VMs included (they are VMs).
- ``vcpu`` / ``ram`` dimension: the allocation model of the VM's Org VDC when that VDC is
  billed on allocation (Allocation Pool, Reservation Pool, Flex with an allocation), else ''.
- ``vdc_cpu`` / ``vdc_ram`` per allocation model: allocated GHz (MHz ÷ 1000) / GiB (MB ÷
  1024) × hours of the VDCs billed on allocation (docs/metering-rules.md).
- ``vm_disk`` per VM storage policy: provisioned GB (MB ÷ 1024) × hours the VM exists.
- ``independent_disk`` per storage policy: provisioned GB (MB ÷ 1024) × hours the independent
  disk exists, attached or not.
- ``vm_snapshot`` per the VM's storage policy: GB (2^30 bytes) its snapshot holds × hours the
  snapshot and its VM both exist.
- ``tkg_cluster``: hours each cluster exists.
- ``object_storage`` per Cloudian policy: GB-hours of logical bytes (2^30), at the bucket's
  home site only; ``object_requests`` per ``GET``/``PUT``/``DELETE``; ``object_transfer``
  GB (2^30 bytes) in (``BI``: the hour's growth) and out (``BO``: one chunk per GET).
- ``alp_instance`` per app id: hours each instance exists.
- ``os_licence`` per licence family (``windows-server``, ``rhel``, ``sles``): powered-on
  vCPU-hours of the VMs whose guest OS is of that family; ``os_licence_vm``: hours those VMs
  exist (powered on or off).
- ``catalog_media`` per storage policy: GB-hours of the catalog media items that exist, each
  under the org that owns it; ``vapp_template`` per storage policy: GB-hours (MB ÷ 1024) of
  the VMs of the vApp templates that exist, under the org that owns the template.
- ``edge_gateway`` / ``edge_gateway_month``: hours each edge gateway exists (both the same
  gateway-hours; the card prices one of them). ``public_ip`` / ``public_ip_month``: IPs
  allocated to the gateways × hours (IP-hours).
- ``dse_core`` per kind: exact vCPU-hours of the *service* containers (limit × replicas;
  sidecars and operators excluded), i.e. core-hours at the default 1 vCPU = 1 core.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import TypedDict

import numpy as np

from metering.simulator.inventory import DSE_KINDS
from metering.simulator.state import overlap, weight_prefix
from metering.simulator.tables import ALLOCATION_MODELS, GUEST_OS, SERVICE_CPU, Ints, millicores
from metering.simulator.world import World, presence_index
from metering.window import Window

HOUR = timedelta(hours=1)
UNITS = {
    "vcpu": "vCPU-hour",
    "ram": "GiB-hour",
    "vm_disk": "GB-hour",
    "tkg_cluster": "cluster-hour",
    "object_storage": "GB-hour",
    "object_requests": "request",
    "object_transfer": "GB",
    "alp_instance": "instance-hour",
    "dse_core": "core-hour",
    "os_licence": "vCPU-hour",
    "os_licence_vm": "VM-hour",
    "vdc_cpu": "GHz-hour",
    "vdc_ram": "GiB-hour",
    "independent_disk": "GB-hour",
    "vm_snapshot": "GB-hour",
    "catalog_media": "GB-hour",
    "edge_gateway": "gateway-hour",
    "edge_gateway_month": "gateway-hour",
    "public_ip": "IP-hour",
    "public_ip_month": "IP-hour",
    "vapp_template": "GB-hour",
}
# (product, divisor) → quantity = integer sum ÷ divisor, exactly.
DIVISORS = {
    "ram": 1024,
    "vm_disk": 1024,
    "independent_disk": 1024,
    "vm_snapshot": 512,  # chunks of 2 MiB → GB
    "object_storage": 512,
    "object_transfer": 512,  # chunks of 2 MiB → GB
    "dse_core": 1000,
    "vdc_cpu": 1000,  # MHz → GHz
    "vdc_ram": 1024,
    "catalog_media": 512,  # chunks of 2 MiB → GB
    "vapp_template": 1024,  # MB → GB
}


class TruthRow(TypedDict):
    site: str
    org_name: str
    product: str
    dimension: str
    unit: str
    quantity: str


Key = tuple[int, int, str, str]  # site, org, product, dimension


def _hours(start: datetime, window: Window) -> tuple[int, int]:
    a, b = (window.start - start) / HOUR, (window.end - start) / HOUR
    if a != int(a) or b != int(b):
        raise ValueError("the truth window must start and end on whole hours")
    return int(a), int(b)


def _add(
    acc: dict[Key, int],
    site: Ints,
    org: Ints,
    product: str,
    dims: tuple[Ints, Sequence[str]],
    q: Ints,
) -> None:
    """Sum ``q`` per (site, org, dimension code) in numpy; only the groups loop in Python."""
    codes, labels = dims
    keep = q != 0
    if not keep.any():
        return
    width, orgs = len(labels), int(org.max()) + 1
    keys = (site[keep] * orgs + org[keep]) * width + codes[keep]
    groups, inverse = np.unique(keys, return_inverse=True)
    sums = np.zeros(len(groups), dtype=np.int64)
    np.add.at(sums, inverse, q[keep])
    for key, total in zip(groups.tolist(), sums.tolist(), strict=True):
        so, d = divmod(key, width)
        acc[(so // orgs, so % orgs, product, labels[d])] += total


def _none(n: int) -> tuple[Ints, Sequence[str]]:
    return np.zeros(n, dtype=np.int64), ("",)


def _split(lo: Ints, hi: Ints, at: Ints) -> tuple[tuple[Ints, Ints], tuple[Ints, Ints]]:
    """``[lo, hi)`` cut at ``at``: the part before and the part from it."""
    return (lo, np.minimum(hi, at)), (np.maximum(lo, at), hi)


def _vms(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    v = w.vms
    lo, hi = np.maximum(a, v.created), np.minimum(b, v.deleted)
    (l1, h1), (l2, h2) = _split(lo, hi, v.resize_h)
    on1 = overlap(l1, h1, l1, h1) - overlap(l1, h1, v.off_a, v.off_b)
    on2 = overlap(l2, h2, l2, h2) - overlap(l2, h2, v.off_a, v.off_b)
    compute = _compute_dimension(w)
    _add(acc, v.site, v.org, "vcpu", compute, v.vcpu0 * on1 + v.vcpu1 * on2)
    _add(acc, v.site, v.org, "ram", compute, v.mem0 * on1 + v.mem1 * on2)
    policies = (v.spolicy, w.inventory.vm_storage_policies)
    exists = overlap(lo, hi, lo, hi)
    _add(acc, v.site, v.org, "vm_disk", policies, v.disk_mb * exists)
    families = [family for _, _, family in GUEST_OS]
    licensed = np.array([bool(f) for f in families], dtype=bool)[v.guest_os]
    os_family = (v.guest_os, families)
    vcpu_on = v.vcpu0 * on1 + v.vcpu1 * on2
    _add(acc, v.site, v.org, "os_licence", os_family, np.where(licensed, vcpu_on, 0))
    _add(acc, v.site, v.org, "os_licence_vm", os_family, np.where(licensed, exists, 0))


def _compute_dimension(w: World) -> tuple[Ints, Sequence[str]]:
    """Per VM, the allocation model of its Org VDC that its vCPU and RAM are billed under
    ('' = Pay-As-You-Go, or an elastic Flex VDC without allocation)."""
    labels = ["", *ALLOCATION_MODELS]
    billed = w.vdcs.billing_model()
    where = presence_index(w)
    code = np.array([labels.index(m) for m in billed], dtype=np.int64)
    pres = np.array(
        [where[(o, s)] for o, s in zip(w.vms.org.tolist(), w.vms.site.tolist(), strict=True)],
        dtype=np.int64,
    )
    return code[pres] if len(pres) else np.zeros(0, dtype=np.int64), labels


def _vdcs(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    """Allocated CPU (MHz-hours) and memory (MB-hours) of the VDCs billed on allocation."""
    billed = w.vdcs.billing_model()
    site = np.array([s for _, s in w.presence], dtype=np.int64)
    org = np.array([o for o, _ in w.presence], dtype=np.int64)
    labels = ["", *ALLOCATION_MODELS]
    code = np.array([labels.index(m) for m in billed], dtype=np.int64)
    hours = np.where(code > 0, b - a, 0).astype(np.int64)
    _add(acc, site, org, "vdc_cpu", (code, labels), w.vdcs.cpu_mhz * hours)
    _add(acc, site, org, "vdc_ram", (code, labels), w.vdcs.memory_mb * hours)


def _disks(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    """Provisioned MB-hours of the independent disks per storage policy, attached or not."""
    d = w.disks
    policies = (d.spolicy, w.inventory.vm_storage_policies)
    _add(
        acc,
        d.site,
        d.org,
        "independent_disk",
        policies,
        d.size_mb * overlap(a, b, d.created, d.deleted),
    )


def _snapshots(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    """Chunk-hours of the VM snapshots per the VM's storage policy, while both exist."""
    s, v = w.snapshots, w.vms
    lo = np.maximum(np.maximum(a, s.taken), v.created[s.vm])
    hi = np.minimum(np.minimum(b, s.removed), v.deleted[s.vm])
    policies = (v.spolicy[s.vm], w.inventory.vm_storage_policies)
    _add(
        acc, v.site[s.vm], v.org[s.vm], "vm_snapshot", policies, s.chunks * overlap(lo, hi, lo, hi)
    )


def _catalog(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    """Catalog media: stored GB-hours (2 MiB chunks) per storage policy, every hour the item
    exists, charged to the org that owns it."""
    m = w.media
    policies = (m.spolicy, w.inventory.vm_storage_policies)
    _add(
        acc,
        m.site,
        m.org,
        "catalog_media",
        policies,
        m.chunks * overlap(a, b, m.created, m.deleted),
    )


def _edges(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    """Gateway-hours of the edge gateways and IP-hours of the IPs allocated to them."""
    e = w.edges
    lo, hi = np.maximum(a, e.created), np.minimum(b, e.deleted)
    exists = overlap(lo, hi, lo, hi)
    ip_hours = e.ips0 * exists + e.extra * overlap(lo, hi, e.change_h, hi)
    none = _none(len(e.site))
    for product, hours in (("edge_gateway", exists), ("public_ip", ip_hours)):
        _add(acc, e.site, e.org, product, none, hours)
        _add(acc, e.site, e.org, f"{product}_month", none, hours)


def _templates(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    """vApp templates: their VMs' allocated MB-hours per each VM's storage policy, every hour
    the template exists, charged to the org that owns the template."""
    m = w.templates
    t = m.vm_template
    policies = (m.vm_spolicy, w.inventory.vm_storage_policies)
    hours = overlap(a, b, m.created[t], m.deleted[t])
    _add(acc, m.site[t], m.org[t], "vapp_template", policies, m.vm_disk_mb * hours)


def _clusters_apps(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    c, p = w.clusters, w.apps
    _add(acc, c.site, c.org, "tkg_cluster", _none(len(c.site)), overlap(a, b, c.created, c.deleted))
    app_ids = (p.template, [t.app_id for t in w.inventory.apps])
    _add(acc, p.site, p.org, "alp_instance", app_ids, overlap(a, b, p.created, p.deleted))


def _dse(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    d = w.dse
    table = np.array([[millicores(q) for q in SERVICE_CPU[k]] for k in DSE_KINDS], np.int64)
    cpu = table[d.kind, d.service_q]
    lo, hi = np.maximum(a, d.created), np.minimum(b, d.deleted)
    (l1, h1), (l2, h2) = _split(lo, hi, d.change_h)
    replica_hours = d.replicas0 * overlap(l1, h1, l1, h1) + d.replicas1 * overlap(l2, h2, l2, h2)
    _add(acc, d.site, d.org, "dse_core", (d.kind, DSE_KINDS), cpu * replica_hours)


def _buckets(w: World, a: int, b: int, acc: dict[Key, int]) -> None:
    k = w.buckets
    lo, hi = np.maximum(a, k.created), np.minimum(b, k.deleted)
    n = overlap(lo, hi, lo, hi)
    base = np.maximum(k.created, 0)
    grow_from = np.maximum(lo, base)
    m = overlap(grow_from, hi, grow_from, hi)
    first = grow_from - base
    chunk_hours = n * k.chunks0 + k.growth * (m * first + m * (m - 1) // 2)
    policies = (k.policy, [p.name for p in w.inventory.object_policies])
    _add(acc, k.site, k.org, "object_storage", policies, chunk_hours)
    prefix = weight_prefix(a, max(a, b))
    lo_i, hi_i = np.clip(lo - a, 0, b - a), np.clip(hi - a, 0, b - a)
    weight = np.where(hi > lo, prefix[np.maximum(hi_i, lo_i)] - prefix[lo_i], 0)
    for verb, rate in (("GET", k.req_get), ("PUT", k.req_put), ("DELETE", k.req_delete)):
        verbs = (np.zeros(len(k.site), dtype=np.int64), (verb,))
        _add(acc, k.site, k.org, "object_requests", verbs, rate * weight)
    zeros = np.zeros(len(k.site), dtype=np.int64)
    _add(acc, k.site, k.org, "object_transfer", (zeros, ("in",)), k.growth * n)
    _add(acc, k.site, k.org, "object_transfer", (zeros, ("out",)), k.req_get * weight)


def ground_truth(world: World, start: datetime, window: Window) -> list[TruthRow]:
    """Exact usage per (site, org, product, dimension) over ``window``, sorted."""
    a, b = _hours(start, window)
    acc: dict[Key, int] = defaultdict(int)
    for part in (
        _vms,
        _vdcs,
        _disks,
        _snapshots,
        _catalog,
        _templates,
        _edges,
        _clusters_apps,
        _dse,
        _buckets,
    ):
        part(world, a, b, acc)
    rows: list[TruthRow] = []
    with localcontext() as ctx:
        ctx.prec = 60
        for (s, o, product, dim), total in sorted(acc.items()):
            quantity = Decimal(total) / DIVISORS.get(product, 1)
            rows.append(
                TruthRow(
                    site=world.inventory.sites[s],
                    org_name=world.org_names[o],
                    product=product,
                    dimension=dim,
                    unit=UNITS[product],
                    quantity=format(quantity.normalize(), "f"),
                )
            )
    rows.sort(key=lambda r: (r["site"], r["org_name"], r["product"], r["dimension"]))
    return rows
