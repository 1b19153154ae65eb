"""The FOCUS export against the FOCUS 1.2 rules the FinOps Foundation's validator checks
(tests/reports/focus_rules.py): one document with a line of every product, as the rating
writes their units, and a tenant whose name is not ASCII."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pyarrow as pa
import pytest

from metering.rating.products import PRODUCTS
from metering.reports.focus import ascii_name
from tests.reports import focus_rules
from tests.reports.test_focus_allocation import _doc, _focus

# (product, dimension, invoice unit, quantity, FOCUS PricingUnit, ConsumedUnit, ConsumedQuantity)
LINES = [
    ("vcpu", "", "vCPU-hour", "10", "vCPU-Hours", "vCPU-Hours", "10"),
    ("ram", "", "GiB-hour", "20", "GiB-Hours", "GiB-Hours", "20"),
    ("vm_disk", "gold", "GB-month", "3.5", "GB-Months", "GB-Months", "3.5"),
    ("independent_disk", "silver", "GB-month", "1.25", "GB-Months", "GB-Months", "1.25"),
    ("vm_snapshot", "gold", "GB-month", "0.75", "GB-Months", "GB-Months", "0.75"),
    ("tkg_cluster", "", "cluster-hour", "4", "Cluster-Hours", "Cluster-Hours", "4"),
    ("object_storage", "rf3", "GB-month", "2", "GB-Months", "GB-Months", "2"),
    ("object_requests", "GET", "1,000 requests", "3.444", "1000 Requests", "Requests", "3444"),
    ("object_transfer", "out", "GB", "7", "GB", "GB", "7"),
    ("alp_instance", "wordpress", "instance-hour", "5", "Instance-Hours", "Instance-Hours", "5"),
    ("dse_core", "rabbitmq", "core-hour", "6", "Core-Hours", "Core-Hours", "6"),
    ("dse_core", "postgres", "core-hour", "7", "Core-Hours", "Core-Hours", "7"),
    ("dse_core", "mysql", "core-hour", "8", "Core-Hours", "Core-Hours", "8"),
    ("dse_core", "redis", "core-hour", "9", "Core-Hours", "Core-Hours", "9"),
    ("vdc_cpu", "AllocationVApp", "GHz-hour", "12", "GHz-Hours", "GHz-Hours", "12"),
    ("vdc_ram", "ReservationPool", "GiB-hour", "24", "GiB-Hours", "GiB-Hours", "24"),
    ("os_licence", "windows-server", "vCPU-hour", "4", "vCPU-Hours", "vCPU-Hours", "4"),
    ("os_licence_vm", "rhel", "VM-month", "0.5", "VM-Months", "VM-Months", "0.5"),
    ("catalog_media", "Gold", "GB-month", "4.7", "GB-Months", "GB-Months", "4.7"),
    ("edge_gateway", "", "gateway-hour", "744", "Gateway-Hours", "Gateway-Hours", "744"),
    ("edge_gateway_month", "", "gateway-month", "1", "Gateway-Months", "Gateway-Months", "1"),
    ("public_ip", "", "IP-hour", "1488", "IP-Hours", "IP-Hours", "1488"),
    ("public_ip_month", "", "IP-month", "2", "IP-Months", "IP-Months", "2"),
    ("vapp_template", "Silver", "GB-month", "60", "GB-Months", "GB-Months", "60"),
    ("fixed_fee", "support", "month", "1", "Months", "Months", "1"),
]


def test_every_product_rating_knows_is_exported_here() -> None:
    """A new product gets its FOCUS service, category and unit (and a line above)."""
    assert set(PRODUCTS) <= {line[0] for line in LINES}


def _every_product(name: str = "東京 Systems K.K.") -> pa.Table:
    doc = _doc(Decimal("1.00"), [Decimal(1)], Decimal("0.10"), name=name)
    body = json.loads(doc.body_json)
    template, usage = body["lines"][0], body["usage"][0]
    body["lines"], body["usage"] = [], []
    for no, (product, dimension, unit, quantity, *_) in enumerate(LINES, start=1):
        service = PRODUCTS[product].service if product in PRODUCTS else "Fees"
        common = {"product": product, "dimension": dimension, "list_amount": "1.00"}
        body["lines"].append(
            template | common | {"line_no": no, "service": service, "unit": unit}
            | {"quantity": quantity, "description": product}
        )  # fmt: skip
        body["usage"].append(usage | common | {"resource_id": f"r{no}", "resource_name": f"r{no}"})
    lines = Decimal(len(LINES))
    body["totals"] |= {"lines_amount": str(lines), "subtotal_amount": str(lines)}
    body["totals"]["total_amount"] = str(lines + Decimal("0.10"))
    return _focus(
        [replace(doc, body_json=json.dumps(body), total_amount=str(lines + Decimal("0.10")))]
    )[0]


def test_every_product_passes_the_focus_rules() -> None:
    table = _every_product()
    assert focus_rules.violations(table) == {}
    usage = [r for r in table.to_pylist() if r["ChargeCategory"] == "Usage"]
    assert len(usage) == len(LINES)
    got = {
        (r["SkuId"], r["PricingUnit"], r["ConsumedUnit"], r["ConsumedQuantity"].normalize())
        for r in usage
    }
    want = {(f"{p}:{d}", pu, cu, Decimal(cq).normalize()) for p, d, _, _, pu, cu, cq in LINES}
    assert got == want
    # the request line is priced per 1,000: its pricing quantity stays in thousands
    requests = next(r for r in usage if r["SkuId"] == "object_requests:GET")
    assert requests["PricingQuantity"] == Decimal("3.444")


def test_each_service_has_one_category_that_fits_it() -> None:
    rows = _every_product().to_pylist()
    services = {r["ServiceName"]: (r["ServiceCategory"], r["ServiceSubcategory"]) for r in rows}
    assert services == {
        "Compute": ("Compute", "Virtual Machines"),
        "Storage": ("Storage", "Block Storage"),  # VM disks are storage, not compute
        "TKG": ("Compute", "Containers"),
        "Object storage": ("Storage", "Object Storage"),
        "ALP": ("Compute", "Containers"),
        "DSE RabbitMQ": ("Integration", "Messaging"),
        "DSE PostgreSQL": ("Databases", "Relational Databases"),
        "DSE MySQL": ("Databases", "Relational Databases"),
        "DSE redis": ("Other", "Other (Other)"),  # a kind we do not know yet
        "Licences": ("Compute", "Virtual Machines"),
        "Org VDC": ("Compute", "Virtual Machines"),
        "Catalog storage": ("Storage", "Block Storage"),  # datastore space, as VM disks
        "Edge gateways": ("Networking", "Network Routing"),
        "Public IP addresses": ("Networking", "Network Connectivity"),
        "Fees": ("Other", "Other (Other)"),
        "Tax": ("Other", "Other (Other)"),
    }


def test_focus_1_3_provider_columns_are_there_ahead_of_time() -> None:
    rows = _every_product().to_pylist()
    assert {r["ServiceProviderName"] for r in rows} == {"P"}
    hosts = {(r["ServiceName"], r["HostProviderName"]) for r in rows}
    assert ("Compute", "P") in hosts and ("DSE MySQL", "P") in hosts
    assert {h for s, h in hosts if s in ("Fees", "Tax")} == {"Not Applicable"}


def test_names_are_ascii_and_the_exact_name_is_kept() -> None:
    rows = _every_product("Müller & Ørsted 東京 GmbH").to_pylist()
    assert {r["BillingAccountName"] for r in rows} == {"Muller & Orsted GmbH"}
    assert {r["x_BillingAccountNameUnicode"] for r in rows} == {"Müller & Ørsted 東京 GmbH"}
    assert {r["SubAccountName"] for r in rows if r["SubAccountName"]} == {
        "Muller & Orsted GmbH (az1)"
    }


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Hooli Europe Ltd", "Hooli Europe Ltd"),
        ("  two  spaces ", "  two  spaces "),  # an ASCII name stays exactly as it is
        ("Straße Café", "Strasse Cafe"),
        ("東京 Systems K.K.", "Systems K.K."),
        ("東京", "tokyo"),  # nothing left: the tenant id
    ],
)
def test_ascii_name(name: str, shown: str) -> None:
    assert ascii_name(name, "tokyo") == shown


@pytest.mark.parametrize(
    ("rule", "column", "value"),
    [
        ("PricingUnit-C-003-O", "PricingUnit", "1,000 requests"),
        ("PricingUnit-C-003-O", "PricingUnit", "vCPU-hour"),
        ("PricingUnit-C-003-O", "PricingUnit", "GiB-hour"),
        ("PricingUnit-C-003-O", "PricingUnit", "core-hour"),
        ("ConsumedUnit-C-003-O", "ConsumedUnit", "GB-month"),
        ("BillingAccountName-C-002-M", "BillingAccountName", "東京 Systems K.K."),
        ("BillingAccountName-C-002-M", "SubAccountName", "Müller (az1)"),
        ("ServiceSubcategory-C-004-M", "ServiceCategory", "Compute"),  # Block Storage
    ],
)
def test_the_rules_catch_what_the_validator_caught(rule: str, column: str, value: str) -> None:
    """Each check fails on a value the export used to have (so none of them is vacuous)."""
    table = _every_product()
    rows = table.to_pylist()
    target = next(r for r in rows if r["SkuId"] == "vm_disk:gold")
    target[column] = value
    assert rule in focus_rules.violations(pa.Table.from_pylist(rows, schema=table.schema))


def test_the_rules_catch_a_service_with_two_categories() -> None:
    """ServiceName-C-005-C / -C-008-C: DSE as one service over two categories, as it was."""
    table = _every_product()
    rows = table.to_pylist()
    for row in rows:
        if row["ServiceName"] and row["ServiceName"].startswith("DSE"):
            row["ServiceName"] = "DSE"
    found = focus_rules.violations(pa.Table.from_pylist(rows, schema=table.schema))
    assert {"ServiceName-C-005-C", "ServiceName-C-008-C"} <= set(found)


@pytest.mark.parametrize(
    "unit",
    ["GB", "Seconds", "GB-Hours", "vCPU-Hours", "1000 Requests", "GB/Hour", "Units/3 Months"],
)
def test_unit_format_admits_the_specifications_examples(unit: str) -> None:
    assert focus_rules.unit_format_ok(unit)


@pytest.mark.parametrize("unit", ["1,000 requests", "GB-hour", "TBs", "terabyte", "GB-Hour"])
def test_unit_format_refuses(unit: str) -> None:
    assert not focus_rules.unit_format_ok(unit)
