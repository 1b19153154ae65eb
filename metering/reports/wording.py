"""What a person reads on a document, in the tenant's language: products, services, units,
price periods and tier notes.

A frozen invoice body keeps rating's own words (``vcpu``, ``1,000 requests``,
``graduated tier 1: 0–1000``) so that an issued invoice never changes; this module turns
them into labels at render time. Every word here is a gettext message (extracted into
``reports/locale/messages.pot``); a value it does not know (a new product, a fee's own
description, a storage policy name) is shown as the body has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from babel.dates import format_interval

from metering.reports import formatting


class Gettext(Protocol):
    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


def N_(message: str) -> str:
    """Mark a message for extraction; translated where it is shown."""
    return message


# product → its label (rating's product names: metering/rating/products.py)
PRODUCTS = {
    "vcpu": N_("vCPU"),
    "ram": N_("Memory"),
    "vm_disk": N_("VM disk"),
    "independent_disk": N_("Independent disk"),
    "vm_snapshot": N_("VM snapshot"),
    "tkg_cluster": N_("TKG cluster fee"),
    "object_storage": N_("Object storage"),
    "object_requests": N_("Requests"),
    "object_transfer": N_("Data transfer"),
    "alp_instance": N_("App instance"),
    "dse_core": N_("Data service"),
    "vdc_cpu": N_("Org VDC CPU allocation"),
    "vdc_ram": N_("Org VDC memory allocation"),
    "catalog_media": N_("Catalog media"),
    "vapp_template": N_("vApp template"),
    "os_licence": N_("Guest OS licence (per vCPU)"),
    "os_licence_vm": N_("Guest OS licence (per VM)"),
    "edge_gateway": N_("Edge gateway"),
    "edge_gateway_month": N_("Edge gateway (per month)"),
    "public_ip": N_("Public IP address"),
    "public_ip_month": N_("Public IP address (per month)"),
    "fixed_fee": N_("Fixed fee"),
}

SERVICES = {
    "Compute": N_("Compute"),
    "Storage": N_("Storage"),
    "TKG": N_("Kubernetes (TKG)"),
    "Object storage": N_("Object storage"),
    "ALP": N_("Applications (ALP)"),
    "DSE": N_("Data services (DSE)"),
    "Fees": N_("Fees"),
    "Org VDC": N_("Org VDC"),
    "Licences": N_("Licences"),
    "Networking": N_("Networking"),
}

# why the close issued a credit note (metering/close/issue.py)
REASONS = {
    "corrected usage or prices": N_("corrected usage or prices"),
    "no charges remain": N_("no charges remain"),
}

# object_transfer's dimension: which way the bytes went
DIRECTIONS = {"out": N_("outbound"), "in": N_("inbound")}


def _unit_forms(t: Gettext, unit: str, n: int) -> str:
    """The unit's word for ``n`` of it; extraction sees each pair through these calls."""
    forms = {
        "vCPU-hour": lambda: t.ngettext("vCPU-hour", "vCPU-hours", n),
        "GiB-hour": lambda: t.ngettext("GiB-hour", "GiB-hours", n),
        "GB-hour": lambda: t.ngettext("GB-hour", "GB-hours", n),
        "GB-month": lambda: t.ngettext("GB-month", "GB-months", n),
        "cluster-hour": lambda: t.ngettext("cluster-hour", "cluster-hours", n),
        "request": lambda: t.ngettext("request", "requests", n),
        "GB": lambda: t.ngettext("GB", "GB", n),
        "instance-hour": lambda: t.ngettext("instance-hour", "instance-hours", n),
        "core-hour": lambda: t.ngettext("core-hour", "core-hours", n),
        "month": lambda: t.ngettext("month", "months", n),
        "GHz-hour": lambda: t.ngettext("GHz-hour", "GHz-hours", n),
        "VM-hour": lambda: t.ngettext("VM-hour", "VM-hours", n),
        "VM-month": lambda: t.ngettext("VM-month", "VM-months", n),
        "gateway-hour": lambda: t.ngettext("gateway-hour", "gateway-hours", n),
        "gateway-month": lambda: t.ngettext("gateway-month", "gateway-months", n),
        "IP-hour": lambda: t.ngettext("IP-hour", "IP-hours", n),
        "IP-month": lambda: t.ngettext("IP-month", "IP-months", n),
    }
    word = forms.get(unit)
    return word() if word else unit


_PER = re.compile(r"^(\d[\d,]*) (.+)$")


@dataclass(frozen=True)
class Unit:
    """A billing unit as rating names it: ``vCPU-hour``, or ``1,000 requests`` (``per``)."""

    base: str
    per: int = 1

    @classmethod
    def parse(cls, text: str) -> Unit:
        match = _PER.match(text or "")
        if not match:
            return cls(text or "")
        base = match.group(2)
        if base.endswith("s") and base[:-1] in KNOWN_UNITS:
            base = base[:-1]
        return cls(base, int(match.group(1).replace(",", "")))


KNOWN_UNITS = frozenset(
    (
        "vCPU-hour",
        "GiB-hour",
        "GB-hour",
        "GB-month",
        "cluster-hour",
        "request",
        "GB",
        "instance-hour",
        "core-hour",
        "month",
        "GHz-hour",
        "VM-hour",
        "VM-month",
        "gateway-hour",
        "gateway-month",
        "IP-hour",
        "IP-month",
    )
)


def _plural_n(value: Decimal) -> int:
    """The ``n`` ngettext chooses a form by: the whole number, or 2 for a fraction (1.5
    hours are hours in every catalog language)."""
    if value == value.to_integral_value():
        return int(min(abs(value), Decimal(10**9)))
    return 2


def quantity_text(t: Gettext, value: object, unit: str, locale: str) -> str:
    """``3444`` of ``1,000 requests`` → ``3,444,000 requests`` (``3.444.000 Anfragen``): the
    quantity in the unit itself, so the number and the word read together."""
    parsed = Unit.parse(unit)
    amount = (formatting.dec(value) * parsed.per).quantize(Decimal("0.001"))
    word = _unit_forms(t, parsed.base, _plural_n(amount))
    return f"{formatting.quantity(amount, locale)} {word}".strip()


def per_text(t: Gettext, unit: str, locale: str) -> str:
    """What a unit price is quoted for when it is not one unit: ``per 1,000 requests``."""
    parsed = Unit.parse(unit)
    if parsed.per == 1:
        return ""
    count = formatting.quantity(parsed.per, locale)
    return t.gettext("per %(count)s %(unit)s") % {
        "count": count,
        "unit": _unit_forms(t, parsed.base, parsed.per),
    }


def product_text(t: Gettext, product: str, dimension: str | None) -> str:
    """``vm_disk``, ``Gold`` → ``VM disk Gold``; a direction is a word too."""
    label = t.gettext(PRODUCTS[product]) if product in PRODUCTS else product
    if not dimension or dimension in ("*",):
        return label
    if product == "object_transfer" and dimension in DIRECTIONS:
        return f"{label} {t.gettext(DIRECTIONS[dimension])}"
    return f"{label} {dimension}"


def service_text(t: Gettext, service: str) -> str:
    return t.gettext(SERVICES[service]) if service in SERVICES else service


def reason_text(t: Gettext, reason: str) -> str:
    return t.gettext(REASONS[reason]) if reason in REASONS else reason


def line_description(t: Gettext, line: dict[str, object]) -> str:
    """A line's description: its product's label and dimension (the group heading names the
    site); a fee keeps its own description."""
    product = str(line.get("product") or "")
    if product == "fixed_fee" or product not in PRODUCTS:
        return str(line.get("description") or "")
    dimension = line.get("dimension")
    return product_text(t, product, str(dimension) if dimension else None)


_GRADUATED = re.compile(r"^graduated tier (\d+): (\S+)–(\S+)$")
_VOLUME = re.compile(r"^volume tier (\d+): (\S+)–(\S+) \(month total (\S+)\)$")
_RAW = re.compile(r"^raw (\S+) × (.+)$")


def _number(text: str, locale: str) -> str:
    return "∞" if text == "∞" else formatting.quantity(text, locale)


_COPIES = re.compile(r"^(\d+) copies$")
_FACTOR = re.compile(r"^(\S+) \(multi-DC\)$")


def _storage_factors(t: Gettext, how: str, locale: str) -> str:
    """``3 copies × 1.10 (multi-DC)`` (metering/rating/replication.py) in words."""
    parts = []
    for part in how.split(" × "):
        if match := _COPIES.match(part):
            n = int(match.group(1))
            parts.append(t.ngettext("%(n)s copy", "%(n)s copies", n) % {"n": n})
        elif match := _FACTOR.match(part):
            parts.append(
                t.gettext("%(factor)s (multi-DC)") % {"factor": _number(match.group(1), locale)}
            )
        else:
            parts.append(part)
    return " × ".join(parts)


def tier_text(t: Gettext, detail: str | None, locale: str) -> str:
    """Rating's tier note in the catalog's language (``graduated tier 1: 0–1000``)."""
    if not detail:
        return ""
    if match := _GRADUATED.match(detail):
        tier, low, high = match.groups()
        return t.gettext("graduated tier %(tier)s: %(low)s–%(high)s") % {
            "tier": tier,
            "low": _number(low, locale),
            "high": _number(high, locale),
        }
    if match := _VOLUME.match(detail):
        tier, low, high, total = match.groups()
        return t.gettext("volume tier %(tier)s: %(low)s–%(high)s (month total %(total)s)") % {
            "tier": tier,
            "low": _number(low, locale),
            "high": _number(high, locale),
            "total": _number(total, locale),
        }
    if detail == "fixed monthly fee":
        return t.gettext("fixed monthly fee")
    if detail == "custom rate":
        return t.gettext("your contract rate")
    if match := _RAW.match(detail):
        return t.gettext("raw storage price %(price)s × %(how)s") % {
            "price": _number(match.group(1), locale),
            "how": _storage_factors(t, match.group(2), locale),
        }
    return detail


def _day(value: object) -> date | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value)).date()


def price_period(t: Gettext, line: dict[str, object], first: date, last: date, locale: str) -> str:
    """``Price for 1–14 Oct 2026`` when the line's price applied to part of the period only
    (a price change in the month); empty when it applied all month."""
    start, end = _day(line.get("price_from")), _day(line.get("price_to"))
    if start is None:
        return ""
    start = max(start, first)
    until = last if end is None else min(end - timedelta(days=1), last)
    if start <= first and until >= last:
        return ""
    period = format_interval(start, until, "yMMMd", locale=locale)
    return t.gettext("Price for %(period)s") % {"period": period}
