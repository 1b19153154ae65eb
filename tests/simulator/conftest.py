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
VERSION = "39.0"  # offered by the simulated VCD 10.6 every site runs by default


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
            headers={
                "Authorization": basic(f"administrator@System:{password}"),
                "Accept": f"application/json;version={VERSION}",
            },
        )
        assert response.status_code == 200, response.text
        return response.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]

    def get(
        self, path: str, site: str = "az1", headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        """GET with the site's bearer token (VCD and OSE) or Basic auth (Cloudian); VCD calls
        carry the API version in ``Accept``."""
        if "/cloudian/" in path:
            auth = basic(f"sysadmin:{self.sim.passwords[site]['cloudian']}")
        else:
            if site not in self.tokens:
                self.tokens[site] = self.login(site)
            auth = f"Bearer {self.tokens[site]}"
        sent = {"Authorization": auth, **(headers or {})}
        if "/vcd/" in path:
            sent.setdefault("Accept", f"application/*+json;version={VERSION}")
        return self.request("GET", path, params=params, headers=sent)

    def all_query(
        self,
        site: str,
        kind: str,
        page_size: int = 128,
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every record of a legacy query, following ``nextPage`` links."""
        body = self.get(
            f"/{site}/vcd/api/query", site, headers, type=kind, pageSize=page_size
        ).json()
        records = list(body["record"])
        while nxt := [link for link in body["link"] if link["rel"] == "nextPage"]:
            body = self.request(
                "GET",
                nxt[0]["href"],
                headers={
                    **(headers or {}),
                    "Authorization": f"Bearer {self.tokens[site]}",
                    "Accept": f"application/*+json;version={VERSION}",
                },
            ).json()
            records += body["record"]
        return records

    def org_vms(self, site: str) -> dict[str, list[dict[str, Any]]]:
        """Each org's ``vm`` query records, listed in its tenant context, by org name."""
        orgs = self.get(f"/{site}/vcd/cloudapi/1.0.0/orgs", site, pageSize=128).json()
        return {
            org["name"]: self.all_query(
                site, "vm", headers={"X-VMWARE-VCLOUD-TENANT-CONTEXT": org["id"].split(":")[-1]}
            )
            for org in orgs["values"]
        }


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
