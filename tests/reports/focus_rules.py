"""The FOCUS 1.2 rules our export is held to, as our own checks on a FOCUS table.

Each check returns the offending values (empty when the rule holds) and names the rule of the
FinOps Foundation's `focus-validator` (model 1.2) it stands for: the ones that validator
caught on the demo's export before (issue 19), and their neighbours on the columns we fill.
The facts (allowed values, the UnitFormat grammar) come from the FOCUS 1.2 specification
(ServiceCategory, ServiceSubcategory, UnitFormat and StringHandling attributes).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

import pyarrow as pa

# FOCUS 1.2: every ServiceSubcategory and the one ServiceCategory it belongs to
SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "AI and Machine Learning": (
        "AI Platforms", "Bots", "Generative AI", "Machine Learning",
        "Natural Language Processing", "Other (AI and Machine Learning)",
    ),
    "Analytics": (
        "Analytics Platforms", "Business Intelligence", "Data Processing", "Search",
        "Streaming Analytics", "Other (Analytics)",
    ),
    "Business Applications": ("Productivity and Collaboration", "Other (Business Applications)"),
    "Compute": (
        "Containers", "End User Computing", "Quantum Compute", "Serverless Compute",
        "Virtual Machines", "Other (Compute)",
    ),
    "Databases": (
        "Caching", "Data Warehouses", "Ledger Databases", "NoSQL Databases",
        "Relational Databases", "Time Series Databases", "Other (Databases)",
    ),
    "Developer Tools": (
        "Developer Platforms", "Continuous Integration and Deployment",
        "Development Environments", "Source Code Management", "Quality Assurance",
        "Other (Developer Tools)",
    ),
    "Identity": ("Identity and Access Management", "Other (Identity)"),
    "Integration": ("API Management", "Messaging", "Workflow Orchestration", "Other (Integration)"),
    "Internet of Things": ("IoT Analytics", "IoT Platforms", "Other (Internet of Things)"),
    "Management and Governance": (
        "Architecture", "Compliance", "Cost Management", "Data Governance", "Disaster Recovery",
        "Endpoint Management", "Observability", "Support", "Other (Management and Governance)",
    ),
    "Media": (
        "Content Creation", "Gaming", "Media Streaming", "Mixed Reality", "Other (Media)",
    ),
    "Migration": ("Data Migration", "Resource Migration", "Other (Migration)"),
    "Mobile": ("Other (Mobile)",),
    "Multicloud": ("Multicloud Integration", "Other (Multicloud)"),
    "Networking": (
        "Application Networking", "Content Delivery", "Network Connectivity",
        "Network Infrastructure", "Network Routing", "Network Security", "Other (Networking)",
    ),
    "Security": (
        "Secret Management", "Security Posture Management", "Threat Detection and Response",
        "Other (Security)",
    ),
    "Storage": (
        "Backup Storage", "Block Storage", "File Storage", "Object Storage", "Storage Platforms",
        "Other (Storage)",
    ),
    "Web": ("Application Platforms", "Other (Web)"),
    "Other": ("Other (Other)",),
}  # fmt: skip

# UnitFormat base units
_SIZES = [p + u for p in ("", "K", "M", "G", "T", "P", "E") for u in ("b", "B")] + [
    p + "i" + u for p in ("K", "M", "G", "T", "P", "E") for u in ("b", "B")
]
_TIME = ("Year", "Month", "Day", "Hour", "Minute", "Second", "Millisecond", "Microsecond")
_COUNT = ("Count", "Unit", "Request", "Token", "Connection", "Certificate", "Domain", "Core")
# a count unit UnitFormat does not list: a capitalized noun, or an acronym kept as spelled
_NOUN = r"(?:[A-Z][A-Za-z0-9]*|vCPU)"
_SIZE = "(?:" + "|".join(_SIZES) + ")"
_TIME_ONE = "(?:" + "|".join(_TIME) + ")"
_TIME_MANY = "(?:" + "|".join(t + "s" for t in _TIME) + ")"
_COUNT_ONE = "(?:" + "|".join(_COUNT) + "|" + _NOUN + ")"
_COUNT_MANY = "(?:" + "|".join(c + "s" for c in _COUNT) + "|" + _NOUN + "s)"
_ONE = f"(?:{_SIZE}|{_TIME_ONE}|{_COUNT_ONE})"
_MANY = f"(?:{_SIZE}|{_TIME_MANY}|{_COUNT_MANY})"
_QTY = "(?:[1-9][0-9]* )?"
UNIT_FORMAT = re.compile(
    "^(?:"
    f"{_QTY}{_MANY}"  # simple: GB, Requests, 1000 Requests
    f"|{_QTY}{_ONE}-{_MANY}"  # compound: GB-Hours, vCPU-Hours
    f"|{_MANY}/{_TIME_ONE}"  # ratio per time: GB/Hour
    f"|{_MANY}/[1-9][0-9]* {_TIME_MANY}"  # ratio per n times: Units/3 Months
    ")$"
)

_PLURAL_SIZE = re.compile("(?:^|[-/ ])(?:" + "|".join(_SIZES) + ")s(?:$|[-/ ])")


def unit_format_ok(unit: str) -> bool:
    """``unit`` follows UnitFormat: one of its forms, and a data size abbreviation in the
    same form singular and plural (``TB``, never ``TBs``)."""
    return bool(UNIT_FORMAT.match(unit)) and not _PLURAL_SIZE.search(unit)


# columns we fill that the validator holds to StringHandling (which it checks as ASCII only)
STRING_COLUMNS = (
    "AvailabilityZone", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "ChargeDescription", "ConsumedUnit", "InvoiceId", "InvoiceIssuerName",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceProviderName", "HostProviderName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceName",
    "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType",
)  # fmt: skip

Rows = list[dict[str, object]]


def _one_per(rows: Rows, key: str, value: str) -> list[str]:
    seen: dict[object, set[object]] = defaultdict(set)
    for row in rows:
        seen[row[key]].add(row[value])
    return sorted(f"{k}: {sorted(map(str, v))}" for k, v in seen.items() if len(v) > 1)


def service_one_category(rows: Rows) -> list[str]:
    """ServiceName-C-005-C: exactly one ServiceCategory per ServiceName."""
    return _one_per(rows, "ServiceName", "ServiceCategory")


def service_one_subcategory(rows: Rows) -> list[str]:
    """ServiceName-C-008-C: exactly one ServiceSubcategory per ServiceName."""
    return _one_per(rows, "ServiceName", "ServiceSubcategory")


def category_allowed(rows: Rows) -> list[str]:
    """ServiceCategory-C-003-M, ServiceSubcategory-C-003-M and -C-004-M: allowed values, and
    the subcategory is one of its category's."""
    pairs = {(r["ServiceCategory"], r["ServiceSubcategory"]) for r in rows}
    return sorted(
        f"{c} / {s}" for c, s in pairs if s not in SUBCATEGORIES.get(str(c), ()) or c is None
    )


def _units(rows: Rows, column: str) -> list[str]:
    values = {r[column] for r in rows if r[column] is not None}
    return sorted(str(v) for v in values if not unit_format_ok(str(v)))


def pricing_unit_format(rows: Rows) -> list[str]:
    """PricingUnit-C-003-O (and so -C-000-M): PricingUnit in UnitFormat."""
    return _units(rows, "PricingUnit")


def consumed_unit_format(rows: Rows) -> list[str]:
    """ConsumedUnit-C-003-O: ConsumedUnit in UnitFormat."""
    return _units(rows, "ConsumedUnit")


def ascii_strings(rows: Rows) -> list[str]:
    """BillingAccountName-C-002-M, SubAccountName-C-002-M and the other <Column>-C-00x-M
    "MUST conform to StringHandling requirements" checks: ASCII only, as the validator
    checks them."""
    bad = set()
    for row in rows:
        for column in STRING_COLUMNS:
            value = row.get(column)
            if isinstance(value, str) and not value.isascii():
                bad.add(f"{column}: {value}")
    return sorted(bad)


def one_sku_per_price(rows: Rows) -> list[str]:
    """SkuPriceId-C-008-M: exactly one SkuId per SkuPriceId."""
    return _one_per([r for r in rows if r["SkuPriceId"] is not None], "SkuPriceId", "SkuId")


def resource_type_needs_resource(rows: Rows) -> list[str]:
    """ResourceType-C-004-C: ResourceType is null where ResourceId is."""
    return sorted({str(r["ResourceType"]) for r in rows if r["ResourceId"] is None} - {"None"})


def units_with_quantities(rows: Rows) -> list[str]:
    """PricingUnit / ConsumedUnit null exactly where their quantity is, and set on every usage
    row (PricingUnit-C-004-C, ConsumedUnit-C-004-C/-C-005-C, ConsumedQuantity-C-004-C)."""
    bad = []
    for row in rows:
        usage = row["ChargeCategory"] == "Usage"
        for quantity, unit in (
            ("PricingQuantity", "PricingUnit"),
            ("ConsumedQuantity", "ConsumedUnit"),
        ):
            if (row[quantity] is None) != (row[unit] is None) or usage == (row[unit] is None):
                bad.append(f"{row['InvoiceId']} {row['ChargeCategory']} {quantity}/{unit}")
    return sorted(set(bad))


RULES: dict[str, Callable[[Rows], list[str]]] = {
    "ServiceName-C-005-C": service_one_category,
    "ServiceName-C-008-C": service_one_subcategory,
    "ServiceSubcategory-C-004-M": category_allowed,
    "PricingUnit-C-003-O": pricing_unit_format,
    "ConsumedUnit-C-003-O": consumed_unit_format,
    "BillingAccountName-C-002-M": ascii_strings,
    "SkuPriceId-C-008-M": one_sku_per_price,
    "ResourceType-C-004-C": resource_type_needs_resource,
    "PricingUnit-C-004-C": units_with_quantities,
}


def violations(table: pa.Table, rules: Iterable[str] = RULES) -> dict[str, list[str]]:
    """Each rule that ``table`` breaks, with what breaks it."""
    rows = table.to_pylist()
    found = {rule: RULES[rule](rows) for rule in rules}
    return {rule: bad for rule, bad in found.items() if bad}
