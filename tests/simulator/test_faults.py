"""Every fault kind, its configuration paths (Python, HTTP) and its reproducibility."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from metering.simulator import FaultRule, Simulation, serve_in_thread

from .conftest import START, VERSION, Api, hours

ORGS = "/az1/vcd/cloudapi/1.0.0/orgs"


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_server_errors(api: Api, status: str) -> None:
    api.tokens["az1"] = api.login("az1")
    api.sim.faults.add(status, pattern="/az1/vcd/cloudapi/*")
    assert api.get(ORGS).status_code == int(status)
    assert api.get("/az1/vcd/api/query", type="adminVM").status_code == 200


def test_429_with_retry_after(api: Api) -> None:
    api.sim.faults.add("429", pattern="*/orgs", retry_after=7, limit=1)
    first, second = api.get(ORGS), api.get(ORGS)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert second.status_code == 200


def test_truncated_and_malformed_bodies(api: Api) -> None:
    api.sim.faults.add("truncate", pattern="*/orgs", limit=1)
    api.sim.faults.add("malformed", pattern="*/orgs", limit=1)
    for _ in range(2):
        response = api.get(ORGS)
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    assert api.get(ORGS).json()["values"]


def test_duplicate_records_across_pages(api: Api) -> None:
    page1 = api.get("/az1/vcd/api/query", type="adminVM", page=1, pageSize=20).json()
    api.sim.faults.add("duplicate", pattern="/az1/vcd/api/query")
    page2 = api.get("/az1/vcd/api/query", type="adminVM", page=2, pageSize=20).json()
    assert page2["record"][0] == page1["record"][-1]
    assert page2["total"] == page1["total"]


def test_next_page_link_loops(api: Api) -> None:
    api.sim.faults.add("loop", pattern="/az1/vcd/*")
    legacy = api.get("/az1/vcd/api/query", type="adminVM", page=2, pageSize=20).json()
    nxt = [link["href"] for link in legacy["link"] if link["rel"] == "nextPage"]
    assert nxt and "page=1" in nxt[0]
    openapi = api.get(ORGS, page=2, pageSize=3)
    assert "page=1" in openapi.headers["Link"].split(';rel="nextPage"')[0]


def test_site_down_for_one_simulated_hour(api: Api, sim: Simulation) -> None:
    api.tokens["az2"] = api.login("az2")
    sim.faults.add("site_down", site="az2", start=START + hours(10))
    sim.set_now(START + hours(10) + timedelta(minutes=30))
    assert api.get("/az2/vcd/cloudapi/1.0.0/orgs", "az2").status_code == 503
    assert api.get("/az2/cloudian/group/list", "az2").status_code == 503
    assert api.get(ORGS).status_code == 200
    sim.set_now(START + hours(11))
    assert api.get("/az2/vcd/cloudapi/1.0.0/orgs", "az2").status_code == 200


def test_faults_are_reproducible_by_seed() -> None:
    def pattern(seed: int) -> list[int]:
        sim = Simulation.from_sample_data(seed=seed, start=START)
        sim.faults.add("503", pattern="*/orgs", rate=0.3)
        api = Api(sim)
        return [api.get(ORGS, page=i % 3 + 1).status_code for i in range(30)]

    first = pattern(7)
    assert 0 < first.count(503) < 30
    assert pattern(7) == first


def test_faults_over_http_control(api: Api) -> None:
    rule = {"kind": "503", "pattern": "*/orgs", "rate": 1.0}
    posted = api.request("POST", "/_sim/faults", json=rule)
    assert posted.status_code == 200 and posted.json()["faults"][0]["kind"] == "503"
    assert api.get(ORGS).status_code == 503
    assert api.request("GET", "/_sim/faults").json()["faults"][0]["fired"] == 1
    assert api.request("POST", "/_sim/faults", json={"kind": "nope"}).status_code == 400
    assert api.request("DELETE", "/_sim/faults").json() == {"faults": []}
    assert api.get(ORGS).status_code == 200


def test_fault_rules_validate() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule(kind="teapot")
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultRule(kind="500", rate=2)
    with pytest.raises(ValueError, match="site_down"):
        FaultRule(kind="site_down")


def test_slow_and_dropped_responses_over_a_real_port() -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    with serve_in_thread(sim) as server:
        api = Api(sim)
        token = api.login("az1")
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": f"application/json;version={VERSION}",
        }
        sim.faults.add("slow", pattern="*/orgs", delay=0.5, limit=1)
        client = httpx.Client(base_url=server.base_url, headers=headers, timeout=0.1)
        with client, pytest.raises(httpx.ReadTimeout):
            client.get(ORGS)
        sim.faults.add("drop", pattern="*/orgs", limit=1)
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=5) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                client.get(ORGS)
            assert client.get(ORGS).status_code == 200


def test_dropped_connection_in_process_is_a_transport_error(api: Api) -> None:
    api.tokens["az1"] = api.login("az1")
    api.sim.faults.add("drop", pattern="*/orgs", limit=1)
    with pytest.raises(httpx.TransportError):
        api.get(ORGS)
    assert api.get(ORGS).status_code == 200
