"""The simulated provider: a world, a controllable clock, sessions, faults and ground truth.

``Simulation.from_sample_data(seed=7, start=<month start>)`` builds the sample provider;
``Simulation.generate(vms=…, clusters=…, tenants=…)`` the same shape at any scale. The clock
(the simulated "now") is moved by the demo and the tests; state changes only on whole hours,
so the state served at ``now`` is the state of hour ``floor((now - start) / 1 h)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metering.resources import resource_dir
from metering.simulator.faults import FaultPlan
from metering.simulator.inventory import Inventory, Table, load_inventory, scaled_inventory
from metering.simulator.world import World, build_world
from metering.window import Window, utc

if TYPE_CHECKING:
    from metering.simulator.server import RunningServer
    from metering.simulator.truth import TruthRow

HOUR = timedelta(hours=1)
VCD_USER = "administrator"
ORG_USER = "orgadmin"  # every simulated org has one user of this name (docs/simulator.md)
CLOUDIAN_USER = "sysadmin"
_CACHE_SIZE = 64
# The API versions a VCD release lists in /api/versions (its own major and the ones it keeps
# for older clients). Release → major is VCD's (10.4: 37.x, 10.5: 38.x, 10.6: 39.x); the exact
# minor list of each release is [I]. "future" offers only a version no metering speaks.
VCD_RELEASES: dict[str, tuple[str, ...]] = {
    "10.4": ("35.0", "35.2", "36.0", "36.1", "36.2", "36.3", "37.0", "37.1", "37.2"),
    "10.5": ("36.0", "36.1", "36.2", "36.3", "37.0", "37.1", "37.2", "38.0", "38.1"),
    "10.6": ("37.0", "37.1", "37.2", "38.0", "38.1", "39.0", "39.1"),
    "future": ("41.0",),
}
DEFAULT_RELEASE = "10.6"


def _month_hours(start: datetime) -> int:
    month = Window.month(start.year, start.month)
    return int((month.end - start) / HOUR) if start >= month.start else month.hours


class Simulation:
    """A provider of several sites, evolving over one month from ``start``."""

    def __init__(
        self,
        world: World,
        start: datetime,
        *,
        token_lifetime: float = 1800.0,
        tenant_catalog: Path | None = None,
    ) -> None:
        self.world = world
        self.start = utc(start)
        self.token_lifetime = token_lifetime
        self.tenant_catalog = tenant_catalog
        self.faults = FaultPlan(seed=world.seed)
        self._now = self.start
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        # Tenant sessions: token -> (site, org, expiry). Kept apart from the provider's, so
        # an org user's token never opens a provider endpoint.
        self._org_tokens: dict[str, tuple[str, str, float]] = {}
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.server: RunningServer | None = None
        self.passwords = {
            site: {"vcd": f"vcd-{site}-{world.seed}", "cloudian": f"hs-{site}-{world.seed}"}
            for site in world.inventory.sites
        }
        # The API versions each site's VCD offers in /api/versions and accepts (else 406).
        self.api_versions = {site: VCD_RELEASES[DEFAULT_RELEASE] for site in world.inventory.sites}

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_sample_data(
        cls,
        *,
        seed: int = 7,
        start: datetime | None = None,
        inventory: Inventory | None = None,
        **options: Any,
    ) -> Simulation:
        """The sample provider of ``sample_data/`` (2 sites, ~30 orgs), month from ``start``."""
        start = utc(start or datetime(2026, 10, 1, tzinfo=UTC))
        inventory = inventory or load_inventory()
        world = build_world(inventory, seed, _month_hours(start))
        catalog = resource_dir("sample_data") / "tenants.toml"
        return cls(world, start, tenant_catalog=catalog, **options)

    @classmethod
    def generate(
        cls,
        *,
        vms: int = 200_000,
        clusters: int = 10_000,
        tenants: int = 5_000,
        sites: int = 2,
        seed: int = 7,
        start: datetime | None = None,
        **options: Any,
    ) -> Simulation:
        """A provider of any scale (benchmarks): ``vms`` plain VMs plus the clusters' nodes."""
        start = utc(start or datetime(2026, 10, 1, tzinfo=UTC))
        inventory = scaled_inventory(vms=vms, clusters=clusters, tenants=tenants, sites=sites)
        return cls(build_world(inventory, seed, _month_hours(start)), start, **options)

    # -- clock ----------------------------------------------------------------------------------

    @property
    def sites(self) -> tuple[str, ...]:
        return self.world.inventory.sites

    @property
    def now(self) -> datetime:
        return self._now

    def set_now(self, when: datetime) -> None:
        """Move the simulated clock (either way); the served state follows at once."""
        if when.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware time")
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta = HOUR) -> datetime:
        self.set_now(self._now + delta)
        return self._now

    @property
    def hour(self) -> int:
        """The hour index of ``now`` (0 = the first hour of the month)."""
        return int((self._now - self.start) // HOUR)

    def site_index(self, site: str) -> int:
        return self.sites.index(site)

    def set_release(self, site: str, release: str) -> None:
        """Make ``site`` a VCD of ``release`` (``10.4``, ``10.5``, ``10.6``, ``future``)."""
        if site not in self.api_versions:
            raise ValueError(f"no site {site!r}")
        if release not in VCD_RELEASES:
            raise ValueError(f"unknown VCD release {release!r}; known: {', '.join(VCD_RELEASES)}")
        self.api_versions[site] = VCD_RELEASES[release]

    # -- sessions -------------------------------------------------------------------------------

    def login(self, site: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (site, time.monotonic() + self.token_lifetime)
        return token

    def token_valid(self, token: str, site: str) -> bool:
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None or entry[0] != site:
                return False
            if entry[1] < time.monotonic():
                del self._tokens[token]
                return False
            return True

    def logout(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)
            self._org_tokens.pop(token, None)

    def expire_tokens(self) -> None:
        """End every session now (clients must log in again on their next call)."""
        with self._lock:
            self._tokens.clear()
            self._org_tokens.clear()

    # -- org users (tenant sign-in) -------------------------------------------------------------

    def org_sites(self, org: str) -> tuple[str, ...]:
        """The sites where ``org`` exists (VCD org names are case-insensitive)."""
        for spec in self.world.inventory.orgs:
            if spec.name.lower() == org.lower():
                return spec.sites
        return ()

    def org_credentials(self, org: str) -> dict[str, str]:
        """The user, password and API token of ``org``'s one user, derived from the seed."""
        digest = hashlib.sha256(f"{self.world.seed}:{org.lower()}".encode()).hexdigest()
        return {"user": ORG_USER, "password": f"pw-{digest[:16]}", "api_token": digest[16:48]}

    def org_login(self, site: str, org: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._org_tokens[token] = (site, org, time.monotonic() + self.token_lifetime)
        return token

    def org_session(self, token: str, site: str) -> str | None:
        """The org of a live tenant session of ``site``, else None."""
        with self._lock:
            entry = self._org_tokens.get(token)
            if entry is None or entry[0] != site or entry[2] < time.monotonic():
                return None
            return entry[1]

    # -- cached views ---------------------------------------------------------------------------

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """Views of one hour are immutable: memoise the last few (all pages share them)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = build()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    # -- ground truth ---------------------------------------------------------------------------

    def truth(self, window: Window) -> list[TruthRow]:
        """Exact usage per site, org, product and dimension over ``window`` (whole hours)."""
        from metering.simulator.truth import ground_truth

        return ground_truth(self.world, self.start, window)

    # -- provider config ------------------------------------------------------------------------

    def _site_lines(self, site: str, server: RunningServer, directory: Path) -> list[str]:
        """One ``[[sites]]`` table; its passwords go to private files the config names."""
        secrets_dir = directory / "secrets"
        secrets_dir.mkdir(mode=0o700, exist_ok=True)
        names = {}
        for system in ("vcd", "cloudian"):
            names[system] = f"secrets/{site}-{system}.password"
            path = directory / names[system]
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.passwords[site][system] + "\n")
        urls = server.site_urls(site)
        return [
            "[[sites]]",
            f'name = "{site}"',
            f'vcd_url = "{urls["vcd"]}"',
            f'vcd_user = "{VCD_USER}"',
            f'vcd_password_file = "{names["vcd"]}"',
            f'ose_url = "{urls["ose"]}"',
            f'cloudian_url = "{urls["cloudian"]}"',
            f'cloudian_user = "{CLOUDIAN_USER}"',
            f'cloudian_password_file = "{names["cloudian"]}"',
            "",
        ]

    def _write_catalog(self, directory: Path) -> Path:
        """A tenant catalog for a generated provider: one tenant per org, every 50th org
        left out (unmapped), all on the ``standard`` plan in EUR."""
        lines = ["# Generated by metering.simulator for a scaled provider.", ""]
        for i, org in enumerate(self.world.org_names):
            if i % 50 == 49:
                continue
            lines += [
                "[[tenants]]",
                f"id = {_toml(f't{i:05d}')}",
                f"billing_name = {_toml(org.title())}",
                f"orgs = [{_toml(org)}]",
                'currency = "EUR"',
                'tax_rate = "0.21"',
                'plan = "standard"',
                "",
            ]
        path = directory / "tenants.toml"
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def provider_config(self, directory: Path, server: RunningServer | None = None) -> Path:
        """Write ``provider.toml`` for the running server into ``directory``.

        The passwords go into private (0600) files under ``directory/secrets/`` that the
        config names by ``*_password_file`` (never into the config itself), so any later
        command run with this config, in any shell, can read them.
        """
        server = server or self.server
        if server is None:
            raise RuntimeError("start the simulator (serve_in_thread) before writing a config")
        directory.mkdir(parents=True, exist_ok=True)
        catalog = self.tenant_catalog or self._write_catalog(directory)
        lines = [
            "# Written by metering.simulator for a running simulated provider.",
            "[provider]",
            f"name = {_toml(self.world.inventory.provider_name)}",
            'data_dir = "data"',
            f"tenant_catalog = {_toml(str(catalog))}",
            f"pricing_dir = {_toml(str(resource_dir('pricing')))}",
            'out_dir = "."',
            "",
            *self._branding_lines(),
        ]
        for site in self.sites:
            lines += self._site_lines(site, server, directory)
        lines += ["[commerce]", f"label_key_file = {_toml(self._label_key(directory))}", ""]
        self._write_org_users(directory)
        path = directory / "provider.toml"
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @staticmethod
    def _label_key(directory: Path) -> str:
        """``secrets/commerce-label.key`` (0600): the provider's key for the report's
        customer labels (docs/reports.md). Made once and kept, so a label stays the same
        across months and runs; the config names the file, never the key."""
        path = directory / "secrets" / "commerce-label.key"
        if not path.exists():
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_hex(32))
        return "secrets/commerce-label.key"

    def _branding_lines(self) -> list[str]:
        """``[provider.branding]`` from the inventory: the issuer on every invoice."""
        pairs = self.world.inventory.branding
        if not pairs:
            return []
        lines = ["[provider.branding]"]
        for key, value in pairs:
            if isinstance(value, str):
                text = _toml(value)
            elif isinstance(value, Table):
                text = "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items) + " }"
            else:
                text = f"[{', '.join(map(_toml, value))}]"
            lines.append(f"{key} = {text}")
        return [*lines, ""]

    def _write_org_users(self, directory: Path) -> Path:
        """``secrets/org-users.json`` (0600): each org's user, password and API token, so a
        person or a test can sign in to the portal as a tenant of the simulated provider."""
        users = {
            spec.name: {**self.org_credentials(spec.name), "sites": list(spec.sites)}
            for spec in self.world.inventory.orgs
        }
        path = directory / "secrets" / "org-users.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(users, handle, indent=1, ensure_ascii=False)
        return path


def _toml(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
