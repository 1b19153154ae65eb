"""End to end on a real loopback port: the provider config and the real collectors."""

from __future__ import annotations

from pathlib import Path

import httpx

from metering.config import load_config
from metering.simulator import Simulation, serve_in_thread
from metering.sources.collect import collect

from .conftest import START, hours


def test_collectors_read_every_source_of_every_site(tmp_path: Path) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    with serve_in_thread(sim) as server:
        assert server.site_urls("az2")["cloudian"] == f"{server.base_url}/az2/cloudian"
        config = load_config(sim.provider_config(tmp_path))
        assert [s.name for s in config.sites] == ["az1", "az2"]
        assert config.pricing_dir.is_dir() and config.tenant_catalog.is_file()
        password = sim.passwords["az1"]["vcd"]
        assert password not in (tmp_path / "provider.toml").read_text(encoding="utf-8")
        at = START + hours(5)
        httpx.post(f"{server.base_url}/_sim/clock", json={"now": at.isoformat()})
        summary = collect(config, at)
    results = {(r.site, r.source): r for r in summary.results}
    assert len(results) == 12  # 6 sources x 2 sites
    for result in results.values():
        assert result.status == "ok" and result.quarantined == 0, result
        assert result.rows > 0, result
    assert sim.server is None


def test_provider_config_needs_a_running_server(tmp_path: Path) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    try:
        sim.provider_config(tmp_path)
    except RuntimeError as exc:
        assert "serve_in_thread" in str(exc)
    else:
        raise AssertionError("expected an error")


def test_generated_config_keeps_passwords_in_private_files(tmp_path: Path) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    with serve_in_thread(sim) as server:
        path = sim.provider_config(tmp_path, server)
    text = path.read_text(encoding="utf-8")
    for site in sim.sites:
        for system in ("vcd", "cloudian"):
            assert sim.passwords[site][system] not in text
            secret = tmp_path / "secrets" / f"{site}-{system}.password"
            assert secret.stat().st_mode & 0o077 == 0  # readable by its owner only
    # any later command (a new shell, no environment) loads the config
    config = load_config(path)
    assert config.site("az2").vcd_password.reveal() == sim.passwords["az2"]["vcd"]
