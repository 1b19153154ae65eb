"""A closed month of the close test case, signed in against the sample simulated provider.

Tenants: ``acme`` (org ``acme``), ``evil`` (a hostile billing name; org ``A<B Labs``) and
``unmapped:orphan-org``. The simulator serves the sample inventory, so ``orgadmin@acme``
and ``orgadmin@A<B Labs`` sign in with the seed's passwords, ``administrator@System`` is
provider staff, and ``orgadmin@globex`` is a real VCD user whose org has no tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

from metering.close import close_month
from metering.config import ProviderConfig, load_config
from metering.portal import create_app
from metering.portal.server import PortalServer
from metering.simulator import Simulation, serve_in_thread
from tests.close.builders import FROZEN_NOW, MONTH, build_month

ORGS = {"acme": "acme", "evil": "A<B Labs"}


@dataclass
class Env:
    config: ProviderConfig
    sim: Simulation
    app: Any
    base_url: str
    clients: list[httpx.Client] = field(default_factory=list)

    def password(self, org: str) -> str:
        return self.sim.org_credentials(org)["password"]

    def api_token(self, org: str) -> str:
        return self.sim.org_credentials(org)["api_token"]

    @property
    def admin_password(self) -> str:
        return self.sim.passwords["az1"]["vcd"]

    @property
    def portal(self) -> Any:
        return self.app.app.state.portal


def _point_at(config_dir: Path, sim: Simulation, base_url: str) -> None:
    """The close case's provider.toml, its sites now the running simulator's, and its
    catalog mapping acme and evil to sample orgs."""
    text = (config_dir / "provider.toml").read_text(encoding="utf-8")
    text = text[: text.index("[[sites]]")]
    for site in sim.sites:
        secret = config_dir / f"{site}-vcd.secret"
        secret.write_text(sim.passwords[site]["vcd"], encoding="utf-8")
        text += (
            f'[[sites]]\nname = "{site}"\nvcd_url = "{base_url}/{site}/vcd"\n'
            f'vcd_user = "administrator"\nvcd_password_file = "{secret.name}"\n\n'
        )
    (config_dir / "provider.toml").write_text(text, encoding="utf-8")
    catalog = (config_dir / "tenants.toml").read_text(encoding="utf-8")
    catalog = catalog.replace('orgs = ["acme-org"]', 'orgs = ["acme"]')
    catalog = catalog.replace('orgs = ["evil-org"]', 'orgs = ["A<B Labs"]')
    (config_dir / "tenants.toml").write_text(catalog, encoding="utf-8")


@pytest.fixture(scope="package")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("portal")
    config = build_month(tmp)
    sim = Simulation.from_sample_data(seed=7, start=MONTH.start)
    with serve_in_thread(sim) as server:
        _point_at(tmp, sim, server.base_url)
        config = load_config(tmp / "provider.toml")
        close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
        app = create_app(config)
        with PortalServer(app).start() as portal:
            found = Env(config, sim, app, portal.base_url)
            yield found
            for c in found.clients:
                c.close()


class Browser(httpx.Client):
    """An HTTP client over loopback that keeps cookies as a browser on localhost does:
    Secure cookies too (browsers treat localhost as a secure context; httpx's cookie jar
    would drop them over http)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url=base_url, follow_redirects=False, timeout=30)
        self.jar: dict[str, str] = {}

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        if self.jar and "cookie" not in request.headers:
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        response = super().send(request, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            parsed = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = morsel.value
        return response


def client(env: Env) -> Browser:
    """A browser-like client, not signed in (closed when the package's tests end)."""
    browser = Browser(env.base_url)
    env.clients.append(browser)
    return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(env: Env, login: str, password: str) -> Browser:
    c = client(env)
    form = c.get("/login")
    answer = c.post(
        "/login", data={"csrf_token": csrf_of(form.text), "login": login, "password": password}
    )
    assert answer.status_code == 303, answer.text
    return c


def tenant(env: Env, tenant_id: str) -> Browser:
    org = ORGS[tenant_id]
    return sign_in(env, f"orgadmin@{org}", env.password(org))


def provider(env: Env) -> Browser:
    return sign_in(env, "administrator@System", env.admin_password)
