"""The worked examples of domain.md (October 2026, EUR), exact to the cent."""

from __future__ import annotations

from decimal import Decimal as D

from tests.rating.conftest import OCT, Rater, at, daily, lines_of, make_interval, totals_of

VM_CARD = """
[[rates]]
product = "vcpu"
unit_price = "0.0125"

[[rates]]
product = "ram"
unit_price = "0.0040"

[[rates]]
product = "vm_disk"
dimension = "Gold"
unit_price = "0.12"
"""


def test_example_1_vm_powered_off_half_the_month(rater: Rater) -> None:
    rater.card(VM_CARD)
    rows = [
        *daily(at(1), at(16), product="vcpu", level=4),
        *daily(at(1), at(16), product="ram", level=16),
        *daily(OCT.start, OCT.end, product="vm_disk", dimension="Gold", level=100),
    ]
    result = rater.rate(rows)
    lines = {line["product"]: line for line in lines_of(result, "unmapped:acme")}
    assert lines["vcpu"]["quantity"] == D("1440") and lines["vcpu"]["list_amount"] == D("18.00")
    assert lines["ram"]["quantity"] == D("5760") and lines["ram"]["list_amount"] == D("23.04")
    assert lines["vm_disk"]["quantity"] == D("100") and lines["vm_disk"]["unit"] == "GB-month"
    assert lines["vm_disk"]["list_amount"] == D("12.00")
    assert totals_of(result, "unmapped:acme")["subtotal_amount"] == D("53.04")


def test_example_2_rate_change_mid_month_gives_two_lines(rater: Rater) -> None:
    rater.card('[[rates]]\nproduct = "vcpu"\nunit_price = "0.0125"\n', end="2026-10-15T00:00:00Z")
    rater.card(
        '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0110"\n',
        card_id="std-2",
        start="2026-10-15T00:00:00Z",
    )
    # One interval that crosses the change (as if consolidated over several days).
    result = rater.rate(daily(OCT.start, OCT.end, level=2))
    lines = lines_of(result, "unmapped:acme")
    assert [(x["quantity"], x["unit_price"], x["list_amount"]) for x in lines] == [
        (D("672"), D("0.0125"), D("8.40")),
        (D("816"), D("0.0110"), D("8.98")),
    ]
    assert [x["rate_card_id"] for x in lines] == ["std-1", "std-2"]
    assert lines[0]["price_to"] == lines[1]["price_from"] == at(15)
    assert totals_of(result, "unmapped:acme")["lines_amount"] == D("17.38")


def test_example_2_split_inside_one_interval(rater: Rater) -> None:
    """An interval spanning the change instant is cut there, each part at its own rate."""
    rater.card('[[rates]]\nproduct = "vcpu"\nunit_price = "0.0125"\n', end="2026-10-15T00:00:00Z")
    rater.card(
        '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0110"\n',
        card_id="std-2",
        start="2026-10-15T00:00:00Z",
    )
    row = make_interval(level=2, interval_start=OCT.start, interval_end=OCT.end)
    result = rater.rate([row])
    amounts = [x["list_amount"] for x in lines_of(result, "unmapped:acme")]
    assert amounts == [D("8.40"), D("8.98")]
    rated = result["rated_usage"]
    assert sorted(r["quantity"] for r in rated) == [D("672"), D("816")]


STORAGE_CARD = """
[object_storage]
raw_unit_price = "0.01"
multi_dc_surcharge_percent = "10"

[object_storage.policies."2DC-3R"]
replicas = { DC1 = 2, DC2 = 1 }

[object_storage.policies."EC-4+2"]
erasure_coding = { DC1 = "4+2" }
"""


def bucket(policy: str, gb: int, site: str = "az1", **kw: object) -> list[dict[str, object]]:
    return daily(
        OCT.start,
        OCT.end,
        site=site,
        dataset="cloudian_usage",
        resource_type="bucket",
        resource_id=f"g1/{policy}",
        resource_name=policy,
        product="object_storage",
        dimension=policy,
        level=gb,
        **kw,
    )


def test_example_3_replication_aware_storage(rater: Rater) -> None:
    rater.card(STORAGE_CARD)
    result = rater.rate([*bucket("2DC-3R", 500), *bucket("EC-4+2", 500)])
    lines = {x["dimension"]: x for x in lines_of(result, "unmapped:acme")}
    assert lines["2DC-3R"]["unit_price"] == D("0.033")
    assert lines["2DC-3R"]["quantity"] == D("500") and lines["2DC-3R"]["list_amount"] == D("16.50")
    assert "3 copies" in lines["2DC-3R"]["tier_detail"]
    assert lines["EC-4+2"]["unit_price"] == D("0.015")
    assert lines["EC-4+2"]["list_amount"] == D("7.50")


TIERS = """
[[rates]]
product = "object_storage"
dimension = "*"
model = "{model}"
tiers = [ {{ up_to = "1000", unit_price = "0.02" }}, {{ unit_price = "0.015" }} ]
"""


def test_example_4_graduated_tiers_cross_a_boundary(rater: Rater) -> None:
    rater.card(TIERS.format(model="graduated"))
    # 1,500 GB-month over two policies and two sites: tiers apply to the month's total.
    rows = [*bucket("A", 1000, site="az1"), *bucket("B", 500, site="az2")]
    result = rater.rate(rows)
    lines = lines_of(result, "unmapped:acme")
    assert [(x["quantity"], x["unit_price"], x["list_amount"]) for x in lines] == [
        (D("1000"), D("0.02"), D("20.00")),
        (D("500"), D("0.015"), D("7.50")),
    ]
    assert all(x["site"] == "*" for x in lines)
    assert lines[1]["tier_detail"].startswith("graduated tier 2: 1000–∞")
    assert totals_of(result, "unmapped:acme")["lines_amount"] == D("27.50")
    # the lineage: the rated rows carry quantities only, and they add up to the lines' usage
    rated = [r for r in result["rated_usage"] if r["tenant_id"] == "unmapped:acme"]
    assert rated and all("list_amount" not in r for r in rated)
    assert sum(r["quantity"] for r in rated) == lines[0]["usage_quantity"] == D(1500 * 744)


def test_example_4_volume_tier_prices_everything_at_one_band(rater: Rater) -> None:
    rater.card(TIERS.format(model="volume"))
    result = rater.rate([*bucket("A", 1500)])
    (line,) = lines_of(result, "unmapped:acme")
    assert (line["quantity"], line["unit_price"], line["list_amount"]) == (
        D("1500"),
        D("0.015"),
        D("22.50"),
    )


def test_example_6_tkg_cluster_fee_and_nodes_billed_once(rater: Rater) -> None:
    rater.card(
        '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0125"\n\n'
        '[[rates]]\nproduct = "tkg_cluster"\nunit_price = "0.05"\n'
    )
    nodes = [
        row
        for n in range(4)
        for row in daily(
            OCT.start,
            OCT.end,
            resource_id=f"urn:vcloud:vm:node{n}",
            resource_name=f"k8s-node-{n}",
            parent_id="urn:cluster:k8s",
            level=2,
        )
    ]
    cluster = daily(
        OCT.start,
        OCT.end,
        dataset="cse_cluster",
        resource_type="tkg_cluster",
        resource_id="urn:cluster:k8s",
        product="tkg_cluster",
        level=1,
    )
    result = rater.rate([*nodes, *cluster])
    lines = {x["product"]: x for x in lines_of(result, "unmapped:acme")}
    assert lines["tkg_cluster"]["quantity"] == D("744")
    assert lines["tkg_cluster"]["list_amount"] == D("37.20")
    assert lines["vcpu"]["quantity"] == D("5952")
    vcpu_rows = [r for r in result["rated_usage"] if r["product"] == "vcpu"]
    assert {r["resource_id"] for r in vcpu_rows} == {f"urn:vcloud:vm:node{n}" for n in range(4)}


def test_example_7_discount_on_subtotal_and_tax_once(rater: Rater) -> None:
    # Three lines of 53.04, 17.38 and 16.50 (examples 1-3), 10 % plan discount, 21 % VAT.
    rater.card(
        '[[rates]]\nproduct = "vcpu"\nunit_price = "0.01"\n\n'
        '[[rates]]\nproduct = "ram"\nunit_price = "0.01"\n\n'
        '[[rates]]\nproduct = "tkg_cluster"\nunit_price = "0.01"\n'
    )
    rater.tenants(
        """
        [[tenants]]
        id = "acme"
        billing_name = "ACME"
        orgs = ["acme"]
        currency = "EUR"
        tax_rate = "0.21"
        plan = "std"
        discount_percent = "10"
        """
    )
    rows = [
        make_interval(product="vcpu", level=D("5304"), interval_end=at(1, 1)),
        make_interval(product="ram", level=D("1738"), interval_end=at(1, 1)),
        make_interval(
            product="tkg_cluster",
            resource_type="tkg_cluster",
            level=D("1650"),
            resource_id="c1",
            interval_end=at(1, 1),
        ),
    ]
    result = rater.rate(rows)
    assert sorted(x["list_amount"] for x in lines_of(result, "acme")) == [
        D("16.50"),
        D("17.38"),
        D("53.04"),
    ]
    t = totals_of(result, "acme")
    assert t["lines_amount"] == D("86.92")
    assert t["discount_amount"] == D("-8.69")
    assert t["minimum_adjustment"] == D("0.00")
    assert t["subtotal_amount"] == D("78.23")
    assert t["tax_rate"] == D("0.21")
    assert t["tax_amount"] == D("16.43")
    assert t["total_amount"] == D("94.66")
    assert t["tenant_name"] == "ACME" and t["currency"] == "EUR"
