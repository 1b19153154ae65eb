"""The simulated provider's resources and their month, as compact numpy columns.

Every resource has a lifetime ``[created, deleted)`` in whole hours from the month start
(:data:`BEFORE` = it existed before, :data:`NEVER` = it outlives the month) and at most a
few change points (a resize, a power-off interval, a scale-out, a replica change). State at
hour ``h`` and usage over any range of hours are closed-form in those columns, so a month of
200,000 VMs costs a few megabytes and the ground truth is exact integer arithmetic.

Units chosen so truth is exact in DECIMAL(38, 9): memory and disks in MB (multiples of 1024
for disks), object storage in *chunks* of 2 MiB (one GB-hour = 512 chunk-hours), CPU of data
solutions in millicores.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metering.simulator import names
from metering.simulator.catalog import CatalogItems, Templates, catalog_media, vapp_templates
from metering.simulator.draws import lifetimes, ordinals, rep
from metering.simulator.inventory import DSE_KINDS, Inventory
from metering.simulator.network_items import edge_gateways
from metering.simulator.storage_items import independent_disks, vm_snapshots
from metering.simulator.tables import (
    APP_TYPES,
    BEFORE,
    GUEST_OS_PHOTON,
    K8S_VERSIONS,
    NEVER,
    OPERATOR_CPU,
    SIDECAR_CPU,
    Apps,
    Buckets,
    Clusters,
    DataSolutions,
    Disks,
    EdgeGateways,
    Ints,
    OrgVdcs,
    Snapshots,
    VMs,
)

_MEMO_SIZE = 64


@dataclass
class World:
    inventory: Inventory
    seed: int
    hours: int
    org_names: list[str]
    org_home: Ints
    presence: list[tuple[int, int]]  # (org, site) pairs: one VCD org per pair
    vms: VMs
    clusters: Clusters
    apps: Apps
    dse: DataSolutions
    buckets: Buckets
    vdcs: OrgVdcs
    disks: Disks
    snapshots: Snapshots
    media: CatalogItems
    edges: EdgeGateways
    templates: Templates
    group_ids: list[str] = field(default_factory=list)
    _memo: OrderedDict[Hashable, Any] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )
    _memo_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def memo(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Data derived from the world (per-site indexes, one hour's bucket levels): built
        on first use and kept, the least recently used dropped beyond a few dozen entries.
        The world never changes, so a key that names everything the value depends on (the
        site, the hour) is a safe cache key."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = build()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return value


def presence_index(world: World) -> dict[tuple[int, int], int]:
    """(org, site) → its index in ``world.presence`` (its Org VDC in ``world.vdcs``)."""
    index: dict[tuple[int, int], int] = world.memo(
        ("presence",), lambda: {p: i for i, p in enumerate(world.presence)}
    )
    return index


def build_world(inventory: Inventory, seed: int, hours: int) -> World:
    """Draw every resource of ``inventory`` and its month from ``seed``."""
    rng = np.random.default_rng(seed)
    site_index = {s: i for i, s in enumerate(inventory.sites)}
    org_names = [o.name for o in inventory.orgs]
    presence = [(o, site_index[s]) for o, spec in enumerate(inventory.orgs) for s in spec.sites]
    pres_org = np.array([p[0] for p in presence], dtype=np.int64)
    pres_site = np.array([p[1] for p in presence], dtype=np.int64)

    def per_presence(attr: str) -> Ints:
        return np.array(
            [n for spec in inventory.orgs for n in getattr(spec, attr)], dtype=np.int64
        ).reshape(len(presence))

    clusters = _clusters(rng, inventory, hours, pres_org, pres_site, per_presence("clusters"))
    apps = _apps(rng, inventory, hours, pres_org, pres_site, per_presence("apps"), clusters)
    dse = _dse(rng, inventory, hours, clusters)
    buckets = _buckets(rng, inventory, hours, clusters)
    plain = _plain_vms(rng, inventory, hours, pres_org, pres_site, per_presence("vms"))
    vms = _concat(plain, _node_vms(inventory, clusters), _app_vms(rng, inventory, apps))
    home = np.array([site_index[spec.sites[0]] for spec in inventory.orgs], dtype=np.int64)
    return World(
        inventory=inventory,
        seed=seed,
        hours=hours,
        org_names=org_names,
        org_home=home,
        presence=presence,
        vms=vms,
        clusters=clusters,
        apps=apps,
        dse=dse,
        buckets=buckets,
        vdcs=org_vdcs(len(presence)),
        disks=independent_disks(seed, inventory, hours, pres_org, pres_site),
        snapshots=vm_snapshots(seed, hours, vms),
        media=catalog_media(presence, hours, len(inventory.vm_storage_policies)),
        edges=edge_gateways(pres_org, pres_site, hours),
        templates=vapp_templates(presence, hours, len(inventory.vm_storage_policies)),
        group_ids=[names.group_id(n) for n in org_names],
    )


def _vm_columns(n: int, **cols: Ints | int) -> VMs:
    full = {
        k: (np.full(n, v, dtype=np.int64) if isinstance(v, int) else v) for k, v in cols.items()
    }
    return VMs(**full)


def _plain_vms(
    rng: np.random.Generator, inv: Inventory, hours: int, org: Ints, site: Ints, counts: Ints
) -> VMs:
    n = int(counts.sum())
    created, deleted = lifetimes(rng, n, hours, 0.12, 0.08)
    vcpu0 = rng.choice(np.array([1, 2, 2, 4, 4, 8, 16]), n).astype(np.int64)
    gib = rng.choice(np.array([1, 2, 4, 8]), n).astype(np.int64)
    resized = rng.random(n) < 0.15
    up = rng.random(n) < 0.6
    vcpu1 = np.where(resized, np.where(up, vcpu0 * 2, np.maximum(1, vcpu0 // 2)), vcpu0)
    r = rng.random(n)
    always_off, cycled = r < 0.08, (r >= 0.08) & (r < 0.3)
    off_start = rng.integers(0, max(1, hours - 1), n)
    off_a = np.where(always_off, BEFORE, np.where(cycled, off_start, NEVER))
    off_b = np.where(
        always_off, NEVER, np.where(cycled, off_start + rng.integers(1, 169, n), NEVER)
    )
    weights = np.array(inv.vm_storage_weights, dtype=float)
    ordinal = ordinals(counts)
    return _vm_columns(
        n,
        site=rep(site, counts),
        org=rep(org, counts),
        kind=0,
        ref=ordinal // 2,
        ordinal=ordinal,
        pool=0,
        created=created,
        deleted=deleted,
        vcpu0=vcpu0,
        mem0=vcpu0 * gib * 1024,
        vcpu1=vcpu1.astype(np.int64),
        mem1=(vcpu1 * gib * 1024).astype(np.int64),
        resize_h=np.where(resized, rng.integers(24, max(25, hours - 24), n), NEVER).astype(
            np.int64
        ),
        off_a=off_a.astype(np.int64),
        off_b=off_b.astype(np.int64),
        disk_mb=rng.choice(np.array([20, 40, 60, 100, 200, 500]), n).astype(np.int64) * 1024,
        spolicy=rng.choice(len(weights), n, p=weights / weights.sum()).astype(np.int64),
        sizing=-1,
        guest_os=guest_os_codes(rep(org, counts), ordinal),
    )


def org_vdcs(n: int) -> OrgVdcs:
    """The Org VDC of each (org, site) presence: about 1 in 7 is an Allocation Pool, 1 in 7 a
    Reservation Pool, 1 in 7 Flex (every other one without an allocation: elastic), the rest
    Pay-As-You-Go; pools allocate 8 to 24 GHz and 16 to 48 GiB. A function of the presence
    index, not of the random stream, so every other draw stays as it was."""
    p = np.arange(n, dtype=np.int64)
    model = np.array([0, 1, 0, 2, 0, 3, 0], dtype=np.int64)[p % 7]
    elastic = (model == 3) & ((p // 7) % 2 == 1)
    pooled = (model > 0) & ~elastic
    cpu = np.where(pooled, (8 + 4 * (p % 5)) * 1000, 0).astype(np.int64)
    memory = np.where(pooled, (16 + 16 * (p % 3)) * 1024, 0).astype(np.int64)
    return OrgVdcs(model=model, cpu_mhz=cpu, memory_mb=memory)


def guest_os_codes(org: Ints, ordinal: Ints) -> Ints:
    """The guest OS (index into GUEST_OS) of plain VMs, from their org and ordinal: about 3 in
    10 run Windows Server, 1 in 10 RHEL, 1 in 10 SLES, the rest Linux without a licence. A
    function of the VM's place, not of the random stream, so every other draw stays as it was."""
    pattern = np.array([0, 1, 6, 3, 0, 2, 4, 0, 1, 0], dtype=np.int64)
    codes: Ints = pattern[(ordinal + 3 * org) % len(pattern)]
    return codes


def _clusters(
    rng: np.random.Generator, inv: Inventory, hours: int, org: Ints, site: Ints, counts: Ints
) -> Clusters:
    n = int(counts.sum())
    created, deleted = lifetimes(rng, n, hours, 0.15, 0.05)
    w0 = rng.integers(1, 5, n).astype(np.int64)
    scaled = rng.random(n) < 0.4
    w1 = np.where(scaled, np.maximum(1, w0 + rng.choice(np.array([-2, -1, 1, 2]), n)), w0)
    return Clusters(
        site=rep(site, counts),
        org=rep(org, counts),
        ordinal=ordinals(counts),
        created=created,
        deleted=deleted,
        cp=rng.choice(np.array([1, 3]), n).astype(np.int64),
        w0=w0,
        w1=w1.astype(np.int64),
        scale_h=np.where(scaled, rng.integers(24, max(25, hours - 24), n), NEVER).astype(np.int64),
        cp_sizing=np.zeros(n, dtype=np.int64),
        w_sizing=rng.integers(0, len(inv.sizing_policies), n).astype(np.int64),
        spolicy=rng.integers(0, len(inv.vm_storage_policies), n).astype(np.int64),
        disk_mb=rng.choice(np.array([20480, 40960]), n).astype(np.int64),
        k8s=rng.integers(0, len(K8S_VERSIONS), n).astype(np.int64),
        backup_bucket=np.full(n, -1, dtype=np.int64),
    )


def _node_vms(inv: Inventory, c: Clusters) -> VMs:
    """Each cluster's nodes as VMs; workers appear or vanish at the cluster's scale hour."""
    idx_cp = rep(np.arange(len(c.site), dtype=np.int64), c.cp)
    most = np.maximum(c.w0, c.w1)
    idx_w = rep(np.arange(len(c.site), dtype=np.int64), most)
    j = ordinals(most)
    in0, in1, sh = j < c.w0[idx_w], j < c.w1[idx_w], c.scale_h[idx_w]
    idx = np.concatenate([idx_cp, idx_w])
    created = np.concatenate(
        [c.created[idx_cp], np.where(in0, c.created[idx_w], np.maximum(c.created[idx_w], sh))]
    )
    deleted = np.concatenate(
        [c.deleted[idx_cp], np.where(in1, c.deleted[idx_w], np.minimum(c.deleted[idx_w], sh))]
    )
    sizing = np.concatenate([c.cp_sizing[idx_cp], c.w_sizing[idx_w]])
    cpu = np.array([p.cpu_count for p in inv.sizing_policies], dtype=np.int64)[sizing]
    mem = np.array([p.memory_mb for p in inv.sizing_policies], dtype=np.int64)[sizing]
    n = len(idx)
    return _vm_columns(
        n,
        site=c.site[idx],
        org=c.org[idx],
        kind=1,
        ref=idx,
        ordinal=np.concatenate([ordinals(c.cp), j]),
        pool=np.concatenate([np.zeros(len(idx_cp), np.int64), np.ones(len(idx_w), np.int64)]),
        created=created,
        deleted=deleted,
        vcpu0=cpu,
        mem0=mem,
        vcpu1=cpu,
        mem1=mem,
        resize_h=NEVER,
        off_a=NEVER,
        off_b=NEVER,
        disk_mb=c.disk_mb[idx],
        spolicy=c.spolicy[idx],
        sizing=sizing,
        guest_os=GUEST_OS_PHOTON,
    )


def _first_cluster(c: Clusters) -> dict[tuple[int, int], int]:
    """(org, site) → its first cluster."""
    first: dict[tuple[int, int], int] = {}
    for i in range(len(c.site) - 1, -1, -1):
        first[(int(c.org[i]), int(c.site[i]))] = i
    return first


def _apps(
    rng: np.random.Generator,
    inv: Inventory,
    hours: int,
    org: Ints,
    site: Ints,
    counts: Ints,
    c: Clusters,
) -> Apps:
    n = int(counts.sum())
    a_org, a_site = rep(org, counts), rep(site, counts)
    created, deleted = lifetimes(rng, n, hours, 0.3, 0.2)
    ordinal = ordinals(counts)
    first = _first_cluster(c)
    kinds = {t: [i for i, a in enumerate(inv.apps) if a.app_type == t] for t in APP_TYPES}
    draw = rng.integers(0, 2**16, n)
    template = np.zeros(n, dtype=np.int64)
    cluster = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        # Where the org has a cluster, every other app is a container app on it.
        target = first.get((int(a_org[i]), int(a_site[i])))
        container = target is not None and ordinal[i] % 2 == 0 and kinds["ContainerApp"]
        choices = kinds["ContainerApp"] if container else kinds["VmApp"]
        template[i] = choices[int(draw[i]) % len(choices)]
        if container and target is not None:
            cluster[i] = target
            created[i] = max(created[i], c.created[target])
            deleted[i] = max(created[i] + 1, min(deleted[i], c.deleted[target]))
    return Apps(a_site, a_org, ordinal, template, cluster, created, deleted)


def _app_vms(rng: np.random.Generator, inv: Inventory, a: Apps) -> VMs:
    """One VM per VmApp instance, in a vApp named after the app instance."""
    idx = np.array(
        [i for i in range(len(a.site)) if inv.apps[int(a.template[i])].app_type == "VmApp"],
        dtype=np.int64,
    )
    n = len(idx)
    return _vm_columns(
        n,
        site=a.site[idx],
        org=a.org[idx],
        kind=2,
        ref=idx,
        ordinal=0,
        pool=0,
        created=a.created[idx],
        deleted=a.deleted[idx],
        vcpu0=2,
        mem0=4096,
        vcpu1=2,
        mem1=4096,
        resize_h=NEVER,
        off_a=NEVER,
        off_b=NEVER,
        disk_mb=40960,
        spolicy=rng.integers(0, len(inv.vm_storage_policies), n).astype(np.int64),
        sizing=-1,
        guest_os=0,
    )


def _dse(rng: np.random.Generator, inv: Inventory, hours: int, c: Clusters) -> DataSolutions:
    rows: list[tuple[int, int, int, int]] = []  # org, site, kind, cluster
    first_of_org: dict[int, int] = {}
    for i in range(len(c.org) - 1, -1, -1):
        first_of_org[int(c.org[i])] = i
    for o, spec in enumerate(inv.orgs):
        target = first_of_org.get(o)
        for kind in spec.dse if target is not None else ():
            assert target is not None
            rows.append((o, int(c.site[target]), DSE_KINDS.index(kind), target))
    n = len(rows)
    cols = np.array(rows, dtype=np.int64).reshape(n, 4)
    cluster = cols[:, 3]
    created, deleted = lifetimes(rng, n, hours, 0.3, 0.15)
    created = np.maximum(created, c.created[cluster])
    deleted = np.maximum(created + 1, np.minimum(deleted, c.deleted[cluster]))
    replicas0 = rng.choice(np.array([1, 3]), n).astype(np.int64)
    changed = rng.random(n) < 0.3
    ordinal = _ordinals_by(cols[:, 0] * len(inv.sites) + cols[:, 1])
    return DataSolutions(
        site=cols[:, 1].copy(),
        org=cols[:, 0].copy(),
        ordinal=ordinal,
        kind=cols[:, 2].copy(),
        cluster=cluster.copy(),
        created=created,
        deleted=deleted,
        replicas0=replicas0,
        replicas1=np.where(changed, np.where(replicas0 == 1, 3, 1), replicas0).astype(np.int64),
        change_h=np.where(changed, rng.integers(24, max(25, hours - 24), n), NEVER).astype(
            np.int64
        ),
        service_q=_ordinals_by(cols[:, 2]) % 3,
        sidecar_q=rng.integers(0, len(SIDECAR_CPU), n).astype(np.int64),
        operator_q=rng.integers(0, len(OPERATOR_CPU), n).astype(np.int64),
    )


def _ordinals_by(labels: Ints) -> Ints:
    """Position of each element among the earlier elements with the same label."""
    seen: dict[int, int] = {}
    out = np.zeros(len(labels), dtype=np.int64)
    for i, label in enumerate(labels.tolist()):
        out[i] = seen.get(label, 0)
        seen[label] = out[i] + 1
    return out


def _buckets(rng: np.random.Generator, inv: Inventory, hours: int, c: Clusters) -> Buckets:
    """Tenant buckets at each org's home site, plus one Velero bucket per backed-up cluster."""
    site_index = {s: i for i, s in enumerate(inv.sites)}
    counts = np.array([spec.buckets for spec in inv.orgs], dtype=np.int64)
    home = np.array([site_index[spec.sites[0]] for spec in inv.orgs], dtype=np.int64)
    orgs = np.arange(len(inv.orgs), dtype=np.int64)
    n = int(counts.sum())
    b_org = rep(orgs, counts)
    created, deleted = lifetimes(rng, n, hours, 0.2, 0.05)
    backed = np.flatnonzero(rng.random(len(c.org)) < 0.5)
    c.backup_bucket[backed] = n + np.arange(len(backed))
    v_org = c.org[backed]
    total = n + len(backed)
    org_all = np.concatenate([b_org, v_org])
    chunks0 = rng.integers(1, 512 * 300, total).astype(np.int64)
    growth = rng.integers(0, 120, total).astype(np.int64)
    ordinal = np.concatenate([ordinals(counts), np.zeros(len(backed), np.int64)])
    return Buckets(
        site=home[org_all],
        org=org_all,
        ordinal=ordinal,
        user=np.concatenate([rng.integers(0, 2, n), np.full(len(backed), 2)]).astype(np.int64),
        policy=rng.integers(0, len(inv.object_policies), total).astype(np.int64),
        created=np.concatenate([created, c.created[backed]]),
        deleted=np.concatenate([deleted, c.deleted[backed]]),
        chunks0=np.where(np.concatenate([created, c.created[backed]]) > 0, 0, chunks0),
        growth=growth,
        objects0=chunks0 * 3,
        obj_growth=growth * 3,
        req_get=rng.integers(0, 60, total).astype(np.int64),
        req_put=rng.integers(0, 25, total).astype(np.int64),
        req_delete=rng.integers(0, 4, total).astype(np.int64),
        velero_cluster=np.concatenate([np.full(n, -1, np.int64), backed.astype(np.int64)]),
    )


def _concat(*parts: VMs) -> VMs:
    fields = VMs.__dataclass_fields__
    return VMs(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})
