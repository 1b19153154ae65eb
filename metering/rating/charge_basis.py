"""Org VDC charge basis: per allocation model, what a rate card bills of a VDC's compute.

VCD's Org VDC allocation models (go-vcd ``types.VdcAllocationModel*``; tf-vcd ``vcd_org_vdc``
``allocation_model``): ``AllocationVApp`` (Pay-As-You-Go: no pool, VMs draw what they are
configured with), ``AllocationPool`` and ``ReservationPool`` (a CPU and memory pool allocated,
for a Reservation Pool wholly reserved), and ``Flex`` (a pool that may be elastic). Consolidation
meters both sides of a VDC billed on allocation: its VMs' vCPU and RAM under the dimension of
its model, and the VDC's allocation as ``vdc_cpu`` (GHz-hours) and ``vdc_ram`` (GiB-hours).

A card's ``[charge_basis]`` names, per model, the side it bills (docs/metering-rules.md):

- ``usage`` (the default): the VMs' ``vcpu``/``ram`` at the card's rates; the VDC's
  ``vdc_cpu``/``vdc_ram`` of that model are rated at 0.00 (shown, not charged);
- ``allocation``: the VDC's ``vdc_cpu``/``vdc_ram`` at the card's rates (which it must have);
  the VMs' ``vcpu``/``ram`` of that model at 0.00 (inside the allocation).

Pay-As-You-Go has no allocation and is always billed on usage; so is a Flex VDC without
allocation (consolidation gives it no model). The rates this module adds are exact-dimension
rates, so they win over the card's ``'*'`` rates, and a tenant's custom ``'*'`` rate does not
replace them (sql/intermediate/int_tenant_rates.sql): a custom vCPU price never bills the
compute an allocation already pays for.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from metering.rating.policy import Rate, Tier

if TYPE_CHECKING:
    from metering.rating.policy import _Doc

MODELS = ("AllocationPool", "ReservationPool", "Flex")
BASES = ("usage", "allocation")
DERIVED = "charge basis"
VM_PRODUCTS = ("vcpu", "ram")
VDC_PRODUCTS = ("vdc_cpu", "vdc_ram")


def _zero(product: str, model: str, why: str) -> Rate:
    return Rate(
        product=product,
        dimension=model,
        model="per_unit",
        tiers=(Tier(Decimal(0), None, Decimal(0)),),
        derived_from=f"{DERIVED}: {why}",
    )


def charge_basis_rates(doc: _Doc, rates: list[Rate]) -> list[Rate]:
    """The 0.00 rates that make a card bill each allocation model on its chosen basis."""
    table = doc.get(doc.data, ["charge_basis"], dict, {})
    for key in table:
        if key == "AllocationVApp":
            raise doc.error(["charge_basis", key], "Pay-As-You-Go VDCs are always billed on usage")
        if key not in MODELS:
            raise doc.error(["charge_basis", key], f"unknown allocation model; one of {MODELS}")
    have = {(r.product, r.dimension) for r in rates}
    added: list[Rate] = []
    for model in MODELS:
        path: list[str | int] = ["charge_basis", model]
        basis = doc.get(table, path, str, "usage")
        if basis not in BASES:
            raise doc.error(path, f"must be one of {BASES}, got {basis!r}")
        allocation = basis == "allocation"
        included = VM_PRODUCTS if allocation else VDC_PRODUCTS
        for product in VDC_PRODUCTS if allocation else ():
            if (product, model) not in have and (product, "*") not in have:
                raise doc.error(
                    path, f"{model} VDCs billed on {basis} need a {product} rate ({model} or '*')"
                )
        for product in included:
            if (product, model) in have:
                raise doc.error(
                    path,
                    f"{model} VDCs are billed on {basis}, but a {product} rate names {model}: "
                    "it would bill them twice",
                )
            why = (
                f"inside the {model} VDC's allocation"
                if allocation
                else f"{model} VDCs billed on usage"
            )
            added.append(_zero(product, model, why))
    return added
