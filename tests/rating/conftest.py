"""Builders for rating tests: usage intervals, rate cards and catalogs with sensible defaults."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from metering.rating.catalog import load_catalog
from metering.rating.engine import connect
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.policy import load_pricing
from metering.rating.run import output_tables, rate_on, register_usage_table
from metering.rating.settings import RatingSettings
from metering.rating.tables import check_plans
from metering.window import Window

OCT = Window.month(2026, 10)
T0 = OCT.start


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def settings(**overrides: Any) -> RatingSettings:
    base: dict[str, Any] = {
        "default_plan": "std",
        "default_tax_rate": Decimal("0"),
        "gap": timedelta(hours=2),
        "cores_per_vcpu": Decimal(1),
        "dse_vcpus_per_core": Decimal(1),
        "dse_include_sidecars": False,
    }
    base.update(overrides)
    return RatingSettings(**base)


def make_interval(**overrides: Any) -> dict[str, Any]:
    """One usage interval: by default a 1-vCPU VM of org 'acme' in az1 for Oct 1."""
    row: dict[str, Any] = {
        "usage_date": None,
        "site": "az1",
        "dataset": "vcd_vm",
        "org_name": "acme",
        "resource_type": "vm",
        "resource_id": "urn:vcloud:vm:1",
        "resource_name": "web01",
        "parent_id": None,
        "product": "vcpu",
        "dimension": "",
        "measure": "level",
        "level": Decimal(1),
        "interval_start": at(1),
        "interval_end": at(2),
        "samples": 24,
    }
    row.update(overrides)
    row["level"] = Decimal(row["level"])
    if row["usage_date"] is None:
        row["usage_date"] = row["interval_start"].date()
    return row


def daily(start: datetime, end: datetime, **overrides: Any) -> list[dict[str, Any]]:
    """An interval cut at each UTC midnight, as consolidate_day writes it."""
    rows = []
    t = start
    while t < end:
        midnight = datetime(t.year, t.month, t.day, tzinfo=UTC) + timedelta(days=1)
        stop = min(midnight, end)
        rows.append(make_interval(interval_start=t, interval_end=stop, **overrides))
        t = stop
    return rows


CARD_HEAD = """\
[rate_card]
id = "{id}"
policy = "{policy}"
currency = "{currency}"
effective_from = {start}
{end}
{minimum}
"""


def write_card(
    directory: Path,
    body: str,
    *,
    card_id: str = "std-1",
    policy: str = "std",
    currency: str = "EUR",
    start: str = "2026-01-01T00:00:00Z",
    end: str | None = None,
    minimum: str | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    head = CARD_HEAD.format(
        id=card_id,
        policy=policy,
        currency=currency,
        start=start,
        end=f"effective_to = {end}" if end else "",
        minimum=f'minimum_monthly_charge = "{minimum}"' if minimum else "",
    )
    path = directory / f"{card_id}.toml"
    path.write_text(head + "\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def write_catalog(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


class Rater:
    """Rates hand-made usage intervals through the real SQL, in memory."""

    def __init__(self, tmp_path: Path) -> None:
        self.pricing_dir = tmp_path / "pricing"
        self.catalog = tmp_path / "tenants.toml"
        self.catalog.write_text("", encoding="utf-8")

    def card(self, body: str, **kw: Any) -> Path:
        return write_card(self.pricing_dir, body, **kw)

    def tenants(self, body: str) -> None:
        write_catalog(self.catalog, body)

    def rate(
        self,
        rows: Sequence[dict[str, Any]],
        month: Window = OCT,
        **settings_overrides: Any,
    ) -> dict[str, list[dict[str, Any]]]:
        s = settings(**settings_overrides)
        pricing = load_pricing(self.pricing_dir)
        catalog = load_catalog(self.catalog, s.default_plan)
        check_plans(pricing, catalog, s.default_plan)
        con = connect()
        try:
            register_usage_table(con, pa.Table.from_pylist(list(rows), schema=INTERVALS_SCHEMA))
            rate_on(con, month, s, pricing, catalog)
            tables = output_tables(con)
        finally:
            con.close()
        return {name: table.to_pylist() for name, table in tables.items()}


@pytest.fixture
def rater(tmp_path: Path) -> Rater:
    return Rater(tmp_path)


def totals_of(result: dict[str, list[dict[str, Any]]], tenant: str) -> dict[str, Any]:
    (row,) = [r for r in result["invoice_totals"] if r["tenant_id"] == tenant]
    return row


def lines_of(result: dict[str, list[dict[str, Any]]], tenant: str) -> list[dict[str, Any]]:
    return [r for r in result["invoice_lines"] if r["tenant_id"] == tenant]


_ = date
