"""Stable names and ids of simulated resources, derived (not stored) from their indexes."""

from __future__ import annotations

import functools
import hashlib
import re
import uuid

_NS = uuid.UUID("6f1c2b1e-9a57-4c1e-8d3c-5a0c0b5e7d21")
_NS_BYTES = _NS.bytes
CLUSTER_LABELS = ("prod", "dev", "data", "ci", "edge")
BUCKET_LABELS = ("assets", "logs", "backups", "media", "exports", "archive")


@functools.lru_cache(maxsize=2**20)
def uid(*parts: object) -> str:
    """A deterministic UUID for a resource (its kind, seed, site and index); memoised, as
    every hourly view names the same resources again."""
    # uuid.uuid5 by hand (SHA-1 of namespace + name, version and variant bits): the same
    # text, without building a UUID object; a full-size site names ~100,000 resources.
    name = _NS_BYTES + "/".join(map(str, parts)).encode()
    digest = bytearray(hashlib.sha1(name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def slug(name: str) -> str:
    """Lower-case ASCII letters, digits and '-' (Cloudian group ids, bucket names)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def group_id(org_name: str) -> str:
    """The Cloudian group of an org: its name when that is already a valid id, else a slug
    plus a short hash so that distinct names never share a group."""
    plain = slug(org_name)
    if plain == org_name:
        return plain
    digest = hashlib.sha256(org_name.encode()).hexdigest()[:6]
    return f"{plain}-{digest}" if plain else f"org-{digest}"


def cluster_name(ordinal: int) -> str:
    label = CLUSTER_LABELS[ordinal % len(CLUSTER_LABELS)]
    return f"k8s-{label}" if ordinal < len(CLUSTER_LABELS) else f"k8s-{label}-{ordinal}"


def bucket_name(org_name: str, ordinal: int) -> str:
    label = BUCKET_LABELS[ordinal % len(BUCKET_LABELS)]
    return f"{group_id(org_name)}-{label}-{ordinal}"


def velero_bucket_name(org_name: str, cluster: str, cluster_index: int) -> str:
    return f"{group_id(org_name)}-velero-{cluster}-{cluster_index}"
