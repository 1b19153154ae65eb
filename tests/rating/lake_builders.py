"""Builders that write sample rows into a temporary lake, as the collectors do."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metering.config import ProviderConfig, parse_config
from metering.lake.store import write_partition

RUN_FIELDS = {"run_id": "r1", "source": "vcd"}


def make_config(tmp_path: Path, **rating: Any) -> ProviderConfig:
    """A provider config whose lake, pricing and catalog live under ``tmp_path``."""
    os.environ.setdefault("METERING_TEST_VCD_PASSWORD", "x")
    (tmp_path / "pricing").mkdir(exist_ok=True)
    catalog = tmp_path / "tenants.toml"
    if not catalog.exists():
        catalog.write_text("", encoding="utf-8")
    raw = {
        "provider": {
            "name": "test",
            "data_dir": str(tmp_path / "data"),
            "tenant_catalog": str(catalog),
            "pricing_dir": str(tmp_path / "pricing"),
        },
        "sites": [
            {
                "name": "az1",
                "vcd_url": "http://127.0.0.1:1/az1/vcd",
                "vcd_user": "admin",
                "vcd_password_env": "METERING_TEST_VCD_PASSWORD",
            }
        ],
        "rating": rating,
    }
    return parse_config(raw, tmp_path / "provider.toml")


def write_config_file(tmp_path: Path, rating: str = "") -> Path:
    """A provider.toml on disk (for the CLI), with lake, pricing and catalog under tmp_path."""
    os.environ.setdefault("METERING_TEST_VCD_PASSWORD", "x")
    (tmp_path / "pricing").mkdir(exist_ok=True)
    catalog = tmp_path / "tenants.toml"
    if not catalog.exists():
        catalog.write_text("", encoding="utf-8")
    path = tmp_path / "provider.toml"
    path.write_text(
        f"""[provider]
name = "test"
data_dir = "data"
tenant_catalog = "tenants.toml"
pricing_dir = "pricing"

[[sites]]
name = "az1"
vcd_url = "http://127.0.0.1:1/az1/vcd"
vcd_user = "admin"
vcd_password_env = "METERING_TEST_VCD_PASSWORD"

[rating]
{rating}
""",
        encoding="utf-8",
    )
    return path


def common(site: str, t: datetime, source: str) -> dict[str, Any]:
    return {
        "site": site,
        "source": source,
        "run_id": f"{source}-{t:%Y%m%dT%H}",
        "collected_at": t,
        "sample_time": t,
    }


def vm(t: datetime, site: str = "az1", **overrides: Any) -> dict[str, Any]:
    row = {
        **common(site, t, "vcd"),
        "vm_id": "urn:vcloud:vm:1",
        "vm_name": "web01",
        "org_name": "acme",
        "status": "POWERED_ON",
        "powered_on": True,
        "vcpu": 4,
        "memory_mb": 16384,
        "storage_mb": 102400,
        "storage_policy": "Gold",
        "is_tkg_node": False,
    }
    row.update(overrides)
    if "status" in overrides and "powered_on" not in overrides:
        row["powered_on"] = overrides["status"] == "POWERED_ON"
    return row


def dse(t: datetime, site: str = "az1", **overrides: Any) -> dict[str, Any]:
    row = {
        **common(site, t, "dse"),
        "instance_id": "urn:dse:pg1",
        "instance_name": "orders-pg",
        "org_name": "acme",
        "kind": "postgres",
        "solution_type": "VMware SQL with PostgreSQL",
        "replicas": 3,
        "service_cpu_millicores": 6000,
        "sidecar_cpu_millicores": 300,
        "operator_cpu_millicores": 500,
    }
    row.update(overrides)
    return row


def sb(start: datetime, end: datetime, site: str, nbytes: int, **kw: Any) -> dict[str, Any]:
    row = {
        **common(site, end, "cloudian"),
        "group_id": "g-acme",
        "user_id": "u1",
        "bucket": "backups",
        "storage_policy": "2DC-3R",
        "operation": "SB",
        "interval_start": start,
        "interval_end": end,
        "value": nbytes,
    }
    row.update(kw)
    return row


def write(
    lake: Path, dataset: str, t: datetime, rows: list[dict[str, Any]], site: str = "az1"
) -> None:
    write_partition(lake, dataset, site, t, rows)


def hour(day: int, h: int) -> datetime:
    return datetime(2026, 10, day, tzinfo=UTC).replace(hour=h)
