"""Per-site lookups a request needs, computed once per world and site.

A per-tenant request (OSE ``tenants/{orgId}/…``, Cloudian ``?groupId=…``, ``/usage?id=…``,
OSE ``clusters/{urn}/backups``) must find its org, buckets or cluster without scanning every
org, bucket or cluster of the world: at 5,000 tenants those scans made the simulator
quadratic in tenants. What a site shows that does not depend on the clock (which orgs it
has, which of them are onboarded to object storage, their ids, the buckets homed there) is
built here once; what depends on the hour is filtered from these small per-org subsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metering.simulator import names
from metering.simulator.state import bucket_chunks, bucket_objects
from metering.simulator.tables import CHUNK_BYTES, Ints
from metering.simulator.world import World

_EMPTY: Ints = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class SiteIndex:
    """One site's invariant lookups (see the module docstring)."""

    orgs: tuple[int, ...]  # orgs with a VCD org at the site, in inventory order
    storage_orgs: tuple[int, ...]  # of those, the orgs with a bucket at any site
    by_group: dict[str, int]  # Cloudian group id → storage org
    by_org_urn: dict[str, int]  # ``urn:vcloud:org:…`` at this site → storage org
    site_buckets: Ints  # bucket indexes homed at the site, ascending
    org_buckets: dict[int, Ints]  # storage org → its buckets homed at the site, ascending
    clusters: dict[str, int]  # cluster urn → index, for the clusters of this site

    def buckets_of(self, org: int | None) -> Ints:
        """The site's buckets (ascending), all of them or one org's."""
        return self.site_buckets if org is None else self.org_buckets.get(org, _EMPTY)


def site_index(world: World, site: int) -> SiteIndex:
    """The lookups of ``site`` in ``world`` (memoised on the world)."""
    built: SiteIndex = world.memo(("site-index", site), lambda: _build(world, site))
    return built


def _build(world: World, site: int) -> SiteIndex:
    site_name = world.inventory.sites[site]
    orgs = tuple(o for o, s in world.presence if s == site)
    b = world.buckets
    with_buckets = set(np.unique(b.org).tolist())
    storage = tuple(o for o in orgs if o in with_buckets)
    here = np.flatnonzero(b.site == site)
    owners = b.org[here]
    order = np.argsort(owners, kind="stable")  # keeps each org's buckets ascending
    split = np.searchsorted(owners[order], storage)
    ends = np.searchsorted(owners[order], storage, side="right")
    org_buckets = {
        o: here[order[lo:hi]] for o, lo, hi in zip(storage, split, ends, strict=True) if hi > lo
    }
    cl = world.clusters
    return SiteIndex(
        orgs=orgs,
        storage_orgs=storage,
        by_group={world.group_ids[o]: o for o in storage},
        by_org_urn={
            f"urn:vcloud:org:{names.uid('org', site_name, world.org_names[o])}": o for o in storage
        },
        site_buckets=here,
        org_buckets=org_buckets,
        clusters={cluster_urn(world.seed, int(c)): int(c) for c in np.flatnonzero(cl.site == site)},
    )


def cluster_urn(seed: int, c: int) -> str:
    """The id of cluster ``c`` (its CSE RDE urn), the same at every site."""
    return f"urn:vcloud:entity:vmware:capvcdCluster:{names.uid('cluster', seed, c)}"


def bucket_levels(world: World, hour: int) -> tuple[Ints, Ints]:
    """(bytes, objects) of every bucket during ``hour``, computed once per hour."""

    def build() -> tuple[Ints, Ints]:
        b = world.buckets
        return bucket_chunks(b, hour) * CHUNK_BYTES, bucket_objects(b, hour)

    levels: tuple[Ints, Ints] = world.memo(("bucket-levels", hour), build)
    return levels
