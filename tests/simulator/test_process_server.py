"""The simulated provider served from a child process (what `metering demo` uses)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from metering.simulator import Simulation, serve_in_process


def test_process_server_serves_every_site_and_its_clock_moves_over_http() -> None:
    sim = Simulation.generate(vms=10, clusters=1, tenants=2, seed=3)
    with serve_in_process(sim) as server:
        later = datetime(2026, 10, 3, 5, tzinfo=UTC)
        httpx.post(f"{server.base_url}/_sim/clock", json={"now": later.isoformat()})
        clock = httpx.get(f"{server.base_url}/_sim/clock").json()
        assert clock["now"].startswith("2026-10-03T05:00")
        for site in sim.sites:
            versions = httpx.get(f"{server.site_urls(site)['vcd']}/api/versions")
            assert versions.status_code == 200
            assert "SupportedVersions" in versions.text
    # stopped: the port no longer answers
    try:
        httpx.get(f"{server.base_url}/_sim/clock", timeout=1)
        answered = True
    except httpx.HTTPError:
        answered = False
    assert not answered
