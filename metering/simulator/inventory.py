"""The shape of a simulated provider: sites, catalogs and org specs, from TOML or generated.

``sample_data/inventory.toml`` names the sample provider (two sites, ~30 orgs). The same
:class:`Inventory` is produced at any scale by :func:`scaled_inventory` for benchmarks; the
concrete resources of either are drawn from a seed by :mod:`metering.simulator.world`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metering.errors import ConfigError
from metering.resources import resource_dir


@dataclass(frozen=True)
class SizingPolicy:
    name: str
    cpu_count: int
    cores_per_socket: int
    memory_mb: int


@dataclass(frozen=True)
class ObjectPolicy:
    """A Cloudian storage policy: replicas per DC, or erasure coding ``k+m`` per DC."""

    name: str
    description: str
    scheme: str  # REPLICATION | EC
    replication: dict[str, int]
    erasure_coding: dict[str, str]


@dataclass(frozen=True)
class AppTemplate:
    app_id: str
    app_type: str  # VmApp | ContainerApp
    version: str


@dataclass(frozen=True)
class OrgSpec:
    """One org: where it lives (first site = home) and how much of everything per site."""

    name: str
    sites: tuple[str, ...]
    vms: tuple[int, ...]
    clusters: tuple[int, ...]
    apps: tuple[int, ...]
    buckets: int
    dse: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A TOML table of strings in a branding value (``postal_address``), in file order."""

    items: tuple[tuple[str, str], ...]


BrandingValue = str | tuple[str, ...] | Table


@dataclass(frozen=True)
class Inventory:
    provider_name: str
    sites: tuple[str, ...]
    data_centers: tuple[str, ...]
    vm_storage_policies: tuple[str, ...]
    vm_storage_weights: tuple[int, ...]
    sizing_policies: tuple[SizingPolicy, ...]
    object_policies: tuple[ObjectPolicy, ...]
    apps: tuple[AppTemplate, ...]
    orgs: tuple[OrgSpec, ...]
    # [provider.branding] of the config the simulator writes: the issuer printed on invoices
    # (key, value) in file order; a value is a string, a list of strings (address lines) or
    # a table of strings (the e-invoice postal_address), as (key, value) pairs
    branding: tuple[tuple[str, BrandingValue], ...] = ()


DSE_KINDS = ("rabbitmq", "postgres", "mysql")


def _per_site(entry: dict[str, Any], key: str, n: int, where: str) -> tuple[int, ...]:
    value = entry.get(key, [0] * n)
    if not isinstance(value, list) or len(value) != n or not all(isinstance(v, int) for v in value):
        raise ConfigError(f"{where}.{key}: must be a list of {n} integers (one per site)")
    return tuple(value)


def _org(entry: dict[str, Any], sites: tuple[str, ...], where: str) -> OrgSpec:
    name, org_sites = entry.get("name"), entry.get("sites")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: is required")
    if not isinstance(org_sites, list) or not org_sites or not set(org_sites) <= set(sites):
        raise ConfigError(f"{where}.sites: must list sites of {list(sites)}")
    dse = tuple(entry.get("dse", []))
    if not set(dse) <= set(DSE_KINDS):
        raise ConfigError(f"{where}.dse: kinds must be among {list(DSE_KINDS)}")
    n = len(org_sites)
    return OrgSpec(
        name=name,
        sites=tuple(org_sites),
        vms=_per_site(entry, "vms", n, where),
        clusters=_per_site(entry, "clusters", n, where),
        apps=_per_site(entry, "apps", n, where),
        buckets=int(entry.get("buckets", 0)),
        dse=dse,
    )


def _branding(raw: object, where: str) -> tuple[tuple[str, BrandingValue], ...]:
    """``[provider.branding]``: strings, lists of strings (an address) or tables of strings
    (``postal_address``), kept in order."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    pairs: list[tuple[str, BrandingValue]] = []
    for key, value in raw.items():
        if isinstance(value, str):
            pairs.append((key, value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            pairs.append((key, tuple(value)))
        elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            pairs.append((key, Table(tuple(value.items()))))
        else:
            raise ConfigError(
                f"{where}.{key}: must be a string, a list of strings or a table of strings"
            )
    return tuple(pairs)


def parse_inventory(raw: dict[str, Any], name: str) -> Inventory:
    """Validate an inventory document; errors name the file and the key."""
    try:
        sites = tuple(str(s["name"]) for s in raw["sites"])
        dcs = tuple(str(s["data_center"]) for s in raw["sites"])
        vm_policies = raw["vm_storage_policies"]
        inventory = Inventory(
            provider_name=str(raw["provider"]["name"]),
            branding=_branding(raw["provider"].get("branding", {}), f"{name}: provider.branding"),
            sites=sites,
            data_centers=dcs,
            vm_storage_policies=tuple(str(p["name"]) for p in vm_policies),
            vm_storage_weights=tuple(int(p.get("weight", 1)) for p in vm_policies),
            sizing_policies=tuple(
                SizingPolicy(p["name"], p["cpu_count"], p["cores_per_socket"], p["memory_mb"])
                for p in raw["sizing_policies"]
            ),
            object_policies=tuple(
                ObjectPolicy(
                    p["name"],
                    p.get("description", ""),
                    p["scheme"],
                    dict(p.get("replication", {})),
                    dict(p.get("erasure_coding", {})),
                )
                for p in raw["object_policies"]
            ),
            apps=tuple(AppTemplate(a["app_id"], a["type"], a["version"]) for a in raw["apps"]),
            orgs=tuple(
                _org(o, sites, f"{name}: orgs[{i}]") for i, o in enumerate(raw.get("orgs", []))
            ),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{name}: missing or malformed key {exc}") from None
    if len({o.name for o in inventory.orgs}) != len(inventory.orgs):
        raise ConfigError(f"{name}: org names must be unique")
    return inventory


def load_inventory(path: Path | None = None) -> Inventory:
    """The inventory at ``path`` (default: the shipped ``sample_data/inventory.toml``)."""
    path = path or resource_dir("sample_data") / "inventory.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read inventory {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
    return parse_inventory(raw, path.name)


def scaled_inventory(
    *, vms: int, clusters: int, tenants: int, sites: int = 2, base: Inventory | None = None
) -> Inventory:
    """An inventory of ``tenants`` orgs sharing ``vms`` plain VMs and ``clusters`` clusters.

    Catalogs (policies, apps) come from the sample inventory. Every third org lives in two
    sites; buckets, apps and data solutions scale with the tenants.
    """
    base = base or load_inventory()
    site_names = tuple(f"az{i + 1}" for i in range(sites))
    orgs = []
    for t in range(tenants):
        two = sites > 1 and t % 3 == 0
        home = t % sites
        org_sites = (
            (site_names[home], site_names[(home + 1) % sites]) if two else (site_names[home],)
        )
        share = [_share(vms, tenants, t), _share(clusters, tenants, t)]
        vm_split: tuple[int, ...]
        cl_split: tuple[int, ...]
        app_split: tuple[int, ...]
        if two:
            vm_split = (share[0] - share[0] // 3, share[0] // 3)
            cl_split = (share[1], 0)
            app_split = (1, 0)
        else:
            vm_split, cl_split, app_split = (share[0],), (share[1],), (t % 2,)
        kinds = (DSE_KINDS[t % 3],) if share[1] and t % 4 == 0 else ()
        orgs.append(
            OrgSpec(f"tenant-{t:05d}", org_sites, vm_split, cl_split, app_split, t % 3, kinds)
        )
    return Inventory(
        provider_name=f"Scaled Cloud ({tenants} tenants)",
        sites=site_names,
        data_centers=tuple(f"DC{i + 1}" for i in range(sites)),
        vm_storage_policies=base.vm_storage_policies,
        vm_storage_weights=base.vm_storage_weights,
        sizing_policies=base.sizing_policies,
        object_policies=base.object_policies,
        apps=base.apps,
        orgs=tuple(orgs),
        branding=base.branding,
    )


def _share(total: int, parts: int, i: int) -> int:
    """Split ``total`` into ``parts`` near-equal integers; the ``i``-th one."""
    return total // parts + (1 if i < total % parts else 0)
