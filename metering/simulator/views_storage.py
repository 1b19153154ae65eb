"""Object storage as one site's OSE and Cloudian show it at one hour, and Cloudian's series.

A bucket lives at its org's **home site** (the first site of the org in the inventory): only
that site's Cloudian and OSE report it, so a collector summing every site counts each bucket
once, and object storage is billed once, at the home site. The org's Cloudian group exists at
every site where the org exists (with no buckets away from home).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np

from metering.simulator import names
from metering.simulator.index import bucket_levels, site_index
from metering.simulator.state import DAY_WEIGHTS
from metering.simulator.tables import CHUNK_BYTES, USERS, Ints
from metering.simulator.views_vcd import View

Record = dict[str, Any]
QUOTA_BYTES = 2**40  # 1 TiB per tenant, for OSE's availableBytes
OPERATIONS = ("SB", "SO", "HG", "HP", "HD", "BI", "BO")


def storage_orgs(v: View) -> tuple[int, ...]:
    """Orgs of this site onboarded to object storage (OSE tenants, Cloudian groups): those
    with a bucket at any site. The others have no group and answer 204 / 404."""
    return site_index(v.world, v.site).storage_orgs


def buckets_here(
    v: View, org: int | None = None, user: int | None = None, *, history: bool = False
) -> list[int]:
    """Buckets this site reports (alive now), optionally of one org / user. With
    ``history``, also those created before now and deleted since (their usage history
    stays queryable, as in Cloudian)."""
    b = v.world.buckets
    idx = site_index(v.world, v.site).buckets_of(org)
    mask = b.created[idx] <= v.hour
    if not history:
        mask &= v.hour < b.deleted[idx]
    if user is not None:
        mask &= b.user[idx] == user
    picked: list[int] = idx[mask].tolist()
    return picked


def bucket_name(v: View, i: int) -> str:
    b, w = v.world.buckets, v.world
    org = w.org_names[int(b.org[i])]
    cluster = int(b.velero_cluster[i])
    if cluster >= 0:
        return names.velero_bucket_name(org, v.cluster_name(cluster), cluster)
    return names.bucket_name(org, int(b.ordinal[i]))


def policy_id(name: str) -> str:
    return names.uid("bppolicy", name).replace("-", "")


def usage_now(v: View) -> tuple[Ints, Ints]:
    """(bytes, objects) of every bucket during the current hour."""
    return bucket_levels(v.world, v.hour)


def common_usage(v: View, scope: str, idx: list[int], quota: int = QUOTA_BYTES) -> Record:
    """OSE ``CommonUsage`` over some buckets."""
    sizes, objects = usage_now(v)
    used = int(sizes[idx].sum()) if idx else 0
    return {
        "scope": scope,
        "totalBytes": max(quota, used),
        "usedBytes": used,
        "availableBytes": max(0, quota - used),
        "objectCount": int(objects[idx].sum()) if idx else 0,
        "bucketCount": len(idx),
    }


def ose_tenants(v: View) -> list[Record]:
    return [
        {
            "name": v.world.org_names[org],
            "orgId": v.org_ref(org)["id"],
            "siteName": v.site_name,
            "siteId": f"urn:vcloud:site:{names.uid('site', v.site_name)}",
            "fullId": f"{v.site_name}:{v.org_ref(org)['id']}",
            "sitePortalUrl": v.base,
            "accessible": True,
            "local": True,
        }
        for org in storage_orgs(v)
    ]


def org_by_id(v: View, org_id: str) -> int | None:
    return site_index(v.world, v.site).by_org_urn.get(org_id)


def ose_users(v: View, org: int) -> list[Record]:
    group = v.world.group_ids[org]
    return [
        {
            "name": user,
            "id": f"{group}:{user}",
            "fullName": f"{user} of {v.world.org_names[org]}",
            "role": "TENANT_ADMIN" if u == 0 else "TENANT_USER",
            "active": True,
            "currentRegion": v.site_name,
            "site": {"id": v.site_name, "name": v.site_name, "restEndpoint": v.base},
            "usage": common_usage(v, "USER", buckets_here(v, org, u)),
            "storageCanonicalId": names.uid("canonical", group, user).replace("-", ""),
            "policyArns": [],
            "sourceTenant": v.org_ref(org)["id"],
        }
        for u, user in enumerate(USERS)
    ]


def ose_buckets(v: View, org: int) -> list[Record]:
    b, policies = v.world.buckets, v.world.inventory.object_policies
    return [
        {
            "name": bucket_name(v, i),
            "owner": USERS[int(b.user[i])],
            "storagePolicy": policies[int(b.policy[i])].name,
            "creationDate": v.at(int(b.created[i])),
            "region": v.site_name,
            "usage": common_usage(v, "BUCKET", [i], quota=0),
        }
        for i in buckets_here(v, org)
    ]


def ose_backups(v: View, cluster: int) -> list[Record]:
    """Daily Velero backups (02:00 UTC) of a cluster, completed before the current hour."""
    cl, b = v.world.clusters, v.world.buckets
    bucket = int(cl.backup_bucket[cluster])
    if bucket < 0:
        return []
    first = max(int(cl.created[cluster]), -24 * 7)
    last = min(v.hour, int(cl.deleted[cluster]))
    daily_chunks = int(b.growth[bucket]) * 24
    out = []
    for hour in range(first + (2 - first) % 24, last, 24):
        when = v.start + timedelta(hours=hour)
        out.append(
            {
                "name": f"{v.cluster_name(cluster)}-daily-{when:%Y%m%d%H%M}",
                "phase": "Completed",
                "startTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "completionTime": (when + timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "bucket": bucket_name(v, bucket),
                "sizeBytes": daily_chunks * CHUNK_BYTES,
                "objectCount": daily_chunks * 3,
            }
        )
    return out


def group_of(v: View, group_id: str | None) -> int | None:
    return None if group_id is None else site_index(v.world, v.site).by_group.get(group_id)


def select(
    v: View, params: Mapping[str, str], *, history: bool = False
) -> tuple[int, list[int]] | None:
    """(org, bucket indexes) picked by groupId [+ userId] [+ bucketName/bucket]; None when
    the group, the user or a named bucket is unknown (the Admin API answers 400)."""
    org = group_of(v, params.get("groupId"))
    if org is None:
        return None
    user = params.get("userId")
    if user is not None and user not in USERS:
        return None
    idx = buckets_here(v, org, USERS.index(user) if user else None, history=history)
    wanted = params.get("bucketName") or params.get("bucket")
    if wanted:
        idx = [i for i in idx if bucket_name(v, i) == wanted]
        if not idx:
            return None
    return org, idx


def series(v: View, idx: list[int], op: str, lo: int, hi: int) -> tuple[Ints, Ints]:
    """Hourly values of ``op`` summed over buckets ``idx`` for hours ``[lo, hi)``, and how
    many of those buckets existed in each hour."""
    b = v.world.buckets
    hours = np.arange(lo, hi, dtype=np.int64)
    total = np.zeros(len(hours), dtype=np.int64)
    present = np.zeros(len(hours), dtype=np.int64)
    for i in idx:
        live = (b.created[i] <= hours) & (hours < b.deleted[i])
        present += live
        since = np.maximum(hours - max(int(b.created[i]), 0), 0)
        if op == "SB":
            values = (b.chunks0[i] + b.growth[i] * since) * CHUNK_BYTES
        elif op == "SO":
            values = b.objects0[i] + b.obj_growth[i] * since
        elif op in ("HG", "HP", "HD"):
            base = {"HG": b.req_get, "HP": b.req_put, "HD": b.req_delete}[op][i]
            values = base * DAY_WEIGHTS[hours % 24]
        elif op == "BI":  # bytes written: the hour's growth
            values = np.full(len(hours), b.growth[i] * CHUNK_BYTES)
        else:  # BO, bytes read: one chunk per GET
            values = b.req_get[i] * DAY_WEIGHTS[hours % 24] * CHUNK_BYTES
        total += np.where(live, values, 0).astype(np.int64)
    return total, present
