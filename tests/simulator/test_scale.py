"""The generator builds the sample's shape at any scale, compactly and deterministically."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from metering.simulator import Simulation
from metering.window import Window

from .conftest import START, Api


def test_generated_provider_has_the_requested_shape() -> None:
    sim = Simulation.generate(vms=20_000, clusters=1_000, tenants=500, sites=3, seed=1)
    world = sim.world
    assert sim.sites == ("az1", "az2", "az3")
    assert len(world.org_names) == 500
    assert len(world.clusters.site) == 1_000
    plain = int((world.vms.kind == 0).sum())
    assert plain == 20_000
    assert int((world.vms.kind == 1).sum()) >= 2_000  # at least 1 control plane + 1 worker
    assert world.vms.site.nbytes == 8 * len(world.vms.site)  # columns, not objects
    rows = sim.truth(Window.month(2026, 10))
    vcpu = sum(Decimal(r["quantity"]) for r in rows if r["product"] == "vcpu")
    assert vcpu > 0
    again = Simulation.generate(vms=20_000, clusters=1_000, tenants=500, sites=3, seed=1)
    assert again.truth(Window.month(2026, 10)) == rows


def test_generated_provider_serves_its_apis() -> None:
    sim = Simulation.generate(vms=3_000, clusters=100, tenants=60, seed=3, start=START)
    api = Api(sim)
    body = api.get("/az2/vcd/api/query", "az2", type="adminVM", pageSize=128).json()
    assert body["total"] > 1_000 and len(body["record"]) == 128
    orgs = api.get("/az2/vcd/cloudapi/1.0.0/orgs", "az2").json()
    assert orgs["resultTotal"] > 20


def test_generated_provider_config_has_its_own_catalog(tmp_path: Path) -> None:
    from metering.config import load_config
    from metering.rating.catalog import load_catalog
    from metering.simulator import serve_in_thread

    sim = Simulation.generate(vms=500, clusters=10, tenants=120, seed=2, start=START)
    with serve_in_thread(sim):
        config = load_config(sim.provider_config(tmp_path))
    tenants = load_catalog(config.tenant_catalog, "standard")
    assert len(tenants) == 120 - 2  # every 50th org is left unmapped
    assert config.tenant_catalog.parent == tmp_path.resolve()


def test_sample_provider_config_names_a_complete_issuer(tmp_path: Path) -> None:
    """The demo's invoices carry the issuer's address, VAT id and bank details: the sample
    inventory's [provider.branding] reaches the written config and the invoicing settings."""
    from metering.close.settings import load_settings
    from metering.config import load_config
    from metering.simulator import serve_in_thread

    sim = Simulation.from_sample_data(seed=7, start=START)
    with serve_in_thread(sim):
        branding = load_settings(load_config(sim.provider_config(tmp_path))).branding
    assert branding.legal_name == "Sample Cloud B.V."
    assert branding.address == ("Herengracht 500", "1017 CB Amsterdam", "Netherlands")
    assert branding.vat_id.startswith("NL") and "IBAN NL91" in branding.bank
    assert branding.email and branding.website
