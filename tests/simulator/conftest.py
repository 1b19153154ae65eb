"""Shared helpers: the sample simulation, driven in-process over ``httpx.ASGITransport``."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from metering.simulator import Simulation, create_app

START = datetime(2026, 10, 1, tzinfo=UTC)


class Api:
    """Synchronous calls into the simulator's ASGI app (each call a real HTTP exchange)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.app = create_app(sim)
        self.tokens: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(go())

    def login(self, site: str = "az1") -> str:
        password = self.sim.passwords[site]["vcd"]
        response = self.request(
            "POST",
            f"/{site}/vcd/cloudapi/1.0.0/sessions/provider",
            headers={"Authorization": basic(f"administrator@System:{password}")},
        )
        assert response.status_code == 200, response.text
        return response.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]

    def get(self, path: str, site: str = "az1", **params: Any) -> httpx.Response:
        """GET with the site's bearer token (VCD and OSE) or Basic auth (Cloudian)."""
        if "/cloudian/" in path:
            auth = basic(f"sysadmin:{self.sim.passwords[site]['cloudian']}")
        else:
            if site not in self.tokens:
                self.tokens[site] = self.login(site)
            auth = f"Bearer {self.tokens[site]}"
        return self.request("GET", path, params=params, headers={"Authorization": auth})

    def all_query(self, site: str, kind: str, page_size: int = 128) -> list[dict[str, Any]]:
        """Every record of a legacy query, following ``nextPage`` links."""
        body = self.get(f"/{site}/vcd/api/query", site, type=kind, pageSize=page_size).json()
        records = list(body["record"])
        while nxt := [link for link in body["link"] if link["rel"] == "nextPage"]:
            body = self.request(
                "GET", nxt[0]["href"], headers={"Authorization": f"Bearer {self.tokens[site]}"}
            ).json()
            records += body["record"]
        return records


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def hours(n: int) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return Simulation.from_sample_data(seed=7, start=START)


@pytest.fixture
def api(sim: Simulation) -> Api:
    sim.set_now(START + hours(100))
    sim.faults.clear()
    return Api(sim)
