"""Bill-to details from the tenant catalog (``sample_data/tenants.toml`` or the provider's own).

Only what an invoice prints is read here (name, address, locale, tax id, e-mail); pricing
keys of the same entries belong to rating. A tenant the catalog does not name (an
``unmapped:<org>`` tenant) is billed to its org name in the provider's default locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from metering import tomlfile
from metering.einvoice.parties import BuyerEInvoice, buyer_einvoice
from metering.errors import ConfigError


@dataclass(frozen=True)
class BillTo:
    """Who an invoice is addressed to."""

    tenant_id: str
    name: str
    address: tuple[str, ...]
    locale: str
    tax_id: str
    email: str
    mapped: bool
    einvoice: BuyerEInvoice | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "address": list(self.address),
            "locale": self.locale,
            "tax_id": self.tax_id,
            "email": self.email,
            "mapped": self.mapped,
        }
        if self.einvoice is not None and self.einvoice.formats:  # frozen with the document
            result["einvoice"] = self.einvoice.as_dict()
        return result


def _lines(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(line.strip() for line in value.replace(",", "\n").splitlines() if line.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}.address: must be a string or a list of strings")


def _entry(raw: Mapping[str, Any], where: str, default_locale: str) -> BillTo:
    tenant_id = raw.get("id")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise ConfigError(f"{where}.id: is required")
    locale = raw.get("locale", default_locale)
    try:
        Locale.parse(str(locale).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ConfigError(f"{where}.locale: unknown locale {locale!r}") from None
    try:
        tax_rate = Decimal(str(raw.get("tax_rate", "0")))
    except InvalidOperation:
        raise ConfigError(f"{where}.tax_rate: not a decimal number") from None
    return BillTo(
        tenant_id=tenant_id,
        name=str(raw.get("billing_name") or tenant_id),
        address=_lines(raw.get("address"), where),
        locale=str(locale).replace("-", "_"),
        tax_id=str(raw.get("tax_id") or raw.get("vat_id") or ""),
        email=str(raw.get("email") or raw.get("billing_email") or ""),
        mapped=True,
        einvoice=buyer_einvoice(raw, where, tax_rate),
    )


def load_bill_to(catalog: Path, default_locale: str) -> dict[str, BillTo]:
    """Every catalog entry's bill-to, by tenant id. A missing catalog is an error."""
    text = tomlfile.read_text(
        catalog, lambda p: ConfigError(f"cannot read tenant catalog {catalog}: {p}")
    )
    raw = tomlfile.parse(text, lambda p: ConfigError(f"{catalog.name}: {p}"))
    entries = raw.get("tenants", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{catalog.name}: tenants: must be an array of tables")
    result: dict[str, BillTo] = {}
    for i, entry in enumerate(entries):
        bill_to = _entry(entry, f"{catalog.name}: tenants[{i}]", default_locale)
        result[bill_to.tenant_id] = bill_to
    return result


def bill_to_for(
    tenant_id: str, tenant_name: str, catalog: Mapping[str, BillTo], default_locale: str
) -> BillTo:
    """The catalog's bill-to, or one made from the tenant's name for an unmapped org."""
    if tenant_id in catalog:
        return catalog[tenant_id]
    return BillTo(tenant_id, tenant_name or tenant_id, (), default_locale, "", "", mapped=False)
