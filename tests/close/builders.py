"""Builders for close/report tests: a provider config and rating outputs with the contract's
columns, written as Parquet from the static case in tests/cases/close/month.json."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from metering.close.contract import SCHEMAS
from metering.config import ProviderConfig, load_config
from metering.lake.schemas import schema as lake_schema
from metering.lake.store import write_partition
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.manifest import write_manifest
from metering.window import Window

CASES = Path(__file__).resolve().parent.parent / "cases" / "close"
MONTH = Window.month(2026, 10)
FROZEN_NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)

_LINE_COLS = (
    "tenant_id",
    "line_no",
    "service",
    "product",
    "dimension",
    "site",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "rate_card_id",
    "price_from",
    "price_to",
    "tier_detail",
    "list_amount",
    "estimated",
    "currency",
    "filled_hours",
)


def load_case() -> dict[str, Any]:
    return dict(json.loads((CASES / "month.json").read_text(encoding="utf-8")))


def make_config(tmp: Path, *, invoicing: str = "", workers: int = 1) -> ProviderConfig:
    """A provider config under ``tmp`` with the case's tenant catalog and a pricing dir."""
    (tmp / "pricing").mkdir(parents=True, exist_ok=True)
    (tmp / "pricing" / "standard.toml").write_text('# rate card stand-in\nvcpu = "0.0125"\n')
    shutil.copy(CASES / "tenants.toml", tmp / "tenants.toml")
    (tmp / "vcd.secret").write_text("pw")
    (tmp / "provider.toml").write_text(
        f"""
[provider]
name = "example-cloud"
data_dir = "data"
tenant_catalog = "tenants.toml"
pricing_dir = "pricing"

[provider.branding]
legal_name = "Example Cloud GmbH"
address = ["Cloudweg 1", "20095 Hamburg", "Germany"]
vat_id = "DE123456789"
email = "billing@example.net"
bank = "IBAN DE00 1234 5678 9000 0000 00"
postal_address = {{ street = "Cloudweg 1", postcode = "20095", city = "Hamburg", country = "DE" }}
peppol_endpoint_id = "DE123456789"
peppol_endpoint_scheme = "9930"
iban = "DE89370400440532013000"
bic = "COBADEFFXXX"

[invoicing]
workers = {workers}
{invoicing}

# rating-output fixtures: no lake samples to measure coverage on (the gate's other checks,
# the nights and unrated usage, still apply: build_month consolidates every day)
[close]
coverage_threshold = "0"

[[sites]]
name = "az1"
vcd_url = "http://127.0.0.1:9/az1/vcd"
vcd_user = "admin"
vcd_password_file = "vcd.secret"
""",
        encoding="utf-8",
    )
    return load_config(tmp / "provider.toml")


def _write(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def rating_rows(case: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The case's rating outputs as Python rows (Decimals, dates) keyed by table."""
    month = MONTH.start.date()
    totals = [
        {
            **t,
            "month": month,
            **{k: Decimal(v) for k, v in t.items() if k.endswith(("amount", "adjustment", "rate"))},
        }
        for t in case["totals"]
    ]
    lines = []
    for raw in case["lines"]:
        row = dict(zip(_LINE_COLS, raw, strict=True))
        row.update(
            month=month,
            quantity=Decimal(row["quantity"]),
            unit_price=Decimal(row["unit_price"]),
            list_amount=Decimal(row["list_amount"]),
            filled_hours=Decimal(row["filled_hours"]),
            price_from=_ts(row["price_from"]),
            price_to=_ts(row["price_to"]),
        )
        lines.append(row)
    usage = []
    for tenant, site, rid, name, product, dim, unit, first, last, qty, amount in case["usage"]:
        for day in range(first, last + 1):
            usage.append(
                {
                    "month": month,
                    "tenant_id": tenant,
                    "site": site,
                    "resource_id": rid,
                    "resource_name": name,
                    "usage_date": date(2026, 10, day),
                    "product": product,
                    "dimension": dim,
                    "quantity": Decimal(qty),
                    "unit": unit,
                    "list_amount": Decimal(amount),
                }
            )
    return {
        "invoice_totals": totals,
        "invoice_lines": lines,
        "rated_usage": usage,
        "unrated_usage": [],
    }


def write_rating(config: ProviderConfig, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Write rating outputs where rating puts them (contract columns only), and publish
    them as rating does: the month's manifest naming them."""
    paths = {}
    for name, rows in tables.items():
        path = config.lake_dir / "rating" / name / f"month={MONTH.start:%Y-%m}" / "part.parquet"
        _write(path, rows, SCHEMAS[name])
        paths[name] = path
    write_manifest(config.lake, MONTH, paths)


def write_lake_extras(config: ProviderConfig, case: dict[str, Any]) -> None:
    """usage_intervals rows linking TKG nodes to clusters, and an OSE tenant usage sample."""
    t0 = _ts("2026-10-05")
    base = {
        "usage_date": date(2026, 10, 5),
        "dataset": "vcd_vm",
        "org_name": "evil-org",
        "product": "vcpu",
        "dimension": "",
        "measure": "level",
        "level": Decimal(2),
        "interval_start": t0,
        "interval_end": t0 + timedelta(hours=24),
        "samples": 24,
    }
    rows = [
        {
            **base,
            "site": s,
            "resource_type": "vm",
            "resource_id": r,
            "resource_name": r,
            "parent_id": c,
        }
        for s, r, c in case["node_clusters"]
    ]
    rows += [
        {
            **base,
            "site": s,
            "resource_type": "tkg_cluster",
            "resource_id": c,
            "resource_name": n,
            "parent_id": None,
            "product": "tkg_cluster",
            "dataset": "cse_cluster",
        }
        for s, c, n in case["clusters"]
    ]
    _write(
        config.lake_dir / "usage_intervals" / "date=2026-10-05" / "part.parquet",
        rows,
        INTERVALS_SCHEMA,
    )
    ose_schema = lake_schema("ose_tenant_usage")
    for site, org, objects, buckets, users in case["ose"]:
        sample = {name: None for name in ose_schema.names}
        sample.update(
            site=site,
            source="ose",
            run_id="r1",
            collected_at=_ts("2026-10-31T23:00:00"),
            sample_time=_ts("2026-10-31T23:00:00"),
            org_id=f"urn:{org}",
            org_name=org,
            used_bytes=500 * 2**30,
            object_count=objects,
            bucket_count=buckets,
            user_count=users,
        )
        path = (
            config.lake_dir / "ose_tenant_usage" / f"site={site}" / "date=2026-10-31" / "x.parquet"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([sample], schema=ose_schema)
        pq.write_table(table, path)


def write_storage_policy(config: ProviderConfig) -> None:
    """A Cloudian policy sample: 2DC-3R keeps 2 copies in DC1 and 1 in DC2."""
    schema = lake_schema("cloudian_storage_policy")
    t = _ts("2026-10-31T23:00:00")
    row = {name: None for name in schema.names}
    row.update(
        site="az1",
        source="cloudian",
        run_id="r1",
        collected_at=t,
        sample_time=t,
        policy_id="p1",
        policy_name="2DC-3R",
        scheme="REPLICATION",
        dc_count=2,
        data_centers=[
            {"dc": "DC1", "replicas": 2, "ec_k": None, "ec_m": None},
            {"dc": "DC2", "replicas": 1, "ec_k": None, "ec_m": None},
        ],
    )
    write_partition(config.lake_dir, "cloudian_storage_policy", "az1", t, [row])


def build_month(tmp: Path, **kwargs: Any) -> ProviderConfig:
    """Config + the static case's rating outputs + lake extras, ready to close."""
    config = make_config(tmp, **kwargs)
    case = load_case()
    write_rating(config, rating_rows(case))
    write_lake_extras(config, case)
    write_storage_policy(config)
    write_consolidated_days(config)
    return config


def write_consolidated_days(config: ProviderConfig) -> None:
    """An (empty) usage_intervals file for every day of the month not written yet: each
    night consolidated, as the close's gate requires."""
    for day in MONTH.days():
        path = config.lake_dir / "usage_intervals" / f"date={day}" / "part.parquet"
        if not path.is_file():
            _write(path, [], INTERVALS_SCHEMA)


def add_simple_tenants(config: ProviderConfig, count: int) -> dict[str, list[dict[str, Any]]]:
    """The case plus ``count`` small tenants (one vCPU line each), written; returns the rows."""
    tables = rating_rows(load_case())
    month = MONTH.start.date()
    for i in range(count):
        tid = f"t{i:04d}"
        amount = Decimal(10 + i).quantize(Decimal("0.01"))
        tables["invoice_totals"].append(
            {
                "month": month,
                "tenant_id": tid,
                "tenant_name": f"Tenant {i}",
                "currency": "EUR",
                "lines_amount": amount,
                "discount_amount": Decimal("0.00"),
                "minimum_adjustment": Decimal("0.00"),
                "subtotal_amount": amount,
                "tax_rate": Decimal("0"),
                "tax_amount": Decimal("0.00"),
                "total_amount": amount,
            }
        )
        tables["invoice_lines"].append(
            {
                "month": month,
                "tenant_id": tid,
                "line_no": 1,
                "service": "Compute",
                "product": "vcpu",
                "dimension": "",
                "site": "az1",
                "description": "vCPU",
                "quantity": amount * 80,
                "unit": "vCPU-hour",
                "unit_price": Decimal("0.0125"),
                "rate_card_id": "standard-2026",
                "price_from": MONTH.start,
                "price_to": MONTH.end,
                "tier_detail": "",
                "list_amount": amount,
                "estimated": False,
                "currency": "EUR",
            }
        )
    write_rating(config, tables)
    return tables
