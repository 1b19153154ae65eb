"""Pricing and the tenant catalog as Arrow tables: the views rating SQL joins against.

These are small (rates × tenants), never usage rows. Types are exact: prices are
``decimal128(18, 9)``, fees and minimums ``decimal128(18, 2)``, instants UTC timestamps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pyarrow as pa

from metering.errors import ConfigError, PricingError
from metering.money import minor_unit
from metering.rating.catalog import Tenant
from metering.rating.policy import Pricing
from metering.rating.products import PRODUCTS

TS = pa.timestamp("us", tz="UTC")
PRICE = pa.decimal128(18, 9)
MONEY = pa.decimal128(18, 2)

RATES = pa.schema(
    [
        ("policy", pa.string()),
        ("rate_card_id", pa.string()),
        ("currency", pa.string()),
        ("valid_from", TS),
        ("valid_to", TS),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("model", pa.string()),
        ("per", pa.int32()),
        ("billing_basis", pa.string()),
        ("billing_unit", pa.string()),
        ("tier_no", pa.int32()),
        ("tier_lower", PRICE),
        ("tier_upper", PRICE),
        ("unit_price", PRICE),
        ("derived_from", pa.string()),
    ]
)
RATE_CARDS = pa.schema(
    [
        ("policy", pa.string()),
        ("rate_card_id", pa.string()),
        ("currency", pa.string()),
        ("valid_from", TS),
        ("valid_to", TS),
        ("minimum_monthly_charge", MONEY),
        ("source_file", pa.string()),
    ]
)
FIXED_FEES = pa.schema(
    [
        ("rate_card_id", pa.string()),
        ("fee_id", pa.string()),
        ("description", pa.string()),
        ("amount", MONEY),
    ]
)
PRODUCTS_SCHEMA = pa.schema(
    [
        ("product", pa.string()),
        ("usage_unit", pa.string()),
        ("billing_basis", pa.string()),
        ("billing_unit", pa.string()),
        ("label", pa.string()),
        ("service", pa.string()),
    ]
)
TENANTS = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("tenant_name", pa.string()),
        ("currency", pa.string()),
        ("minor_unit", pa.int32()),
        ("tax_rate", PRICE),
        ("plan", pa.string()),
        ("discount_rate", pa.decimal128(18, 12)),
        ("minimum_monthly_commitment", MONEY),
    ]
)
TENANT_ORGS = pa.schema([("org_name", pa.string()), ("tenant_id", pa.string())])
OVERRIDES = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("unit_price", PRICE),
    ]
)


def _table(schema: pa.Schema, rows: Sequence[Mapping[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=schema)


def pricing_tables(pricing: Pricing) -> dict[str, pa.Table]:
    """``rates``, ``rate_cards``, ``fixed_fees`` and ``products``."""
    rates, cards, fees = [], [], []
    for card in pricing.cards:
        head = {
            "policy": card.policy,
            "rate_card_id": card.card_id,
            "currency": card.currency,
            "valid_from": card.effective_from,
            "valid_to": card.effective_to,
        }
        cards.append(
            {
                **head,
                "minimum_monthly_charge": card.minimum_monthly_charge,
                "source_file": card.source,
            }
        )
        for rate in card.rates:
            product = PRODUCTS[rate.product]
            for no, tier in enumerate(rate.tiers, start=1):
                rates.append(
                    {
                        **head,
                        "product": rate.product,
                        "dimension": rate.dimension,
                        "model": rate.model,
                        "per": rate.per,
                        "billing_basis": product.billing_basis,
                        "billing_unit": product.billing_unit,
                        "tier_no": no,
                        "tier_lower": tier.lower,
                        "tier_upper": tier.upper,
                        "unit_price": tier.unit_price,
                        "derived_from": rate.derived_from,
                    }
                )
        fees += [
            {
                "rate_card_id": card.card_id,
                "fee_id": f.fee_id,
                "description": f.description,
                "amount": f.amount,
            }
            for f in card.fixed_fees
        ]
    products = [
        {
            "product": p.name,
            "usage_unit": p.usage_unit,
            "billing_basis": p.billing_basis,
            "billing_unit": p.billing_unit,
            "label": p.label,
            "service": p.service,
        }
        for p in PRODUCTS.values()
    ]
    return {
        "rates": _table(RATES, rates),
        "rate_cards": _table(RATE_CARDS, cards),
        "fixed_fees": _table(FIXED_FEES, fees),
        "products": _table(PRODUCTS_SCHEMA, products),
    }


def check_plans(pricing: Pricing, tenants: Sequence[Tenant], default_plan: str) -> None:
    """Every plan named exists, and each tenant's currency is its plan's currency."""
    if default_plan not in pricing.policies:
        raise ConfigError(
            f"[rating] default_plan: no pricing policy {default_plan!r} "
            f"(known: {', '.join(sorted(pricing.policies))})"
        )
    for tenant in tenants:
        if tenant.plan not in pricing.policies:
            raise ConfigError(
                f"tenant {tenant.tenant_id}: plan {tenant.plan!r} is no pricing policy"
            )
        if pricing.currency_of(tenant.plan) != tenant.currency:
            raise ConfigError(
                f"tenant {tenant.tenant_id}: currency {tenant.currency} differs from plan "
                f"{tenant.plan!r} ({pricing.currency_of(tenant.plan)})"
            )
    for policy in pricing.policies:
        if minor_unit(pricing.currency_of(policy)) > 2:
            raise PricingError(f"policy {policy!r}: currencies with 3 decimals are not supported")


def catalog_tables(tenants: Sequence[Tenant]) -> dict[str, pa.Table]:
    """``tenants``, ``tenant_orgs`` and ``tenant_rate_overrides``."""
    rows = [
        {
            "tenant_id": t.tenant_id,
            "tenant_name": t.billing_name,
            "currency": t.currency,
            "minor_unit": minor_unit(t.currency),
            "tax_rate": t.tax_rate,
            "plan": t.plan,
            "discount_rate": t.discount_percent / Decimal(100),
            "minimum_monthly_commitment": t.minimum_monthly_commitment,
        }
        for t in tenants
    ]
    orgs = [{"org_name": org, "tenant_id": t.tenant_id} for t in tenants for org in t.orgs]
    overrides = [
        {"tenant_id": t.tenant_id, "product": p, "dimension": d, "unit_price": price}
        for t in tenants
        for (p, d), price in sorted(t.custom_rates.items())
    ]
    return {
        "tenants": _table(TENANTS, rows),
        "tenant_orgs": _table(TENANT_ORGS, orgs),
        "tenant_rate_overrides": _table(OVERRIDES, overrides),
    }
