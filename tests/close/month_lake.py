"""A whole collected month in a lake, as the collectors and the nightly runs leave it.

Two sites, every source of a VCD-only site (VCD, CSE, ALP, DSE) sampled at every instant of
a 6-hour grid (few files, same rules as hourly) and every night consolidated: the close's
gate has nothing to object to. Tenant ``acme`` runs a VM on az1, ``beta`` one on az2. Tests
then take something away (a night, a sample, a price) and watch the gate.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from metering.config import ProviderConfig, load_config
from metering.lake.schemas import datasets_of
from metering.lake.store import write_partition
from metering.rating.consolidate import consolidate_day
from metering.window import Window
from tests.rating.conftest import write_card
from tests.rating.lake_builders import vm

OCT = Window.month(2026, 10)
AFTER = datetime(2026, 11, 2, 6, tzinfo=UTC)  # the month ended, its grace passed
INTERVAL = timedelta(hours=6)
SOURCES = ("vcd", "cse", "alp", "dse")
VMS = {"az1": ("acme", "urn:vcloud:vm:a1"), "az2": ("beta", "urn:vcloud:vm:b1")}
CARD = """
[[rates]]
product = "vcpu"
unit_price = "0.0125"

[[rates]]
product = "ram"
unit_price = "0.002"

[[rates]]
product = "vm_disk"
dimension = "*"
unit_price = "0.10"
"""
CATALOG = """
[[tenants]]
id = "acme"
billing_name = "ACME Industries GmbH"
orgs = ["acme"]
currency = "EUR"
tax_rate = "0.21"
plan = "std"

[[tenants]]
id = "beta"
billing_name = "Beta Labs B.V."
orgs = ["beta"]
currency = "EUR"
tax_rate = "0.21"
plan = "std"
"""


def write_provider(root: Path, extra: str = "") -> Path:
    """provider.toml (two VCD-only sites, a 6-hour grid), catalog and rate card."""
    os.environ.setdefault("METERING_TEST_VCD_PASSWORD", "x")
    root.mkdir(parents=True, exist_ok=True)
    sites = "".join(
        f"""
[[sites]]
name = "{site}"
vcd_url = "http://127.0.0.1:1/{site}/vcd"
vcd_user = "admin"
vcd_password_env = "METERING_TEST_VCD_PASSWORD"
"""
        for site in VMS
    )
    (root / "provider.toml").write_text(
        f"""[provider]
name = "test"
data_dir = "data"
tenant_catalog = "tenants.toml"
pricing_dir = "pricing"
sampling_interval_minutes = 360

[rating]
default_plan = "std"

[invoicing]
workers = 1
{extra}
{sites}""",
        encoding="utf-8",
    )
    (root / "tenants.toml").write_text(CATALOG, encoding="utf-8")
    write_card(root / "pricing", CARD)
    return root / "provider.toml"


def collect_instant(config: ProviderConfig, t: datetime, site: str) -> None:
    """What a successful collection of ``site`` at ``t`` leaves: every sample file."""
    org, vm_id = VMS[site]
    for source in SOURCES:
        for dataset in datasets_of(source):
            rows = [vm(t, site, org_name=org, vm_id=vm_id)] if dataset.name == "vcd_vm" else []
            write_partition(config.lake, dataset.name, site, t, rows)


def build(root: Path) -> ProviderConfig:
    """The complete month under ``root``."""
    config = load_config(write_provider(root))
    for t in OCT.steps(INTERVAL):
        for site in VMS:
            collect_instant(config, t, site)
    for day in OCT.days():
        consolidate_day(config, day)
    return config


def copy(template: Path, root: Path) -> ProviderConfig:
    """A fresh copy of a built month (building one takes a while)."""
    shutil.copytree(template, root)
    return load_config(root / "provider.toml")
