"""The tenant catalog (``tenants.toml``): who is billed, in which currency, on which plan.

Format (docs/architecture.md "Tenant catalog")::

    [[tenants]]
    id = "acme"                        # stable tenant id (invoice key)
    billing_name = "ACME Corp"
    orgs = ["acme"]                    # VCD org names, in any site
    address = "1 Main St, Utrecht"
    locale = "nl_NL"
    currency = "EUR"                   # must equal the plan's rate-card currency
    tax_rate = "0.21"                  # a fraction, as a string: 21 % VAT
    plan = "standard"                  # a pricing policy name (pricing/*.toml)
    discount_percent = "10"            # on the subtotal of lines (optional)
    minimum_monthly_commitment = "100.00"  # optional floor before tax
    custom_rates = { vcpu = "0.0100", "vm_disk:Gold" = "0.10" }  # per-unit overrides
    home_site = "az1"                  # optional: where a series several sites report is billed
    einvoice = "peppol-ubl"            # optional e-invoices; keys: metering.einvoice.parties

An org no entry names becomes its own tenant ``unmapped:<org>`` on the default plan.
Errors are :class:`ConfigError` naming the file, line and key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from metering import tomlfile
from metering.einvoice.parties import buyer_einvoice
from metering.errors import ConfigError
from metering.rating.products import PRODUCTS
from metering.rating.toml_lines import KeyPath, locate

_NANO = Decimal("0.000000001")
_LIMIT = Decimal(10) ** 9  # unit prices are DECIMAL(18,9)
# a tenant id names files (showback, documents) and URLs: printable, no path separators
_ID = re.compile(r"[^\x00-\x1f\x7f/\\.][^\x00-\x1f\x7f/\\]{0,127}")


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    billing_name: str
    orgs: tuple[str, ...]
    address: str
    locale: str
    currency: str
    tax_rate: Decimal
    plan: str
    discount_percent: Decimal
    minimum_monthly_commitment: Decimal
    custom_rates: Mapping[tuple[str, str], Decimal]
    home_site: str | None = None


class _File:
    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.text = tomlfile.read_text(
            path, lambda p: ConfigError(f"cannot read tenant catalog {path.name}: {p}")
        )
        self.data = tomlfile.parse(self.text, lambda p: ConfigError(f"{path.name}: {p}"))

    def error(self, path: KeyPath, problem: str) -> ConfigError:
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        line = locate(self.text, path)
        return ConfigError(
            f"{self.name}:{line}: {key}: {problem}" if line else f"{self.name}: {key}: {problem}"
        )

    def text_of(self, raw: Mapping[str, Any], path: KeyPath, default: Any = ...) -> Any:
        name = str(path[-1])
        if name not in raw:
            if default is ...:
                raise self.error(path, "is required")
            return default
        if not isinstance(raw[name], str):
            raise self.error(path, f"must be a string, got {type(raw[name]).__name__}")
        return raw[name]

    def number(self, raw: Mapping[str, Any], path: KeyPath, default: Decimal) -> Decimal:
        value = raw.get(str(path[-1]))
        if isinstance(value, float):
            raise self.error(path, f'write numbers as strings ("{value}"), not floats')
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = self.text_of(raw, path)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise self.error(path, f"{text!r} is not a decimal number") from None
        try:  # quantize raises for a number too large to hold 9 decimals (1e99999)
            exact = number.is_finite() and number == number.quantize(_NANO)
        except InvalidOperation:
            exact = False
        if not exact or number < 0 or number >= _LIMIT:
            raise self.error(
                path,
                f"must be a non-negative number below 1,000,000,000 with at most 9 decimals, "
                f"got {text!r}",
            )
        return number


def _known_locale(name: str) -> bool:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(name)
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


def _custom_rates(f: _File, raw: Any, path: KeyPath) -> dict[tuple[str, str], Decimal]:
    if not isinstance(raw, dict):
        raise f.error(path, 'must be a table like { vcpu = "0.01", "vm_disk:Gold" = "0.10" }')
    rates = {}
    for key in raw:
        product, _, dimension = key.partition(":")
        if product not in PRODUCTS:
            raise f.error(path, f"{key!r}: unknown product {product!r}; one of {sorted(PRODUCTS)}")
        rates[(product, dimension or "*")] = f.number(raw, [*path, key], Decimal(0))
    return rates


def _money(f: _File, raw: Mapping[str, Any], path: KeyPath) -> Decimal:
    value = f.number(raw, path, Decimal(0))
    if value != value.quantize(Decimal("0.01")):
        raise f.error(path, f"an amount has at most 2 decimals, got {value}")
    return value


def _tenant(f: _File, raw: Any, i: int, default_plan: str) -> Tenant:
    path: list[str | int] = ["tenants", i]
    if not isinstance(raw, dict):
        raise f.error(path, "must be a table")
    orgs = raw.get("orgs")
    if not isinstance(orgs, list) or not orgs or not all(isinstance(o, str) for o in orgs):
        raise f.error([*path, "orgs"], "must be a non-empty list of VCD org names")
    tax = f.number(raw, [*path, "tax_rate"], Decimal(0))
    if tax >= 1:
        raise f.error([*path, "tax_rate"], f"is a fraction (0.21 = 21 %), got {tax}")
    discount = f.number(raw, [*path, "discount_percent"], Decimal(0))
    if discount > 100:
        raise f.error([*path, "discount_percent"], "must be at most 100")
    currency = f.text_of(raw, [*path, "currency"], "EUR")
    if len(currency) != 3 or not currency.isupper():
        raise f.error([*path, "currency"], f"must be an ISO 4217 code like EUR, got {currency!r}")
    tenant_id = f.text_of(raw, [*path, "id"])
    if not _ID.fullmatch(tenant_id):
        raise f.error(
            [*path, "id"],
            "must be 1-128 printable characters without '/', '\\' or a leading '.' "
            f"(it names files and URLs), got {tenant_id!r}",
        )
    locale = f.text_of(raw, [*path, "locale"], "en")
    if not _known_locale(locale):
        raise f.error([*path, "locale"], f"unknown locale {locale!r} (e.g. en, de_DE, fr_FR)")
    buyer_einvoice(raw, f"{f.name}: tenants[{i}]", tax)  # EN 16931 keys (metering.einvoice)
    return Tenant(
        tenant_id=tenant_id,
        billing_name=f.text_of(raw, [*path, "billing_name"]),
        orgs=tuple(orgs),
        address=f.text_of(raw, [*path, "address"], ""),
        locale=locale,
        currency=currency,
        tax_rate=tax,
        plan=f.text_of(raw, [*path, "plan"], default_plan),
        discount_percent=discount,
        minimum_monthly_commitment=_money(f, raw, [*path, "minimum_monthly_commitment"]),
        custom_rates=_custom_rates(f, raw.get("custom_rates", {}), [*path, "custom_rates"]),
        home_site=f.text_of(raw, [*path, "home_site"], "") or None,
    )


def load_catalog(path: Path, default_plan: str) -> tuple[Tenant, ...]:
    """Parse the tenant catalog; org names and tenant ids must each be unique."""
    f = _File(path)
    entries = f.data.get("tenants", [])
    if not isinstance(entries, list):
        raise f.error(["tenants"], "must be an array of tables ([[tenants]])")
    tenants = tuple(_tenant(f, raw, i, default_plan) for i, raw in enumerate(entries))
    owners: dict[str, str] = {}
    ids: set[str] = set()
    for i, tenant in enumerate(tenants):
        if tenant.tenant_id in ids or tenant.tenant_id.startswith("unmapped:"):
            raise f.error(
                ["tenants", i, "id"], f"duplicate or reserved tenant id {tenant.tenant_id!r}"
            )
        ids.add(tenant.tenant_id)
        for org in tenant.orgs:
            if org in owners:
                raise f.error(
                    ["tenants", i, "orgs"], f"org {org!r} is already in tenant {owners[org]!r}"
                )
            owners[org] = tenant.tenant_id
    return tenants
