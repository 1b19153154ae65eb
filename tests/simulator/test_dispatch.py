"""The simulator's request path: each service's routes answer under ``/<site>/<service>``,
unknown paths and methods answer as before (404/405), control routes stay reachable, and
resource ids are exactly RFC 4122 version-5 UUIDs."""

from __future__ import annotations

import uuid

from metering.simulator import Simulation, names

from .conftest import START, VERSION, Api, basic


def test_every_service_and_the_control_routes_answer_and_unknowns_are_404() -> None:
    api = Api(Simulation.from_sample_data(seed=7, start=START))
    token = api.login("az1")
    bearer = {"Authorization": f"Bearer {token}"}
    versioned = {**bearer, "Accept": f"application/json;version={VERSION}"}
    assert api.request("GET", "/az1/vcd/cloudapi/1.0.0/orgs", headers=versioned).status_code == 200
    # VCD wants the API version in Accept: none, or one the site does not offer, is a 406
    assert api.request("GET", "/az1/vcd/cloudapi/1.0.0/orgs", headers=bearer).status_code == 406
    old = {**bearer, "Accept": "application/json;version=33.0"}
    assert api.request("GET", "/az1/vcd/cloudapi/1.0.0/orgs", headers=old).status_code == 406
    tenants = api.request("GET", "/az1/ose/api/v1/core/associated-tenants", headers=bearer)
    assert tenants.status_code == 200 and tenants.json()["items"]
    password = api.sim.passwords["az1"]["cloudian"]
    auth = {"Authorization": basic(f"sysadmin:{password}")}
    groups = api.request("GET", "/az1/cloudian/group/list", headers=auth)
    assert groups.status_code == 200 and groups.json()
    assert api.request("GET", "/_sim/clock").json()["now"] == START.isoformat()
    for path in ("/az1/cloudian/nope", "/az1/vcd/api/nope", "/az1/nosuch/x", "/nope", "/"):
        assert api.request("GET", path).status_code == 404, path
    assert api.request("PUT", "/az1/vcd/cloudapi/1.0.0/sessions/provider").status_code == 405


def test_resource_ids_are_version_5_uuids_of_their_names() -> None:
    for parts in [("vm", 7, 0), ("vm", 7, 49_999), ("vapp", 7, "az1", "Acme Élan", 3), ()]:
        expected = uuid.uuid5(
            uuid.UUID("6f1c2b1e-9a57-4c1e-8d3c-5a0c0b5e7d21"), "/".join(map(str, parts))
        )
        assert names.uid(*parts) == str(expected)
        assert uuid.UUID(names.uid(*parts)).version == 5


def test_usage_rejects_impossible_times_with_a_clear_400() -> None:
    api = Api(Simulation.from_sample_data(seed=7, start=START))
    auth = {"Authorization": basic(f"sysadmin:{api.sim.passwords['az1']['cloudian']}")}
    group = api.request("GET", "/az1/cloudian/group/list", headers=auth).json()[0]["groupId"]
    params = {"id": group, "operation": "SB", "endTime": "202610020000", "granularity": "hour"}
    ok = api.request(
        "GET", "/az1/cloudian/usage", headers=auth, params={**params, "startTime": "202610010000"}
    )
    assert ok.status_code in (200, 204)
    for bad in ("202613010000", "202602300000", "2026100100aa"):
        answer = api.request(
            "GET", "/az1/cloudian/usage", headers=auth, params={**params, "startTime": bad}
        )
        assert answer.status_code == 400 and "startTime" in answer.text and bad in answer.text
