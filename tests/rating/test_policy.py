"""Rate cards and the tenant catalog are validated on load; errors name file, line and key."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from metering.errors import ConfigError, PricingError
from metering.rating.catalog import load_catalog
from metering.rating.policy import load_pricing
from metering.resources import resource_dir
from tests.rating.conftest import write_card, write_catalog


def test_shipped_default_policy_and_every_example_load() -> None:
    pricing = load_pricing(resource_dir("pricing"))
    assert set(pricing.policies) == {"standard"}
    first, second = pricing.policies["standard"]
    assert first.effective_to == second.effective_from
    derived = {
        r.dimension: r.tiers[0].unit_price for r in first.rates if r.product == "object_storage"
    }
    assert derived == {"2DC-3R": D("0.033"), "EC-4+2": D("0.015"), "1DC-3R": D("0.03")}
    examples = load_pricing(resource_dir("pricing") / "examples")
    models = {r.model for c in examples.cards for r in c.rates}
    assert models == {"per_unit", "graduated", "volume"}
    assert any(c.fixed_fees for c in examples.cards)
    assert any(c.minimum_monthly_charge for c in examples.cards)
    catalog = load_catalog(
        resource_dir("pricing") / "examples" / "catalog" / "tenants.toml", "standard"
    )
    assert catalog[0].custom_rates[("vm_disk", "Gold")] == D("0.10")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[rates]]\nproduct = "vcpu"\nunit_price = 0.0125\n',
            r"std-1.toml:11: rates\[0\].unit_price: write prices as strings",
        ),
        (
            '[[rates]]\nproduct = "vcpu"\nunit_price = "abc"\n',
            r"std-1.toml:11: rates\[0\].unit_price: .abc' is not a decimal",
        ),
        (
            '[[rates]]\nproduct = "cpu"\nunit_price = "1"\n',
            r"std-1.toml:10: rates\[0\].product: unknown product 'cpu'",
        ),
        (
            '[[rates]]\nproduct = "vcpu"\nunit_price = "1"\n\n'
            '[[rates]]\nproduct = "ram"\nunit_pric = "1"\n',
            r"std-1.toml:15: rates\[1\].unit_pric: unknown key",
        ),
        (
            '[[rates]]\nproduct = "vcpu"\nmodel = "graduated"\n'
            'tiers = [ { unit_price = "1" }, { up_to = "5", unit_price = "1" } ]\n',
            r"std-1.toml:12: rates\[0\].tiers: tier 1: every tier but the last needs up_to",
        ),
        (
            '[[rates]]\nproduct = "vcpu"\nunit_price = "-1"\n',
            r"rates\[0\].unit_price: must be a non-negative",
        ),
        ('[[rates]]\nproduct = "vcpu"\nunit_price = "0.0000000001"\n', r"more than 9 decimals"),
        (
            '[[rates]]\nproduct = "vcpu"\nunit_price = "1"\nper = 1000\n',
            r"rates\[0\].per: only count products",
        ),
        (
            '[[rates]]\nproduct = "vcpu"\nunit_price = "1"\n\n'
            '[[rates]]\nproduct = "vcpu"\nunit_price = "2"\n',
            r"a second rate for vcpu/\*",
        ),
        (
            '[object_storage]\nraw_unit_price = "0.01"\n'
            '[object_storage.policies."X"]\nerasure_coding = { DC1 = "4-2" }\n',
            r"std-1.toml:12: object_storage.policies.X.erasure_coding: DC1: write 'k\+m'",
        ),
        (
            '[[fixed_fees]]\nid = "s"\ndescription = "S"\namount = "1.001"\n',
            r"fixed_fees\[0\].amount: an amount has at most 2 decimals",
        ),
    ],
)
def test_bad_rate_cards_name_file_line_and_key(tmp_path: Path, body: str, message: str) -> None:
    write_card(tmp_path, body)
    with pytest.raises(PricingError, match=message):
        load_pricing(tmp_path)


def test_card_header_errors(tmp_path: Path) -> None:
    write_card(tmp_path, "", start="2026-10-01T00:30:00Z")
    with pytest.raises(
        PricingError,
        match=r"std-1.toml:5: rate_card.effective_from: rate cards change on whole hours",
    ):
        load_pricing(tmp_path)
    write_card(tmp_path, "", currency="euro")
    with pytest.raises(
        PricingError, match=r"std-1.toml:4: rate_card.currency: must be an ISO 4217"
    ):
        load_pricing(tmp_path)


def test_overlapping_cards_of_a_policy_are_refused(tmp_path: Path) -> None:
    write_card(tmp_path, "", card_id="a", end="2026-10-20T00:00:00Z")
    write_card(tmp_path, "", card_id="b", start="2026-10-15T00:00:00Z")
    with pytest.raises(
        PricingError, match=r"b.toml: rate_card.effective_from overlaps a.toml in policy 'std'"
    ):
        load_pricing(tmp_path)


def test_the_readmes_effective_to_advice_is_what_the_loader_accepts(tmp_path: Path) -> None:
    readme = (resource_dir("pricing") / "README.md").read_text(encoding="utf-8")
    (line,) = [x for x in readme.splitlines() if x.startswith("effective_to =")]
    advice = line.split("#", 1)[1].strip()
    # the loader: an open card followed by a later one overlaps it, whatever their order on disk
    write_card(tmp_path / "open", "", card_id="a")
    write_card(tmp_path / "open", "", card_id="b", start="2026-10-15T00:00:00Z")
    with pytest.raises(PricingError, match=r"close the earlier card with effective_to"):
        load_pricing(tmp_path / "open")
    write_card(tmp_path / "closed", "", card_id="a", end="2026-10-15T00:00:00Z")
    write_card(tmp_path / "closed", "", card_id="b", start="2026-10-15T00:00:00Z")
    assert len(load_pricing(tmp_path / "closed").policies["std"]) == 2
    # so omitting it is only for the last card, not "until a later card"
    assert "later card" not in advice and "last card" in advice
    assert "Only the policy's last card may omit `effective_to`" in readme


def test_invalid_toml_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match="no rate cards"):
        load_pricing(tmp_path)
    (tmp_path / "bad.toml").write_text("[rate_card\n")
    with pytest.raises(PricingError, match=r"bad\.toml: invalid TOML"):
        load_pricing(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[tenants]]\nid = "a"\nbilling_name = "A"\norgs = ["a"]\ntax_rate = 0.21\n',
            r"tenants.toml:5: tenants\[0\].tax_rate: write numbers as strings",
        ),
        (
            '[[tenants]]\nid = "a"\nbilling_name = "A"\norgs = ["a"]\ntax_rate = "21"\n',
            r"tenants.toml:5: tenants\[0\].tax_rate: is a fraction",
        ),
        (
            '[[tenants]]\nid = "a"\nbilling_name = "A"\norgs = []\n',
            r"tenants.toml:4: tenants\[0\].orgs: must be a non-empty list",
        ),
        (
            '[[tenants]]\nid = "a"\nbilling_name = "A"\norgs = ["a"]\n\n'
            '[[tenants]]\nid = "b"\nbilling_name = "B"\norgs = ["a"]\n',
            r"tenants.toml:9: tenants\[1\].orgs: org 'a' is already in tenant 'a'",
        ),
        (
            '[[tenants]]\nid = "a"\nbilling_name = "A"\norgs = ["a"]\n'
            'custom_rates = { cpu = "1" }\n',
            r"custom_rates: 'cpu': unknown product",
        ),
        ('[[tenants]]\nid = "a"\norgs = ["a"]\n', r"tenants\[0\].billing_name: is required"),
    ],
)
def test_bad_catalogs_name_file_line_and_key(tmp_path: Path, body: str, message: str) -> None:
    path = write_catalog(tmp_path / "tenants.toml", body)
    with pytest.raises(ConfigError, match=message):
        load_catalog(path, "std")
