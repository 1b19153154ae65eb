"""Runtime Defined Entities (RDEs): which versions of an entity type a VCD has registered,
and every entity of those versions.

Registration is asked the way go-vcd's ``getRdeType`` asks it:
``GET /cloudapi/1.0.0/entityTypes?filter=vendor==<vendor>;nss==<nss>`` lists the
``DefinedEntityType`` records (``vendor``, ``nss``, ``version``); none means the extension
that owns the type (CSE, DSE) is not installed. Entities are then listed per version with
``GET /cloudapi/1.0.0/entities/types/<vendor>/<nss>/<version>`` (go-vcd ``getAllRdes``),
so a version that is not registered is never requested, whatever status a VCD would give it.
"""

from __future__ import annotations

from metering.sources import paging
from metering.sources.base import Context
from metering.sources.records import Record

ENTITY_TYPES_PATH = "/cloudapi/1.0.0/entityTypes"
ENTITIES_PATH = "/cloudapi/1.0.0/entities/types/{vendor}/{nss}/{version}"


def _version_key(version: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


async def registered_versions(ctx: Context, nss: str, vendor: str = "vmware") -> list[str]:
    """Versions of ``<vendor>:<nss>`` the site has registered, oldest first (once per run)."""

    async def fetch() -> list[str]:
        params = {"filter": f"vendor=={vendor};nss=={nss}"}
        listing = await paging.openapi(ctx.client, ENTITY_TYPES_PATH, params=params)
        found = {
            str(t["version"])
            for t in listing.records
            if isinstance(t, dict) and t.get("version") and t.get("nss", nss) == nss
        }
        return sorted(found, key=_version_key)

    result: list[str] = await ctx.shared(f"rde.types.{vendor}:{nss}", fetch)
    return result


async def entities(
    ctx: Context, nss: str, versions: list[str], vendor: str = "vmware"
) -> list[Record]:
    """Every entity of the given versions of ``<vendor>:<nss>``."""
    out: list[Record] = []
    for version in versions:
        path = ENTITIES_PATH.format(vendor=vendor, nss=nss, version=version)
        out.extend((await paging.openapi(ctx.client, path)).records)
    return out
