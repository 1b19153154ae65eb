"""One closed month for the commerce tests (building it takes a while): the gate's month
lake (``acme`` on az1, ``beta`` on az2: one VM each, 4 vCPU, 16 GiB, 100 GB, all month),
rated and closed, its warehouse built, a proposed price book and two cost cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from metering.close.run import close_month
from metering.config import ProviderConfig
from metering.rating.warehouse import build_warehouse
from tests.close.month_lake import AFTER, CARD, OCT, build
from tests.rating.conftest import write_card

PROPOSED = CARD.replace('unit_price = "0.0125"', 'unit_price = "0.02"')
COST_HEAD = """[cost_card]
id = "{id}"
currency = "EUR"
effective_from = {start}
{end}
licence_point_value = "0.90"
"""
COSTS = """
[[costs]]
product = "vcpu"
kind = "licence"
points = "0.0035"

[[costs]]
product = "vcpu"
kind = "infrastructure"
unit_cost = "{vcpu}"

[[costs]]
product = "ram"
kind = "infrastructure"
unit_cost = "0.0012"

[[costs]]
product = "vm_disk"
dimension = "Gold"
kind = "infrastructure"
unit_cost = "0.06"

[[costs]]
product = "vm_disk"
kind = "infrastructure"
unit_cost = "0.50"
"""


def write_costs(directory: Path) -> None:
    """Two cost cards: the vCPU's infrastructure cost rises on 16 October."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, start, end, vcpu in (
        ("costs-a", "2026-01-01", "effective_to = 2026-10-16", "0.004"),
        ("costs-b", "2026-10-16", "", "0.005"),
    ):
        head = COST_HEAD.format(id=name, start=start, end=end)
        (directory / f"{name}.toml").write_text(head + COSTS.format(vcpu=vcpu), encoding="utf-8")


@pytest.fixture(scope="session")
def closed_month(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProviderConfig, Path, Path]:
    root = tmp_path_factory.mktemp("commerce") / "provider"
    config = build(root)
    write_costs(config.pricing_dir / "costs")
    close_month(config, OCT, now=AFTER, show_progress=False)
    build_warehouse(config)
    proposed = root.parent / "proposed"
    write_card(proposed, PROPOSED, card_id="std-2027")
    return config, root, proposed
