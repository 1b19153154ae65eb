"""Hypothesis properties of rating: splits, tiers, conservation (the real SQL, in memory)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rating.conftest import OCT, Rater, at, make_interval

PROPERTY = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CARDS = (
    '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0125"\n\n'
    '[[rates]]\nproduct = "vm_disk"\ndimension = "*"\nunit_price = "0.12"\n'
)
levels = st.decimals(min_value=D("0.001"), max_value=D("512"), places=3)


def fresh_rater(tmp_path: Path, name: str) -> Rater:
    directory = tmp_path / name
    directory.mkdir(parents=True, exist_ok=True)
    return Rater(directory)


def totals(result: dict[str, list[dict[str, Any]]]) -> list[tuple[str, D]]:
    return [(t["tenant_id"], t["total_amount"]) for t in result["invoice_totals"]]


@PROPERTY
@given(
    level=levels,
    product=st.sampled_from(["vcpu", "vm_disk"]),
    cuts=st.lists(st.integers(min_value=1, max_value=24 * 60 - 1), max_size=6, unique=True),
    change_hour=st.integers(min_value=1, max_value=23),
)
def test_splitting_a_window_never_changes_the_total(
    tmp_path_factory: Any, level: D, product: str, cuts: list[int], change_hour: int
) -> None:
    tmp = tmp_path_factory.mktemp("split")
    rater = Rater(tmp)
    rater.card(CARDS, end=f"2026-10-05T{change_hour:02d}:00:00Z")
    rater.card(
        CARDS.replace("0.0125", "0.0110"),
        card_id="std-2",
        start=f"2026-10-05T{change_hour:02d}:00:00Z",
    )
    dim = "Gold" if product == "vm_disk" else ""
    whole = [
        make_interval(
            product=product, dimension=dim, level=level, interval_start=at(5), interval_end=at(6)
        )
    ]
    points = [at(5)] + [at(5) + timedelta(minutes=m) for m in sorted(cuts)] + [at(6)]
    pieces = [
        make_interval(product=product, dimension=dim, level=level, interval_start=a, interval_end=b)
        for a, b in itertools.pairwise(points)
    ]
    one, many = rater.rate(whole), rater.rate(pieces)
    assert totals(one) == totals(many)
    assert [x["quantity"] for x in one["invoice_lines"]] == [
        x["quantity"] for x in many["invoice_lines"]
    ]


TIERED = """
[[rates]]
product = "object_storage"
dimension = "*"
model = "graduated"
tiers = [ {tiers} ]
"""


@PROPERTY
@given(
    bounds=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=4, unique=True),
    prices=st.lists(
        st.decimals(min_value=D("0"), max_value=D("1"), places=4), min_size=5, max_size=5
    ),
    gbs=st.lists(st.integers(min_value=0, max_value=8000), min_size=2, max_size=2),
)
def test_graduated_tiers_are_monotone(
    tmp_path_factory: Any, bounds: list[int], prices: list[D], gbs: list[int]
) -> None:
    rater = Rater(tmp_path_factory.mktemp("tiers"))
    ups = sorted(bounds)
    bands = [f'{{ up_to = "{u}", unit_price = "{p}" }}' for u, p in zip(ups, prices, strict=False)]
    bands.append(f'{{ unit_price = "{prices[len(ups)]}" }}')
    rater.card(TIERED.format(tiers=", ".join(bands)))
    amounts = []
    for gb in sorted(gbs):
        row = make_interval(
            product="object_storage",
            dimension="X",
            level=gb,
            resource_type="bucket",
            interval_start=OCT.start,
            interval_end=OCT.end,
        )
        result = rater.rate([row] if gb else [])
        amounts.append(sum((x["list_amount"] for x in result["invoice_lines"]), D(0)))
        # the bands hold exactly the month's quantity
        assert sum((x["quantity"] for x in result["invoice_lines"]), D(0)) == D(gb)
    assert amounts[0] <= amounts[1]


@st.composite
def usage_rows(draw: Any) -> list[dict[str, Any]]:
    rows = []
    for n in range(draw(st.integers(min_value=1, max_value=8))):
        day = draw(st.integers(min_value=1, max_value=31))
        start_q = draw(st.integers(min_value=0, max_value=95))
        length_q = draw(st.integers(min_value=1, max_value=96 - start_q))
        start = at(day) + timedelta(minutes=15 * start_q)
        product, dim = draw(
            st.sampled_from([("vcpu", ""), ("vm_disk", "Gold"), ("ram", ""), ("dse_core", "pg")])
        )
        rows.append(
            make_interval(
                resource_id=f"r{n}",
                product=product,
                dimension=dim,
                level=draw(levels),
                org_name=draw(st.sampled_from(["acme", "beta", None])),
                site=draw(st.sampled_from(["az1", "az2"])),
                interval_start=start,
                interval_end=start + timedelta(minutes=15 * length_q),
            )
        )
    return rows


@PROPERTY
@given(rows=usage_rows(), end_day=st.integers(min_value=2, max_value=31))
def test_conservation_every_metered_quantity_is_rated_or_unrated(
    tmp_path_factory: Any, rows: list[dict[str, Any]], end_day: int
) -> None:
    rater = Rater(tmp_path_factory.mktemp("conservation"))
    rater.card(CARDS, end=f"2026-10-{end_day:02d}T00:00:00Z")  # usage after end_day has no price
    result = rater.rate(rows)  # the audits (conservation included) run inside
    for product in ("vcpu", "vm_disk", "ram", "dse_core"):
        metered = sum(
            (
                r["level"] * D((r["interval_end"] - r["interval_start"]).total_seconds()) / 3600
                for r in rows
                if r["product"] == product
            ),
            D(0),
        )
        rated = sum((r["quantity"] for r in result["rated_usage"] if r["product"] == product), D(0))
        unrated = sum(
            (r["quantity"] for r in result["unrated_usage"] if r["product"] == product), D(0)
        )
        assert rated + unrated == metered, product
