"""Tenants' catalog items: media (ISO images) and what VCD's query service shows of them.

Each org's catalog at each site it is present at holds one to three media items. Sizes are
whole 2 MiB chunks (:data:`CHUNK_BYTES`), so GB-hours are exact in DECIMAL(38, 9). Most items
exist all month; some are uploaded during it and some deleted. Everything here is a function
of the (org, site) presence index, not of the world's random stream, so every other draw
stays as it was.

Records follow VCD's JSON form of the query service (docs/collectors.md, "Catalog media"):
attributes ``QueryResultAdminMediaRecordType`` declares at the top level, typed; ``isIso``
(go-vcd ``MediaRecordType``, not in the admin record's schema) under ``otherAttributes``
as a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metering.simulator import names
from metering.simulator.state import alive
from metering.simulator.tables import BEFORE, CHUNK_BYTES, NEVER, Ints

if TYPE_CHECKING:
    from metering.simulator.views_vcd import View

Record = dict[str, Any]
# Media sizes in 2 MiB chunks: 352 MiB (a netinstall ISO), 4 GiB, 4.69 GiB (a DVD), 10 GiB,
# 1.25 GiB; the item's place picks one.
MEDIA_CHUNKS = (176, 2048, 2400, 5120, 640)
MEDIA_NAMES = ("ubuntu-22.04-server.iso", "win2022-eval.iso", "rhel-9.4-dvd.iso", "tools.iso")


@dataclass
class CatalogItems:
    """Catalog media of every (org, site) presence, with their lifetimes in hours."""

    site: Ints
    org: Ints
    ordinal: Ints
    created: Ints
    deleted: Ints
    chunks: Ints  # stored size in 2 MiB chunks
    spolicy: Ints  # index into the inventory's VM storage policies
    published: Ints  # 1 when the item's catalog is published


def catalog_media(presence: list[tuple[int, int]], hours: int, policies: int) -> CatalogItems:
    """One to three media items per presence; about 1 in 4 uploaded during the month, 1 in 5
    deleted during it (never in its first three days)."""
    counts = np.array([1 + p % 3 for p in range(len(presence))], dtype=np.int64)
    pres = np.repeat(np.arange(len(presence), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    j = np.arange(len(pres), dtype=np.int64) - np.repeat(starts, counts)
    mix = pres * 7 + j * 5
    days = max(hours // 24 - 3, 1)
    uploaded = (pres + j) % 4 == 1
    created = np.where(uploaded, 24 * (1 + mix % days) + pres % 24, BEFORE)
    start = np.maximum(created, 0) + 72
    removed = ((pres + j) % 5 == 2) & (start < hours - 1)
    span = np.maximum(hours - start, 1)
    deleted = np.where(removed, start + (pres * 11 + j * 13) % span, NEVER)
    return CatalogItems(
        site=np.array([presence[p][1] for p in pres.tolist()], dtype=np.int64),
        org=np.array([presence[p][0] for p in pres.tolist()], dtype=np.int64),
        ordinal=j,
        created=created.astype(np.int64),
        deleted=deleted.astype(np.int64),
        chunks=np.array(MEDIA_CHUNKS, dtype=np.int64)[mix % len(MEDIA_CHUNKS)],
        spolicy=((pres + j) % max(policies, 1)).astype(np.int64),
        published=((j == 0) & (pres % 4 == 0)).astype(np.int64),
    )


def media_name(ordinal: int) -> str:
    name = MEDIA_NAMES[ordinal % len(MEDIA_NAMES)]
    return name if ordinal < len(MEDIA_NAMES) else f"{ordinal}-{name}"


def media_records(view: View) -> list[Record]:
    """``adminMedia`` query records (``AdminMediaRecord``) of the items alive at the view's
    hour at its site, each under the org that owns it."""
    m, w = view.world.media, view.world
    here = np.flatnonzero((m.site == view.site) & alive(m.created, m.deleted, view.hour))
    policies = w.inventory.vm_storage_policies
    out: list[Record] = []
    for i in here.tolist():
        org = int(m.org[i])
        org_name, ordinal = w.org_names[org], int(m.ordinal[i])
        uuid = names.uid("media", view.site_name, org_name, ordinal)
        catalog = names.uid("catalog", view.site_name, org_name)
        out.append(
            {
                "_type": "QueryResultAdminMediaRecordType",
                "link": [],
                "metadata": None,
                "otherAttributes": {"isIso": "true"},
                "href": f"{view.base}/api/media/{uuid}",
                "id": None,
                "type": None,
                "name": media_name(ordinal),
                "org": f"{view.base}/api/org/{view.org_id(org)}",
                "ownerName": "admin",
                "owner": f"{view.base}/api/admin/user/{view.owner(org)['id'].rsplit(':', 1)[-1]}",
                "isPublished": bool(m.published[i]),
                "storageB": int(m.chunks[i]) * CHUNK_BYTES,
                "vdc": f"{view.base}/api/vdc/{view.vdc_id(org)}",
                "vdcName": view.vdc_name(org),
                "isVdcEnabled": True,
                "catalog": f"{view.base}/api/catalog/{catalog}",
                "catalogName": f"{org_name}-catalog",
                "catalogItem": f"{view.base}/api/catalogItem/{names.uid('item', uuid)}",
                "creationDate": view.at(int(m.created[i])),
                "isBusy": False,
                "status": "RESOLVED",
                "storageProfileName": policies[int(m.spolicy[i])],
            }
        )
    return out
