"""Hand-computed scenarios beyond domain.md: minimum, two sites, unmapped, overrides, fees."""

from __future__ import annotations

from decimal import Decimal as D

from tests.rating.conftest import OCT, Rater, at, daily, lines_of, make_interval, totals_of

CARD = """
[[rates]]
product = "vcpu"
unit_price = "0.0125"

[[rates]]
product = "vm_disk"
dimension = "Gold"
unit_price = "0.12"

[[rates]]
product = "object_requests"
dimension = "*"
unit_price = "0.0004"
per = 1000

[[rates]]
product = "alp_instance"
dimension = "*"
unit_price = "0.01"
"""

ACME = """
[[tenants]]
id = "acme"
billing_name = "ACME"
orgs = ["acme", "acme-dr"]
currency = "EUR"
tax_rate = "0.21"
plan = "std"
{extra}
"""


def test_tenant_in_two_sites_is_billed_once_with_a_line_per_site(rater: Rater) -> None:
    rater.card(CARD)
    rater.tenants(ACME.format(extra=""))
    rows = [
        *daily(OCT.start, OCT.end, site="az1", org_name="acme", level=2),
        *daily(OCT.start, OCT.end, site="az2", org_name="acme-dr", resource_id="vm-dr", level=1),
    ]
    result = rater.rate(rows)
    lines = lines_of(result, "acme")
    assert [(x["site"], x["quantity"], x["list_amount"]) for x in lines] == [
        ("az1", D(1488), D("18.60")),
        ("az2", D(744), D("9.30")),
    ]
    assert [t["tenant_id"] for t in result["invoice_totals"]] == ["acme"]
    t = totals_of(result, "acme")
    assert (t["lines_amount"], t["tax_amount"], t["total_amount"]) == (
        D("27.90"),
        D("5.86"),
        D("33.76"),
    )


def test_unmapped_org_is_its_own_tenant_on_the_default_plan(rater: Rater) -> None:
    rater.card(CARD)
    rater.tenants(ACME.format(extra=""))
    rows = [
        *daily(at(1), at(2), org_name="acme", level=1),
        *daily(at(1), at(2), org_name="stranger", resource_id="vm-x", level=1),
    ]
    result = rater.rate(rows, default_tax_rate=D("0.10"))
    stranger = totals_of(result, "unmapped:stranger")
    assert stranger["tenant_name"] == "stranger"
    assert stranger["lines_amount"] == D("0.30") and stranger["tax_amount"] == D("0.03")
    assert totals_of(result, "acme")["tax_rate"] == D("0.21")


def test_minimum_commitment_lifts_the_subtotal_before_tax(rater: Rater) -> None:
    rater.card(CARD, minimum="5.00")
    rater.tenants(
        ACME.format(extra='discount_percent = "10"\nminimum_monthly_commitment = "100.00"')
    )
    result = rater.rate(daily(OCT.start, OCT.end, level=2))  # 18.60 of vCPU
    t = totals_of(result, "acme")
    assert t["lines_amount"] == D("18.60") and t["discount_amount"] == D("-1.86")
    assert t["minimum_adjustment"] == D("83.26") and t["subtotal_amount"] == D("100.00")
    assert t["tax_amount"] == D("21.00") and t["total_amount"] == D("121.00")


def test_plan_minimum_monthly_charge_and_no_usage_tenant(rater: Rater) -> None:
    rater.card(CARD, minimum="5.00")
    rater.tenants(ACME.format(extra=""))
    result = rater.rate([])
    t = totals_of(result, "acme")
    assert (t["lines_amount"], t["minimum_adjustment"], t["total_amount"]) == (
        D("0.00"),
        D("5.00"),
        D("6.05"),
    )


def test_custom_rates_override_the_plan(rater: Rater) -> None:
    rater.card(CARD)
    rater.tenants(ACME.format(extra='custom_rates = { vcpu = "0.01", "vm_disk:Gold" = "0.10" }'))
    rows = [
        *daily(OCT.start, OCT.end, level=2),
        *daily(OCT.start, OCT.end, product="vm_disk", dimension="Gold", level=100),
    ]
    lines = {x["product"]: x for x in lines_of(rater.rate(rows), "acme")}
    assert lines["vcpu"]["unit_price"] == D("0.01") and lines["vcpu"]["list_amount"] == D("14.88")
    assert lines["vcpu"]["tier_detail"] == "custom rate"
    assert lines["vm_disk"]["list_amount"] == D("10.00")


def test_custom_rate_for_a_per_thousand_product_is_read_per_thousand(rater: Rater) -> None:
    # docs/metering-rules.md: a custom rate is a price in the card's billing unit; the card
    # prices requests per 1,000, so "0.0002" is per 1,000 requests, not per request
    rater.card(CARD)
    rater.tenants(ACME.format(extra='custom_rates = { object_requests = "0.0002" }'))
    rows = [
        make_interval(
            product="object_requests",
            dimension="GET",
            measure="count",
            level=D(1500),
            resource_type="bucket",
            resource_id="g/b",
            interval_start=at(1, h),
            interval_end=at(1, h + 1),
        )
        for h in range(10)
    ]
    (req,) = lines_of(rater.rate(rows), "acme")
    assert (req["quantity"], req["unit"], req["unit_price"]) == (
        D(15),
        "1,000 requests",
        D("0.0002"),
    )
    assert req["list_amount"] == D("0.00") and req["tier_detail"] == "custom rate"
    rater.tenants(ACME.format(extra='custom_rates = { "object_requests:GET" = "0.02" }'))
    (req,) = lines_of(rater.rate(rows), "acme")
    assert (req["quantity"], req["list_amount"]) == (D(15), D("0.30"))  # not 300.00


def test_fixed_monthly_fee_is_a_line(rater: Rater) -> None:
    rater.card(
        CARD + '\n[[fixed_fees]]\nid = "support"\ndescription = "Support"\namount = "25.00"\n'
    )
    rater.tenants(ACME.format(extra=""))
    (fee,) = [x for x in lines_of(rater.rate([]), "acme") if x["product"] == "fixed_fee"]
    assert (fee["dimension"], fee["quantity"], fee["list_amount"]) == ("support", D(1), D("25.00"))


def test_requests_per_thousand_and_alp_instances(rater: Rater) -> None:
    rater.card(CARD)
    rows = [
        make_interval(
            product="object_requests",
            dimension="GET",
            measure="count",
            level=D(1500),
            resource_type="bucket",
            resource_id="g/b",
            interval_start=at(1, h),
            interval_end=at(1, h + 1),
        )
        for h in range(10)
    ] + daily(
        OCT.start,
        OCT.end,
        product="alp_instance",
        dimension="bitnami-wordpress",
        resource_type="alp_instance",
        resource_id="app1",
    )
    lines = {x["product"]: x for x in lines_of(rater.rate(rows), "unmapped:acme")}
    req = lines["object_requests"]
    assert (req["quantity"], req["unit"], req["list_amount"]) == (
        D(15),
        "1,000 requests",
        D("0.01"),
    )
    assert lines["alp_instance"]["quantity"] == D(744) and lines["alp_instance"][
        "list_amount"
    ] == D("7.44")


def test_usage_without_a_price_is_unrated_with_a_reason_not_dropped(rater: Rater) -> None:
    rater.card(CARD, end="2026-10-20T00:00:00Z")  # no card from Oct 20 on
    rows = [
        *daily(OCT.start, OCT.end, level=1),
        *daily(at(1), at(2), product="dse_core", dimension="mongodb", resource_id="db", level=2),
        *daily(at(1), at(2), org_name=None, product="vcpu", resource_id="orphan", level=1),
    ]
    result = rater.rate(rows)
    unrated = {(u["product"], u["resource_id"]): u for u in result["unrated_usage"]}
    assert unrated[("vcpu", "urn:vcloud:vm:1")]["quantity"] == D(288)  # 12 days from Oct 20
    assert (
        unrated[("vcpu", "urn:vcloud:vm:1")]["reason"]
        == "no price: plan std has no rate for vcpu in force"
    )
    assert unrated[("dse_core", "db")]["quantity"] == D(48)
    assert unrated[("vcpu", "orphan")]["reason"].startswith("no tenant")
    (vcpu,) = [x for x in lines_of(result, "unmapped:acme") if x["product"] == "vcpu"]
    assert vcpu["quantity"] == D(456) and vcpu["price_to"] == at(20)


def test_usage_in_a_hole_between_cards_or_before_the_first_is_unrated_to_the_hour(
    rater: Rater,
) -> None:
    # cards Oct 3 to Oct 10 and Oct 15 on: nothing in force Oct 1-3 and Oct 10-15
    rater.card(CARD, card_id="std-1", start="2026-10-03T00:00:00Z", end="2026-10-10T00:00:00Z")
    rater.card(CARD, card_id="std-2", start="2026-10-15T00:00:00Z")
    rater.tenants(ACME.format(extra=""))
    gets = {"product": "object_requests", "dimension": "GET", "measure": "count"}
    bucket = {"resource_id": "bucket-1", "resource_type": "bucket", **gets}
    rows = [
        *daily(OCT.start, OCT.end, level=1),  # a VM the whole month
        # an interval across the hole's end (Oct 14 12:00 to Oct 15 12:00 is cut at midnight)
        *daily(at(14, 12), at(15, 12), resource_id="vm-2", level=2),
        # requests counted in the hole (unrated) and at the second card's first hour (rated)
        make_interval(interval_start=at(12, 5), interval_end=at(12, 6), level=700, **bucket),
        make_interval(interval_start=at(15), interval_end=at(15, 1), level=3000, **bucket),
    ]
    result = rater.rate(rows)
    unrated = sorted(
        (u["resource_id"], u["product"], u["quantity"]) for u in result["unrated_usage"]
    )
    by_key: dict[tuple[str, str], D] = {}
    for resource, product, quantity in unrated:
        by_key[(resource, product)] = by_key.get((resource, product), D(0)) + quantity
    assert by_key == {
        ("bucket-1", "object_requests"): D(700),
        ("urn:vcloud:vm:1", "vcpu"): D(48 + 5 * 24),
        ("vm-2", "vcpu"): D(24),
    }
    rated = {(x["product"], x["rate_card_id"]): x["quantity"] for x in lines_of(result, "acme")}
    # the VM's 7 + 17 days, vm-2's 12 hours at 2 vCPUs on Oct 15; 3 thousand requests
    assert rated[("vcpu", "std-1")] == D(7 * 24)
    assert rated[("vcpu", "std-2")] == D(17 * 24 + 24)
    assert rated[("object_requests", "std-2")] == D(3)
