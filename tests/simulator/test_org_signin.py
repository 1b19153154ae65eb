"""Org (tenant) users of the simulated provider sign in as at a real VCD."""

from __future__ import annotations

import httpx

from metering.simulator import Simulation, serve_in_thread


def test_org_user_session_api_token_and_refusals() -> None:
    sim = Simulation.from_sample_data(seed=3)
    creds = sim.org_credentials("acme")
    accept = {"Accept": "application/json;version=38.0"}
    with (
        serve_in_thread(sim) as server,
        httpx.Client(base_url=server.base_url, headers=accept) as http,
    ):
        assert (
            http.post(
                "/az1/vcd/cloudapi/1.0.0/sessions",
                auth=(f"{creds['user']}@acme", creds["password"]),
                headers={"Accept": "application/json"},
            ).status_code
            == 406
        )  # as every VCD call: a version in Accept
        ok = http.post(
            "/az1/vcd/cloudapi/1.0.0/sessions", auth=(f"{creds['user']}@ACME", creds["password"])
        )
        assert ok.status_code == 200
        assert ok.json()["org"]["name"] == "acme"  # org names are case-insensitive
        token = ok.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
        bearer = {"Authorization": f"Bearer {token}"}
        current = http.get("/az1/vcd/cloudapi/1.0.0/sessions/current", headers=bearer)
        assert current.json()["user"]["name"] == creds["user"]
        # a tenant token opens no provider endpoint, and only at its own site
        assert http.get("/az1/vcd/cloudapi/1.0.0/orgs", headers=bearer).status_code == 401
        assert (
            http.get("/az2/vcd/cloudapi/1.0.0/sessions/current", headers=bearer).status_code == 401
        )
        for user, password in (
            (f"{creds['user']}@acme", "wrong"),
            (f"{creds['user']}@System", creds["password"]),
            ("nobody@acme", creds["password"]),
        ):
            answer = http.post("/az1/vcd/cloudapi/1.0.0/sessions", auth=(user, password))
            assert answer.status_code == 401
        # an org that lives only at az1 cannot sign in at az2
        only_az1 = next(o for o in sim.world.inventory.orgs if o.sites == ("az1",))
        other = sim.org_credentials(only_az1.name)
        answer = http.post(
            "/az2/vcd/cloudapi/1.0.0/sessions",
            auth=(f"{other['user']}@{only_az1.name}", other["password"]),
        )
        assert answer.status_code == 401
        # API token → bearer (go-vcloud-director sends the grant as query parameters)
        grant = {"grant_type": "refresh_token", "refresh_token": creds["api_token"]}
        tok = http.post("/az1/vcd/oauth/tenant/acme/token", params=grant)
        assert tok.status_code == 200 and tok.json()["token_type"] == "Bearer"
        access = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        assert (
            http.get("/az1/vcd/cloudapi/1.0.0/sessions/current", headers=access).status_code == 200
        )
        bad = http.post("/az1/vcd/oauth/tenant/acme/token", data={**grant, "refresh_token": "x"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
        assert http.delete("/az1/vcd/api/session", headers=bearer).status_code == 204
        assert (
            http.get("/az1/vcd/cloudapi/1.0.0/sessions/current", headers=bearer).status_code == 401
        )
