"""A seeded fixture month that exercises every rating rule, for engine-equality tests.

Three sites; per-unit, graduated and volume tiers (tiers span sites); a rate-card change at
an odd instant (06:00:00 on the 10th) and the shipped policy's change on the 15th; GB-month
products; per-1,000 requests; custom rates, discounts, minimums, fixed fees; a JPY tenant
(no minor unit); unmapped orgs; usage with no tenant and usage with no price; levels with
nine decimals and intervals ending on odd seconds (the nano-hour floors).
"""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from metering.config import ProviderConfig
from metering.lake.store import write_file
from metering.rating.consolidate import current_recorded, intervals_path
from metering.rating.day_digest import checked, with_digest
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.provenance import stamp
from metering.resources import resource_dir
from metering.window import Window

OCT = Window.month(2026, 10)
SITES = ("az1", "az2", "az3")
ORGS = ("acme", "acme-dr", "beta", "gamma", "stranger", "shadow")

TIERED = """\
[rate_card]
id = "tiered-{n}"
policy = "tiered"
currency = "EUR"
effective_from = {start}
{end}
minimum_monthly_charge = "40.00"

[[rates]]
product = "vcpu"
unit_price = "{vcpu}"

[[rates]]
product = "ram"
unit_price = "0.0035"

[[rates]]
product = "object_storage"
dimension = "*"
model = "graduated"
tiers = [ {{ up_to = "3", unit_price = "0.02" }}, {{ up_to = "7.5", unit_price = "0.017" }},
  {{ unit_price = "0.015" }} ]

[[rates]]
product = "vm_disk"
dimension = "*"
model = "volume"
tiers = [ {{ up_to = "20", unit_price = "0.11" }}, {{ unit_price = "0.09" }} ]

[[rates]]
product = "object_requests"
dimension = "*"
unit_price = "0.0004"
per = 1000

[[fixed_fees]]
id = "support"
description = "Support, business hours"
amount = "25.00"
"""

YEN = """\
[rate_card]
id = "yen-1"
policy = "yen"
currency = "JPY"
effective_from = 2026-01-01T00:00:00Z

[[rates]]
product = "vcpu"
unit_price = "1.7"

[[rates]]
product = "vm_disk"
dimension = "*"
unit_price = "13.3"
"""

CATALOG = """\
[[tenants]]
id = "acme"
billing_name = "ACME"
orgs = ["acme", "acme-dr"]
currency = "EUR"
tax_rate = "0.21"
plan = "standard"
discount_percent = "7.5"
custom_rates = { ram = "0.0037", "vm_disk:Gold" = "0.115" }

[[tenants]]
id = "beta"
billing_name = "Beta"
orgs = ["beta"]
currency = "EUR"
tax_rate = "0.19"
plan = "tiered"
minimum_monthly_commitment = "500.00"

[[tenants]]
id = "gamma"
billing_name = "Gamma"
orgs = ["gamma"]
currency = "JPY"
tax_rate = "0.10"
plan = "yen"

[[tenants]]
id = "idle"
billing_name = "Idle"
orgs = ["idle"]
currency = "EUR"
tax_rate = "0.21"
plan = "tiered"
"""

PRODUCTS = (
    ("vcpu", ("",), "vm", "level"),
    ("ram", ("",), "vm", "level"),
    ("vm_disk", ("Gold", "Silver"), "vm", "level"),
    ("object_storage", ("2DC-3R", "EC-4+2"), "bucket", "level"),
    ("object_requests", ("GET", "PUT"), "bucket", "count"),
    ("alp_instance", ("bitnami-wordpress",), "alp_app", "level"),
    ("dse_core", ("postgres", "mongodb"), "dse_instance", "level"),
    ("tkg_cluster", ("",), "tkg_cluster", "level"),
)


def write_inputs(root: Path) -> tuple[Path, Path]:
    """The pricing folder (shipped policy + fixture cards) and the tenant catalog."""
    pricing = root / "pricing"
    pricing.mkdir(parents=True, exist_ok=True)
    for card in resource_dir("pricing").glob("*.toml"):
        shutil.copy(card, pricing / card.name)
    change = "2026-10-10T06:00:00Z"
    first = TIERED.format(
        n=1, start="2026-01-01T00:00:00Z", end=f"effective_to = {change}", vcpu="0.013"
    )
    (pricing / "tiered-1.toml").write_text(first, encoding="utf-8")
    second = TIERED.format(n=2, start=change, end="", vcpu="0.0115")
    (pricing / "tiered-2.toml").write_text(second, encoding="utf-8")
    (pricing / "yen-1.toml").write_text(YEN, encoding="utf-8")
    catalog = root / "tenants.toml"
    catalog.write_text(textwrap.dedent(CATALOG), encoding="utf-8")
    return pricing, catalog


def _resource_rows(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    site = SITES[n % len(SITES)]
    org = ORGS[rng.integers(len(ORGS))]
    product, dimensions, kind, measure = PRODUCTS[rng.integers(len(PRODUCTS))]
    dimension = dimensions[rng.integers(len(dimensions))]
    if product in ("object_storage", "object_requests") and rng.random() < 0.15:
        org = None  # a Cloudian group that maps to no VCD org
    start = OCT.start + timedelta(seconds=int(rng.integers(0, 31 * 86400 - 7200)))
    end = min(OCT.end, start + timedelta(seconds=int(rng.integers(600, 9 * 86400))))
    level = Decimal(int(rng.integers(1, 400_000_000_000))) / Decimal(1_000_000_000)
    if measure == "count":
        level = Decimal(int(rng.integers(1, 50_000)))
    rows, t = [], start
    while t < end:
        midnight = datetime(t.year, t.month, t.day, tzinfo=UTC) + timedelta(days=1)
        # a level holds until midnight (or its end); requests are counted over one hour that
        # stays inside the day, as consolidation cuts Cloudian's hours (no two overlap)
        stop = min(midnight, end) if measure == "level" else min(midnight, t + timedelta(hours=1))
        rows.append(
            {
                "usage_date": t.date(),
                "site": site,
                "dataset": kind,
                "org_name": org,
                "resource_type": kind,
                "resource_id": f"{site}:{kind}:{n}",
                "resource_name": f"{kind}-{n}",
                "parent_id": None,
                "product": product,
                "dimension": dimension,
                "measure": measure,
                "level": level,
                "interval_start": t,
                "interval_end": stop,
                "samples": 1,
            }
        )
        t = midnight
    return rows


def usage(resources: int = 400, seed: int = 11) -> pa.Table:
    """Seeded usage intervals of the fixture month, as consolidate_day writes them."""
    rng = np.random.default_rng(seed)
    rows = [row for n in range(resources) for row in _resource_rows(rng, n)]
    return pa.Table.from_pylist(rows, schema=INTERVALS_SCHEMA)


def write_lake(config: ProviderConfig, table: pa.Table) -> None:
    """One ``usage_intervals`` file per day of the month (empty days too), each recording the
    provider's current settings, as consolidate_day would (so rating takes them as they are)."""
    recorded = current_recorded(config)
    for day in OCT.days():
        day_table = table.filter(pc.field("usage_date") == day)
        day_table = with_digest(stamp(day_table, recorded), checked(day_table, day))
        write_file(intervals_path(config.lake_dir, day), day_table)
