"""Org VDC charge basis (docs/metering-rules.md): per allocation model, a rate card bills the
VMs' compute or the VDC's allocation, never both, whatever a tenant's custom rates say."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from metering.errors import PricingError
from metering.rating.policy import load_pricing
from tests.rating.conftest import OCT, Rater, daily, lines_of, totals_of, write_card

CARD = """
[charge_basis]
AllocationPool = "allocation"
Flex = "usage"

[[rates]]
product = "vcpu"
unit_price = "0.0125"

[[rates]]
product = "vdc_cpu"
dimension = "AllocationPool"
unit_price = "0.0060"

[[rates]]
product = "vdc_ram"
unit_price = "0.0030"
"""


def test_one_tenants_vdcs_billed_on_allocation_and_on_usage(rater: Rater) -> None:
    rater.card(CARD)
    rater.tenants(
        """
        [[tenants]]
        id = "acme"
        billing_name = "ACME"
        orgs = ["acme"]
        currency = "EUR"
        tax_rate = "0"
        plan = "std"
        custom_rates = { vcpu = "0.0100" }
        """
    )
    month = (OCT.start, OCT.end)
    rows = [
        # a Pay-As-You-Go VDC's VM, 2 vCPU all month: billed on usage at the custom rate
        *daily(*month, product="vcpu", level=2, resource_id="vm-payg"),
        # an Allocation Pool VDC's VM, 10 vCPU: inside the allocation
        *daily(*month, product="vcpu", dimension="AllocationPool", level=10, resource_id="vm-ap"),
        # the Allocation Pool VDC: 20 GHz and 32 GiB allocated all month
        *daily(*month, product="vdc_cpu", dimension="AllocationPool", level=20, resource_id="v1"),
        *daily(*month, product="vdc_ram", dimension="AllocationPool", level=32, resource_id="v1"),
        # a Flex VDC with an allocation, billed on usage: its VM's vCPU paid, its 8 GHz not
        *daily(*month, product="vcpu", dimension="Flex", level=4, resource_id="vm-flex"),
        *daily(*month, product="vdc_cpu", dimension="Flex", level=8, resource_id="v2"),
    ]
    result = rater.rate(rows)
    lines = {(x["product"], x["dimension"]): x for x in lines_of(result, "acme")}
    assert {k: v["list_amount"] for k, v in lines.items()} == {
        ("vcpu", ""): D("14.88"),  # 2 × 744 × 0.0100
        ("vcpu", "AllocationPool"): D("0.00"),  # the custom '*' rate does not reach it
        ("vcpu", "Flex"): D("29.76"),  # 4 × 744 × 0.0100
        ("vdc_cpu", "AllocationPool"): D("89.28"),  # 20 GHz × 744 × 0.0060
        ("vdc_ram", "AllocationPool"): D("71.42"),  # 32 GiB × 744 × 0.0030 = 71.424
        ("vdc_cpu", "Flex"): D("0.00"),
    }
    assert "charge basis" in lines[("vcpu", "AllocationPool")]["tier_detail"]
    assert lines[("vdc_cpu", "AllocationPool")]["quantity"] == D("14880")
    assert totals_of(result, "acme")["total_amount"] == D("205.34")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[charge_basis]\nAllocationVApp = "allocation"\n', r"always billed on usage"),
        ('[charge_basis]\nPool = "allocation"\n', r"charge_basis.Pool: unknown allocation model"),
        ('[charge_basis]\nFlex = "reservation"\n', r"charge_basis.Flex: must be one of"),
        ('[charge_basis]\nFlex = "allocation"\n', r"need a vdc_cpu rate \(Flex or '\*'\)"),
        (
            '[charge_basis]\nFlex = "usage"\n\n[[rates]]\nproduct = "vdc_cpu"\n'
            'dimension = "Flex"\nunit_price = "1"\n',
            r"a vdc_cpu rate names Flex: it would bill them twice",
        ),
    ],
)
def test_bad_charge_basis_is_refused_naming_the_key(
    tmp_path: Path, body: str, message: str
) -> None:
    write_card(tmp_path, body)
    with pytest.raises(PricingError, match=message):
        load_pricing(tmp_path)
