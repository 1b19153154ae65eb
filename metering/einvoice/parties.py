"""What EN 16931 needs to know about the buyer (tenant catalog) and the seller (issuer).

Catalog keys of one ``[[tenants]]`` entry (all optional while ``einvoice = "none"``)::

    einvoice = "both"                  # none | peppol-ubl | factur-x | both
    vat_id = "NL123456789B01"          # BT-48 buyer VAT identifier
    buyer_reference = "PO-4711"        # BT-10 (Peppol: required)
    peppol_endpoint_id = "NL123456789B01"   # BT-49 electronic address (Peppol: required)
    peppol_endpoint_scheme = "9944"    # its EAS code: 4 digits (9944 NL VAT, 0208 BE, 9930 DE VAT)
    postal_address = { street = "Stationsplein 1", postcode = "3511 ED", city = "Utrecht",
                       country = "NL" }   # (one line in TOML)
    vat_category = "S"                 # S (rate > 0, the default), Z, E or AE (rate 0)
    vat_exemption_reason = "..."       # required with E

``[provider.branding]`` keys for the seller: ``vat_id`` (BT-31), ``postal_address`` (as
above, BG-5), ``peppol_endpoint_id`` / ``peppol_endpoint_scheme`` (BT-34), ``iban`` / ``bic``
(BG-17 payment account, SEPA credit transfer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from metering.errors import ConfigError

FORMATS = {"none": (), "peppol-ubl": ("peppol-ubl",), "factur-x": ("factur-x",)}
FORMATS["both"] = ("peppol-ubl", "factur-x")
CATEGORIES = ("S", "Z", "E", "AE")
_COUNTRY = re.compile(r"[A-Z]{2}")
_SCHEME = re.compile(r"[0-9]{4}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")


@dataclass(frozen=True)
class PostalAddress:
    street: str
    postcode: str
    city: str
    country: str

    def as_dict(self) -> dict[str, str]:
        return {
            "street": self.street,
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
        }


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: must be a string, got {type(value).__name__}")
    return value.strip()


def postal_address(raw: Mapping[str, Any], where: str) -> PostalAddress | None:
    """``postal_address = { street, postcode, city, country }`` or None when absent."""
    value = raw.get("postal_address")
    if value is None:
        return None
    here = f"{where}.postal_address"
    if not isinstance(value, dict):
        raise ConfigError(f"{here}: must be a table {{ street, postcode, city, country }}")
    if unknown := set(value) - {"street", "postcode", "city", "country"}:
        raise ConfigError(f"{here}: unknown key(s) {sorted(unknown)}")
    country = _text(value, "country", here)
    if not _COUNTRY.fullmatch(country):
        raise ConfigError(f"{here}.country: an ISO 3166 alpha-2 code like NL, got {country!r}")
    return PostalAddress(
        _text(value, "street", here), _text(value, "postcode", here), _text(value, "city", here),
        country,
    )  # fmt: skip


def _endpoint(raw: Mapping[str, Any], where: str) -> tuple[str, str]:
    endpoint = _text(raw, "peppol_endpoint_id", where)
    scheme = _text(raw, "peppol_endpoint_scheme", where)
    if bool(endpoint) != bool(scheme):
        raise ConfigError(
            f"{where}: peppol_endpoint_id and peppol_endpoint_scheme go together (one is missing)"
        )
    if scheme and not _SCHEME.fullmatch(scheme):
        raise ConfigError(
            f"{where}.peppol_endpoint_scheme: a 4-digit EAS code like 9944, got {scheme!r}"
        )
    return endpoint, scheme


@dataclass(frozen=True)
class BuyerEInvoice:
    """A tenant's e-invoice settings (frozen into each document's ``bill_to``)."""

    formats: tuple[str, ...]
    vat_id: str
    buyer_reference: str
    endpoint_id: str
    endpoint_scheme: str
    address: PostalAddress | None
    vat_category: str
    exemption_reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "formats": list(self.formats),
            "vat_id": self.vat_id,
            "buyer_reference": self.buyer_reference,
            "endpoint_id": self.endpoint_id,
            "endpoint_scheme": self.endpoint_scheme,
            "postal_address": self.address.as_dict() if self.address else None,
            "vat_category": self.vat_category,
            "exemption_reason": self.exemption_reason,
        }


def _category(raw: Mapping[str, Any], where: str, tax_rate: Decimal) -> str:
    default = "S" if tax_rate > 0 else ""
    category = _text(raw, "vat_category", where) or default
    if category not in CATEGORIES:
        raise ConfigError(
            f"{where}.vat_category: one of {list(CATEGORIES)}, got {category!r}"
            + (" (tax_rate is 0: say which category applies)" if not category else "")
        )
    if (category == "S") != (tax_rate > 0):
        raise ConfigError(
            f"{where}.vat_category: {category} does not fit tax_rate {tax_rate} "
            "(S needs a rate above 0; Z, E and AE a rate of 0)"
        )
    return category


def buyer_einvoice(raw: Mapping[str, Any], where: str, tax_rate: Decimal) -> BuyerEInvoice:
    """Parse and check one catalog entry's e-invoice keys (``where``: file and entry)."""
    choice = _text(raw, "einvoice", where) or "none"
    if choice not in FORMATS:
        raise ConfigError(f"{where}.einvoice: one of {sorted(FORMATS)}, got {choice!r}")
    formats = FORMATS[choice]
    endpoint, scheme = _endpoint(raw, where)
    vat_id = str(raw.get("vat_id") or raw.get("tax_id") or "").strip()
    result = BuyerEInvoice(
        formats=formats,
        vat_id=vat_id,
        buyer_reference=_text(raw, "buyer_reference", where),
        endpoint_id=endpoint,
        endpoint_scheme=scheme,
        address=postal_address(raw, where),
        vat_category=_category(raw, where, tax_rate) if formats else "",
        exemption_reason=_text(raw, "vat_exemption_reason", where),
    )
    if formats:
        _check_buyer(result, where)
    return result


def _check_buyer(buyer: BuyerEInvoice, where: str) -> None:
    """What EN 16931 (BR-n) and Peppol BIS (PEPPOL-EN16931-Rn) require of the buyer."""
    if buyer.address is None:
        raise ConfigError(f"{where}.postal_address: required for e-invoices (BR-10, BR-11)")
    if "peppol-ubl" in buyer.formats:
        if not buyer.endpoint_id:
            raise ConfigError(
                f"{where}.peppol_endpoint_id: required for Peppol (PEPPOL-EN16931-R010)"
            )
        if not buyer.buyer_reference:
            raise ConfigError(f"{where}.buyer_reference: required for Peppol (PEPPOL-EN16931-R003)")
    if buyer.vat_category == "AE" and not buyer.vat_id:
        raise ConfigError(f"{where}.vat_id: required with vat_category AE (BR-AE-02)")
    if buyer.vat_category == "E" and not buyer.exemption_reason:
        raise ConfigError(f"{where}.vat_exemption_reason: required with vat_category E (BR-E-10)")


@dataclass(frozen=True)
class SellerEInvoice:
    """The issuer's e-invoice details from ``[provider.branding]``."""

    address: PostalAddress | None
    endpoint_id: str
    endpoint_scheme: str
    iban: str
    bic: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "postal_address": self.address.as_dict() if self.address else None,
            "endpoint_id": self.endpoint_id,
            "endpoint_scheme": self.endpoint_scheme,
            "iban": self.iban,
            "bic": self.bic,
        }


NO_SELLER = SellerEInvoice(None, "", "", "", "")


def seller_einvoice(raw: Mapping[str, Any], where: str) -> SellerEInvoice:
    """Parse ``[provider.branding]``'s e-invoice keys (IBAN and BIC without spaces)."""
    endpoint, scheme = _endpoint(raw, where)
    iban = _text(raw, "iban", where).replace(" ", "").upper()
    bic = _text(raw, "bic", where).replace(" ", "").upper()
    if iban and not _IBAN.fullmatch(iban):
        raise ConfigError(f"{where}.iban: not an IBAN: {iban!r}")
    if bic and not _BIC.fullmatch(bic):
        raise ConfigError(f"{where}.bic: not a BIC (8 or 11 characters): {bic!r}")
    return SellerEInvoice(postal_address(raw, where), endpoint, scheme, iban, bic)


def check_seller(seller: SellerEInvoice, vat_id: str, where: str, formats: set[str]) -> None:
    """What the issuer must have before any e-invoice is issued (``formats``: those the
    catalog asks for): BR-6/BR-8/BR-9 address, BR-S-02 VAT id, Peppol R020 endpoint."""
    if not formats:
        return
    if seller.address is None:
        raise ConfigError(f"{where}.postal_address: required for e-invoices (BR-8, BR-9)")
    if not vat_id:
        raise ConfigError(f"{where}.vat_id: required for e-invoices (BR-S-02, BR-CO-26)")
    if "peppol-ubl" in formats and not seller.endpoint_id:
        raise ConfigError(f"{where}.peppol_endpoint_id: required for Peppol (PEPPOL-EN16931-R020)")
