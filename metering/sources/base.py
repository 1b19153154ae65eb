"""The small contract between the orchestration and the per-system collectors.

A collector module exposes ``PARTS``: a tuple of :class:`Part`, each an async function that
fills one or more datasets of its system from one site (``Context``) and returns a
:class:`~metering.sources.records.Batch` per dataset. Parts fail independently: if listing
sizing policies fails, the VMs are still written. Listings several parts need (orgs, TKG
clusters, sizing policies) are fetched once per run through :meth:`Context.shared`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metering.config import SiteConfig
from metering.errors import MeteringError
from metering.sources.http import SiteClient
from metering.sources.limits import Limits
from metering.sources.records import Batch, Record


@dataclass
class Context:
    """What a collector part sees: one site's client, the sample time, the series hours."""

    client: SiteClient
    sample_time: datetime
    series_hours: tuple[datetime, ...] = ()
    # Buckets the lake saw around those hours: a bucket deleted since is still read (its
    # history stays queryable), so re-reading an hour never drops its rows.
    known_buckets: tuple[dict[str, Any], ...] = ()
    # Ranges and known values rows are checked against before they are written
    limits: Limits = field(default_factory=Limits)
    _cache: dict[str, asyncio.Task[Any]] = field(default_factory=dict, repr=False)

    @property
    def site(self) -> SiteConfig:
        return self.client.site

    async def shared(self, key: str, factory: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``factory`` once per run for ``key``; every caller gets the same result/error."""
        task = self._cache.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._cache[key] = task
        return await asyncio.shield(task)


PartFn = Callable[[Context], Awaitable[list[Batch]]]


@dataclass(frozen=True)
class Part:
    """One unit of collection: the datasets it fills and the function that fills them."""

    datasets: tuple[str, ...]
    run: PartFn


async def enriching(batch: Batch, what: str, listing: Awaitable[list[Record]]) -> list[Record]:
    """The records of a listing that only enriches ``batch`` (e.g. the TKG clusters VMs are
    linked to): when it fails, the dataset is still written without it, and the failure is
    a note on the batch (the run log says what is missing; the run is ``partial``).
    Sources stay independent: a failed CSE listing never loses the VMs."""
    try:
        return await listing
    except MeteringError as exc:
        batch.notes.append(f"written without {what}: {exc}")
        return []
