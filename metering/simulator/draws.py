"""Random draws the simulated world is built from: repeated columns, ordinals, lifetimes."""

from __future__ import annotations

import numpy as np

from metering.simulator.tables import BEFORE, NEVER, Ints


def rep(values: Ints, counts: Ints) -> Ints:
    return np.repeat(values, counts).astype(np.int64)


def ordinals(counts: Ints) -> Ints:
    starts = np.cumsum(counts) - counts
    return (np.arange(int(counts.sum())) - np.repeat(starts, counts)).astype(np.int64)


def lifetimes(
    rng: np.random.Generator, n: int, hours: int, p_new: float, p_gone: float
) -> tuple[Ints, Ints]:
    created = np.where(
        rng.random(n) < p_new, rng.integers(1, max(2, hours - 48), n), BEFORE
    ).astype(np.int64)
    start = np.maximum(created, 0) + 24
    span = np.maximum(hours - start, 1)
    deleted = start + (rng.random(n) * span).astype(np.int64)
    gone = (rng.random(n) < p_gone) & (start < hours - 1)
    return created, np.where(gone, deleted, NEVER).astype(np.int64)
