"""Storage items of the simulated world beyond VM disks: independent disks and VM snapshots.

Each is drawn from a random stream of its own (the world's seed and a constant), so adding
them left every other draw of the world as it was.
"""

from __future__ import annotations

import numpy as np

from metering.simulator.draws import lifetimes, ordinals, rep
from metering.simulator.inventory import Inventory
from metering.simulator.tables import BEFORE, NEVER, Disks, Ints, Snapshots, VMs


def independent_disks(seed: int, inv: Inventory, hours: int, org: Ints, site: Ints) -> Disks:
    """0 to 2 independent disks per (org, site) presence, of 10 to 500 GiB, some created or
    deleted during the month. Drawn from a stream of their own (the world's seed and a
    constant), so every other draw stays as it was."""
    rng = np.random.default_rng([seed, 20])
    counts = rng.integers(0, 3, len(org)).astype(np.int64)
    n = int(counts.sum())
    created, deleted = lifetimes(rng, n, hours, 0.2, 0.1)
    weights = np.array(inv.vm_storage_weights, dtype=float)
    ordinal = ordinals(counts)
    return Disks(
        site=rep(site, counts),
        org=rep(org, counts),
        ordinal=ordinal,
        created=created,
        deleted=deleted,
        size_mb=rng.choice(np.array([10, 50, 100, 250, 500]), n).astype(np.int64) * 1024,
        spolicy=rng.choice(len(weights), n, p=weights / weights.sum()).astype(np.int64),
        attached=(ordinal % 2 == 0).astype(np.int64),
    )


def vm_snapshots(seed: int, hours: int, vms: VMs) -> Snapshots:
    """About 1 plain VM in 8 has a snapshot some time in the month (a third of them from
    before it), kept 1 to 10 days, of 1 to 40 GiB. Its own stream, as the disks'."""
    rng = np.random.default_rng([seed, 21])
    vm = np.flatnonzero((vms.kind == 0) & (rng.random(len(vms.kind)) < 0.125)).astype(np.int64)
    n = len(vm)
    start = rng.integers(0, max(1, hours - 24), n)
    taken = np.where(rng.random(n) < 1 / 3, BEFORE, start).astype(np.int64)
    kept = rng.integers(24, 241, n)
    removed = np.maximum(taken, 0) + kept
    return Snapshots(
        vm=vm,
        taken=taken,
        removed=np.where(removed >= hours, NEVER, removed).astype(np.int64),
        chunks=rng.integers(512, 512 * 40 + 1, n).astype(np.int64),
    )
