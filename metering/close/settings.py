"""Invoicing settings: the provider's branding and legal details, numbering, output places.

Parsed from two optional tables of the provider config so the simulator's generated config
works without them (every key has a default)::

    [provider.branding]
    legal_name = "Example Cloud GmbH"
    address = ["Street 1", "10115 Berlin", "Germany"]
    vat_id = "DE123456789"
    email = "billing@example.net"
    website = "https://example.net"
    bank = "IBAN DE00 0000 0000 0000 0000 00 · BIC EXAMPLEX"
    accent_color = "#1f4e79"
    # for EN 16931 e-invoices (metering.einvoice.parties): the structured address, the
    # Peppol endpoint and the account a SEPA credit transfer pays into
    postal_address = { street = "Street 1", postcode = "10115", city = "Berlin", country = "DE" }
    peppol_endpoint_id = "DE123456789"
    peppol_endpoint_scheme = "9930"
    iban = "DE00000000000000000000"
    bic = "EXAMPLEX"

    [invoicing]
    invoice_number_format = "INV-{year}-{seq:06d}"
    credit_note_number_format = "CN-{year}-{seq:06d}"
    payment_terms_days = 30
    default_locale = "en_US"
    region_id = "region-1"
    workers = 2
    batch_tenants = 250   # tenants whose invoices are built and hashed together (memory)
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError

from metering.config import ProviderConfig, Section
from metering.einvoice.parties import NO_SELLER, SellerEInvoice, seller_einvoice
from metering.errors import ConfigError
from metering.lake.storage import LakePath

_FORMAT_FIELDS = {"seq", "year", "month", "provider"}
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Branding:
    """Who issues the invoices: printed in every invoice header and footer."""

    legal_name: str
    address: tuple[str, ...]
    vat_id: str
    email: str
    website: str
    bank: str
    accent_color: str
    einvoice: SellerEInvoice = NO_SELLER


@dataclass(frozen=True)
class InvoicingSettings:
    """Numbering, terms and where the close writes its register and documents."""

    provider: str
    branding: Branding
    invoice_number_format: str
    credit_note_number_format: str
    payment_terms_days: int
    default_locale: str
    region_id: str
    workers: int
    batch_tenants: int
    register_path: Path
    out_dir: Path
    lake_dir: LakePath
    # FOCUS charge rows: one per whole month ("month") or per day of usage ("day")
    focus_period: str = "month"

    def number(self, kind: str, seq: int, year: int, month: int) -> str:
        """The document number for sequence value ``seq`` (``kind``: invoice/credit_note)."""
        fmt = self.invoice_number_format if kind == "invoice" else self.credit_note_number_format
        return fmt.format(seq=seq, year=year, month=month, provider=self.provider)


def _check_format(section: Section, key: str, default: str) -> str:
    fmt = section.get(key, str, default)
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(fmt) if name}
        sample = fmt.format(seq=1, year=2026, month=1, provider="p")
    except (ValueError, IndexError, KeyError) as exc:
        raise section.error(key, f"is not a valid format string: {exc}") from None
    if "seq" not in fields:
        raise section.error(key, "must contain {seq} (the gap-free sequence number)")
    if unknown := fields - _FORMAT_FIELDS:
        raise section.error(
            key, f"unknown field(s) {sorted(unknown)}; use {sorted(_FORMAT_FIELDS)}"
        )
    if "/" in sample or "\\" in sample:
        raise section.error(key, "must not produce '/' or '\\' (numbers name files)")
    return str(fmt)


def _address(section: Section, key: str) -> tuple[str, ...]:
    value = section.data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(line for line in value.splitlines() if line.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise section.error(key, "must be a string or a list of strings")


def _locale(section: Section, key: str, default: str) -> str:
    value = section.get(key, str, default)
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise section.error(key, f"unknown locale {value!r}") from None
    return str(value)


def load_settings(config: ProviderConfig) -> InvoicingSettings:
    """Parse ``[provider.branding]`` and ``[invoicing]`` into frozen settings."""
    brand = config.section("provider").sub("branding")
    inv = config.section("invoicing")
    color = brand.get("accent_color", str, "#1f4e79")
    if not _COLOR.match(color):
        raise brand.error("accent_color", f"must be #rrggbb, got {color!r}")
    branding = Branding(
        legal_name=brand.get("legal_name", str, config.name),
        address=_address(brand, "address"),
        vat_id=brand.get("vat_id", str, ""),
        email=brand.get("email", str, ""),
        website=brand.get("website", str, ""),
        bank=brand.get("bank", str, ""),
        accent_color=color,
        einvoice=seller_einvoice(brand.data, f"{config.source_file.name}: provider.branding"),
    )
    terms = inv.get("payment_terms_days", int, 30)
    workers = inv.get("workers", int, 2)
    if terms < 0:
        raise inv.error("payment_terms_days", "must be 0 or more")
    if workers < 1:
        raise inv.error("workers", "must be at least 1")
    batch = inv.get("batch_tenants", int, 250)
    if batch < 1:
        raise inv.error("batch_tenants", "must be at least 1")
    if not config.name.strip():
        raise ConfigError(f"{config.source_file.name}: [provider] name: must not be empty")
    return InvoicingSettings(
        provider=config.name,
        branding=branding,
        invoice_number_format=_check_format(inv, "invoice_number_format", "INV-{year}-{seq:06d}"),
        credit_note_number_format=_check_format(
            inv, "credit_note_number_format", "CN-{year}-{seq:06d}"
        ),
        payment_terms_days=terms,
        default_locale=_locale(inv, "default_locale", "en_US"),
        region_id=inv.get("region_id", str, "region-1"),
        workers=workers,
        batch_tenants=batch,
        register_path=inv.path(
            "register", config.source_file.parent, str(config.data_dir / "invoices.sqlite")
        ),
        out_dir=inv.path("out_dir", config.source_file.parent, str(config.out_dir)),
        lake_dir=config.lake,
        focus_period=focus_period(inv.get("focus_period", str, "month"), inv),
    )


FOCUS_PERIODS = ("month", "day")


def focus_period(value: str, section: Section | None = None) -> str:
    """``value`` if it is a FOCUS charge period the export knows (``FOCUS_PERIODS``)."""
    if value in FOCUS_PERIODS:
        return value
    message = f"must be one of {', '.join(FOCUS_PERIODS)}, got {value!r}"
    if section is None:
        raise ConfigError(f"focus period {message}")
    raise section.error("focus_period", message)
