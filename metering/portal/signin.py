"""Sign-in with VCD: the portal keeps no users; a site's VCD says who someone is.

- A tenant user gives ``user@org`` and a password, or the org and a VCD API token. The
  portal asks each of the provider's sites in turn: ``POST /cloudapi/1.0.0/sessions``
  (Basic ``user@org:password``), or ``POST /oauth/tenant/{org}/token`` with
  ``grant_type=refresh_token`` and the API token then ``GET /cloudapi/1.0.0/sessions/current``
  (go-vcloud-director ``GetBearerTokenFromApiToken``, ``GetSessionInfo``; pyvcloud
  ``Client.set_credentials``). The org named in VCD's answer maps to a tenant through the
  tenant catalog; an org the catalog does not name cannot sign in.
- Provider staff sign in as VCD system administrators: ``user@System`` at
  ``POST /cloudapi/1.0.0/sessions/provider``.

The VCD session is ended again at once (``DELETE /api/session``): the portal only needs the
answer to "who is this". Passwords and tokens are never logged or kept.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from metering.config import ProviderConfig, SiteConfig
from metering.errors import MeteringError
from metering.readmodel.views import TenantView
from metering.sources.versions import choose_version, parse_versions

log = logging.getLogger("metering.portal")


@dataclass(frozen=True)
class Principal:
    """Who a portal session or API key acts for: the provider, or exactly one tenant."""

    kind: str  # "provider" | "tenant"
    name: str  # user@org as VCD reported it, or "api-key:<id>"
    tenant_id: str | None = None
    site: str | None = None

    @property
    def is_provider(self) -> bool:
        return self.kind == "provider"

    def may_see(self, tenant_id: str) -> bool:
        return self.is_provider or tenant_id == self.tenant_id


class SignInError(Exception):
    """Sign-in refused; the message is safe to show (it never says which part was wrong)."""


GENERIC = "Sign-in failed: unknown user, wrong password or token, or no billing account."


def tenant_of_org(tenants: tuple[TenantView, ...], org: str) -> str | None:
    """The catalog's tenant for a VCD org (exact name first; VCD org names ignore case)."""
    for tenant in tenants:
        if org in tenant.orgs:
            return tenant.tenant_id
    for tenant in tenants:
        if org.lower() in (o.lower() for o in tenant.orgs):
            return tenant.tenant_id
    return None


class VcdSignIn:
    """Checks credentials against the sites of ``config`` over HTTP."""

    def __init__(self, config: ProviderConfig, tenants: tuple[TenantView, ...]) -> None:
        self.sites = config.sites
        self.tenants = tenants

    def _client(self, site: SiteConfig) -> httpx.Client:
        """A client speaking the highest API version both sides know (``GET /api/versions``,
        as the collectors negotiate it: metering.sources.versions)."""
        verify: Any = str(site.ca_bundle) if site.ca_bundle else site.verify_tls
        client = httpx.Client(
            base_url=site.vcd_url,
            timeout=min(site.timeout_seconds, 15.0),
            verify=verify,
            proxy=site.proxy.reveal() if site.proxy else None,
        )
        version = site.api_version
        try:
            answer = client.get("/api/versions", headers={"Accept": "application/*+xml"})
            if answer.status_code == 200:
                offered = parse_versions(answer.content, site=site.name)
                version = choose_version(offered, site.api_version, site=site.name)
        except (httpx.HTTPError, MeteringError) as exc:
            log.warning("sign-in: site %s: no API version (%s)", site.name, exc)
        client.headers["Accept"] = f"application/json;version={version or '38.0'}"
        return client

    def password(self, login: str, password: str) -> Principal:
        user, _, org = login.strip().rpartition("@")
        if not user or not org or not password:
            raise SignInError("Give your user name as user@organisation, and a password.")
        provider = org.lower() == "system"
        path = "/cloudapi/1.0.0/sessions/provider" if provider else "/cloudapi/1.0.0/sessions"
        for site in self.sites:
            client = self._client(site)
            try:
                answer = self._post(client, site, path, auth=(f"{user}@{org}", password))
                if answer is None:
                    continue
                self._end(client, answer.headers.get("X-VMWARE-VCLOUD-ACCESS-TOKEN", ""))
            finally:
                client.close()
            return self._principal(_json(answer), site, provider)
        raise SignInError(GENERIC)

    def api_token(self, org: str, token: str) -> Principal:
        org = org.strip()
        if not org or not token or org.lower() == "system":
            raise SignInError("Give your organisation and a VCD API token.")
        for site in self.sites:
            client = self._client(site)
            try:
                session = self._token_session(client, site, org, token)
            finally:
                client.close()
            if session is not None:
                return self._principal(session, site, False)
        raise SignInError(GENERIC)

    def _token_session(
        self, client: httpx.Client, site: SiteConfig, org: str, token: str
    ) -> dict[str, Any] | None:
        """API token → bearer token → the session it opens (None: not at this site)."""
        path = f"/oauth/tenant/{quote(org, safe='')}/token"
        data = {"grant_type": "refresh_token", "refresh_token": token}
        answer = self._post(client, site, path, data=data)
        access = str(_json(answer).get("access_token", "")) if answer else ""
        if not access:
            return None
        try:
            current = client.get(
                "/cloudapi/1.0.0/sessions/current", headers={"Authorization": f"Bearer {access}"}
            )
        except httpx.HTTPError:
            return None
        finally:
            self._end(client, access)
        return _json(current) if current.status_code == 200 else None

    def _post(
        self, client: httpx.Client, site: SiteConfig, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        try:
            answer = client.post(path, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("sign-in: site %s unreachable (%s)", site.name, type(exc).__name__)
            return None
        if answer.status_code != 200:
            return None
        return answer

    def _end(self, client: httpx.Client, token: str) -> None:
        if not token:
            return
        with contextlib.suppress(httpx.HTTPError):  # else the session expires by itself
            client.delete("/api/session", headers={"Authorization": f"Bearer {token}"})

    def _principal(self, session: dict[str, Any], site: SiteConfig, provider: bool) -> Principal:
        org = str((session.get("org") or {}).get("name", ""))
        user = str((session.get("user") or {}).get("name", ""))
        if not org or not user:
            raise SignInError(GENERIC)
        name = f"{user}@{org}"
        if provider:
            if org.lower() != "system":
                raise SignInError(GENERIC)
            return Principal("provider", name, site=site.name)
        tenant = tenant_of_org(self.tenants, org)
        if tenant is None:
            log.info("sign-in: org %r has no tenant in the catalog", org)
            raise SignInError(GENERIC)
        return Principal("tenant", name, tenant_id=tenant, site=site.name)


def _json(answer: httpx.Response | None) -> dict[str, Any]:
    if answer is None:
        return {}
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
