"""Rating settings: the ``[rating]`` section of the provider config (all keys optional).

::

    [rating]
    default_plan = "standard"       # policy for unmapped orgs and tenants without a plan
    default_tax_rate = "0"          # tax fraction for unmapped tenants
    gap_intervals = 2               # a sample holds at most this many sampling intervals
    dse_vcpus_per_core = "1"        # DSE: vCPUs that make one core (1, 2, 4 ...)
    dse_include_sidecars = false    # DSE: count sidecar containers' CPU limits too
    series_site_order = ["az1", "az2"]  # a series several sites report: billed at the tenant's
                                    # home_site (catalog), else the first of these (default:
                                    # the order of [[sites]])
    stale_days = "reconsolidate"    # a day consolidated with other settings: "reconsolidate"
                                    # it before rating, or "refuse" naming the command
    memory_limit = "3GB"            # DuckDB's cap while rating a month (MB or GB); spills past it
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from metering.config import ProviderConfig, Section

_NANO = Decimal("0.000000001")
# Measured at full size, 31 days: peak 3.52 GiB at 3GB, CPU 358 s; 2.57 GiB at 2GB,
# CPU 409 s (more spilled). The process needs ~0.7 GiB beside DuckDB: keep the cap ~1 GiB
# under the host's memory for rating.
DEFAULT_MEMORY_LIMIT = "3GB"
_MEMORY = re.compile(r"[1-9][0-9]*(MB|GB)")


@dataclass(frozen=True)
class RatingSettings:
    default_plan: str
    default_tax_rate: Decimal
    gap: timedelta
    cores_per_vcpu: Decimal  # exact 1 / dse_vcpus_per_core
    dse_vcpus_per_core: Decimal
    dse_include_sidecars: bool
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    # the provider's sampling grid: a hold past its sample's own interval is filled (estimated)
    sampling_interval: timedelta = timedelta(hours=1)
    # the site a series several sites report is billed at, after the tenant's home site
    series_site_order: tuple[str, ...] = ()
    # (org name, home site) from the tenant catalog; consolidation fills it in
    home_sites: tuple[tuple[str, str], ...] = ()
    stale_days: str = "reconsolidate"


def _decimal(section: Section, key: str, default: str) -> Decimal:
    text = section.get(key, str, default)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise section.error(
            key, f"{text!r} is not a decimal number (write it as a string)"
        ) from None
    if not value.is_finite() or value < 0:
        raise section.error(key, f"must be a non-negative number, got {text!r}")
    return value


def rating_settings(config: ProviderConfig) -> RatingSettings:
    """Parse ``[rating]``; errors name the file and the key."""
    s = config.section("rating")
    gap_intervals = s.get("gap_intervals", int, 2)
    if gap_intervals < 1:
        raise s.error("gap_intervals", "must be at least 1")
    ratio = _decimal(s, "dse_vcpus_per_core", "1")
    if ratio <= 0:
        raise s.error("dse_vcpus_per_core", "must be positive")
    factor = Decimal(1) / ratio
    if factor != factor.quantize(_NANO) or factor * ratio != 1:
        raise s.error(
            "dse_vcpus_per_core", f"1/{ratio} is not an exact decimal; use 1, 2, 4, 5, 8 ..."
        )
    memory = s.get("memory_limit", str, DEFAULT_MEMORY_LIMIT)
    if not _MEMORY.fullmatch(memory):
        raise s.error("memory_limit", f'must be a size like "3GB" or "1500MB", got {memory!r}')
    tax = _decimal(s, "default_tax_rate", "0")
    if tax >= 1:
        raise s.error("default_tax_rate", "is a fraction (0.21 = 21 %)")
    return RatingSettings(
        default_plan=s.get("default_plan", str, "standard"),
        default_tax_rate=tax,
        gap=config.sampling_interval * gap_intervals,
        cores_per_vcpu=factor.quantize(_NANO),
        dse_vcpus_per_core=ratio,
        dse_include_sidecars=s.get("dse_include_sidecars", bool, False),
        memory_limit=memory,
        sampling_interval=config.sampling_interval,
        series_site_order=_site_order(s, tuple(site.name for site in config.sites)),
        stale_days=_stale_days(s),
    )


def _site_order(s: Section, configured: tuple[str, ...]) -> tuple[str, ...]:
    order = s.get("series_site_order", list, list(configured))
    if not all(isinstance(name, str) and name for name in order):
        raise s.error("series_site_order", "must be a list of site names")
    return tuple(order)


def _stale_days(s: Section) -> str:
    value = str(s.get("stale_days", str, "reconsolidate"))
    if value not in ("reconsolidate", "refuse"):
        raise s.error("stale_days", f'must be "reconsolidate" or "refuse", got {value!r}')
    return value
