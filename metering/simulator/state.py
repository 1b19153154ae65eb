"""State of the world at one hour, and overlaps of hour ranges, vectorised over resources."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from metering.simulator.tables import CHUNK_BYTES, Buckets, Ints, Snapshots

Bools = npt.NDArray[np.bool_]

# Requests per hour of day (UTC) relative to a bucket's base rate: quiet nights, busy days.
DAY_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 5, 5, 6, 6, 6, 5, 4, 3, 3, 2, 2, 1, 1], dtype=np.int64
)


def alive(created: Ints, deleted: Ints, h: int) -> Bools:
    return (created <= h) & (h < deleted)


def overlap(lo: Ints | int, hi: Ints | int, a: Ints | int, b: Ints | int) -> Ints:
    """Length of ``[lo, hi) ∩ [a, b)`` (0 when disjoint), element-wise."""
    out: Ints = np.maximum(0, np.minimum(hi, b) - np.maximum(lo, a)).astype(np.int64)
    return out


def weight_prefix(lo: int, hi: int) -> Ints:
    """``P[k] = Σ DAY_WEIGHTS[h % 24]`` for h in ``[lo, lo + k)``, k = 0 … hi - lo."""
    hours = np.arange(lo, hi, dtype=np.int64)
    out: Ints = np.concatenate([[0], np.cumsum(DAY_WEIGHTS[hours % 24])]).astype(np.int64)
    return out


def bucket_chunks(b: Buckets, h: int) -> Ints:
    """Stored chunks (2 MiB) of every bucket during hour ``h`` (0 when it does not exist)."""
    since = h - np.maximum(b.created, 0)
    level = b.chunks0 + b.growth * np.maximum(since, 0)
    return np.where(alive(b.created, b.deleted, h), level, 0).astype(np.int64)


def bucket_bytes(b: Buckets, h: int) -> Ints:
    return bucket_chunks(b, h) * CHUNK_BYTES


def bucket_objects(b: Buckets, h: int) -> Ints:
    since = np.maximum(h - np.maximum(b.created, 0), 0)
    return np.where(alive(b.created, b.deleted, h), b.objects0 + b.obj_growth * since, 0)


def requests(base: Ints, created: Ints, deleted: Ints, h: int) -> Ints:
    """Requests of each bucket in hour ``h`` (base rate × the hour-of-day weight)."""
    return np.where(alive(created, deleted, h), base * DAY_WEIGHTS[h % 24], 0).astype(np.int64)


def snapshots_at(s: Snapshots, h: int) -> dict[int, int]:
    """VM index → its snapshot (index into ``s``) for the snapshots that exist at hour ``h``
    (whether the VM is listed then is the VM's own lifetime)."""
    live = np.flatnonzero(alive(s.taken, s.removed, h))
    return dict(zip(s.vm[live].tolist(), live.tolist(), strict=True))
