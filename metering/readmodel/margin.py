"""The provider's margin page reads (metering.commerce.margin), kept per version of what
they read: the month's rating files and manifest and the cost cards. At 5,000 tenants the
margin query over the month's rated usage takes seconds; the files change a few times a
month."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metering.close.contract import SCHEMAS, rating_path
from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.rating.manifest import manifest_path
from metering.window import Window

_S3_TTL_SECONDS = 60.0


def _stat(path: LakePath | None) -> tuple[int, int] | None:
    if isinstance(path, Path):
        try:
            found = path.stat()
        except FileNotFoundError:
            return None
        return found.st_mtime_ns, found.st_size
    return None


def _version(config: ProviderConfig, month: Window) -> tuple[Any, ...]:
    from metering.commerce.costs import cost_dir

    files: list[LakePath] = [rating_path(config, t, month) for t in SCHEMAS]
    files.append(manifest_path(config.lake, month))
    if not all(isinstance(f, Path) for f in files):  # an S3 lake: looked at again a minute later
        files = []
        stamp: tuple[Any, ...] = (int(time.monotonic() // _S3_TTL_SECONDS),)
    else:
        stamp = ()
    costs = cost_dir(config)
    cards = sorted(costs.glob("*.toml")) if costs is not None and costs.is_dir() else []
    return (*stamp, *((str(f), _stat(f)) for f in [*files, *cards]), str(costs))


@dataclass(frozen=True)
class Margins:
    """A month's margin rows and the page's sums of them."""

    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]]  # per currency
    products: list[dict[str, Any]]  # per product and currency
    tenants: list[dict[str, Any]]  # per tenant, smallest margin first


class MarginCache:
    """:func:`metering.commerce.margin.margin_rows` of a few months and their sums, each
    kept while its inputs are unchanged (an error is not kept: the next page tries again)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._kept: dict[str, tuple[tuple[Any, ...], Margins]] = {}
        self._lock = threading.Lock()

    def margins(self, month: Window) -> Margins:
        from metering.commerce.margin import margin_rows, summarise, tenant_margins

        key, version = f"{month.start:%Y-%m}", _version(self.config, month)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        rows = margin_rows(self.config, month)
        found = Margins(
            rows, summarise(rows, "currency"), summarise(rows, "product"), tenant_margins(rows)
        )
        with self._lock:
            self._kept[key] = (version, found)
            while len(self._kept) > 3:
                self._kept.pop(next(iter(self._kept)))
        return found
