"""vApp templates in the tenants' catalogs: the storage their VMs hold, per storage policy.

VCD's API reference declares no size on the vApp template's query record
(``QueryResultAdminVAppTemplateRecordType``; go-vcd reads an undocumented ``storageKB``). The
size comes from the template's VMs instead: the ``vm`` query the ``vcd`` collector already
lists per org (:func:`metering.sources.vcd.org_vms`, shared within a run) also lists the VMs
inside vApp templates (``isVAppTemplate`` true; go-vcd ``VmQueryFilterOnlyTemplates``), each
with its documented ``totalStorageAllocatedMb`` (MB) and ``storageProfileName``, and its
template as ``container``. The templates themselves come from one ``type=adminVAppTemplate``
listing, which names the org that owns each (``org``): a template VM is billed to that org,
once, whichever tenant contexts list it (a shared or published catalog is visible to others).
"""

from __future__ import annotations

import asyncio

from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    opt_bool,
    opt_str,
    req_int,
    req_str,
)
from metering.sources.vcd import (
    attributes,
    names_of_orgs,
    org_vms,
    orgs,
    owning_org,
    tenant_context,
    urn_from_href,
)


def template_urn(href: str) -> str:
    """``…/api/vAppTemplate/vappTemplate-<uuid>`` → ``urn:vcloud:vapptemplate:<uuid>``."""
    tail = href.rstrip("/").rsplit("/", 1)[-1]
    if tail.startswith("urn:"):
        return tail
    head, _, uuid = tail.partition("-")
    return f"urn:vcloud:vapptemplate:{uuid if head.lower() == 'vapptemplate' else tail}"


def _template(record: Record, org_names: dict[str, str]) -> Row:
    """What a template VM's row takes from its ``AdminVAppTemplateRecord``."""
    template = attributes(record)
    org_id, org_name = owning_org(template, org_names)
    return {
        "template_id": opt_str(template, "id") or template_urn(req_str(template, "href")),
        "template_name": req_str(template, "name"),
        "org_id": org_id,
        "org_name": org_name,
        "catalog_id": urn_from_href(opt_str(template, "catalog"), "catalog"),
        "catalog_name": opt_str(template, "catalogName"),
        "vdc_id": urn_from_href(opt_str(template, "vdc"), "vdc"),
        "vdc_name": opt_str(template, "vdcName"),
        "status": opt_str(template, "status"),
        "is_published": opt_bool(template, "isPublished"),
    }


def _vm_row(record: Record, templates: dict[str, Row], rejected: set[str]) -> Row:
    vm = attributes(record)
    container = req_str(vm, "container")
    template = templates.get(container)
    if template is None:
        what = "was quarantined in" if container in rejected else "is not in"
        raise RecordError(
            f"container: vApp template {container!r} {what} the adminVAppTemplate listing"
        )
    return {
        **template,
        "vm_id": opt_str(vm, "id") or urn_from_href(req_str(vm, "href"), "vm"),
        "vm_name": req_str(vm, "name"),
        "storage_mb": req_int(vm, "totalStorageAllocatedMb"),  # VMRecord, MB, long
        "storage_policy": req_str(vm, "storageProfileName"),
    }


async def _templates(ctx: Context) -> list[Batch]:
    listing = await paging.vcd_query(ctx.client, "adminVAppTemplate")
    org_records = await orgs(ctx)
    names = names_of_orgs(org_records)
    batch = Batch("vcd_vapp_template")
    templates: dict[str, Row] = {}
    rejected: set[str] = set()
    for position, record in enumerate(listing.records):
        href = record.get("href") if isinstance(record, dict) else None
        try:
            if not isinstance(record, dict):
                raise RecordError(f"record is a {type(record).__name__}, not an object")
            templates[req_str(record, "href")] = _template(record, names)
        except RecordError as exc:
            batch.reject(record, str(exc), "href", position)
            if isinstance(href, str):
                rejected.add(href)
    tenants = [o for o in org_records if isinstance(o, dict) and tenant_context(o)]
    listings = await asyncio.gather(*(org_vms(ctx, org) for org in tenants))
    seen: set[str] = set()
    template_vms: list[Record] = []
    for records in listings:
        for record in records:
            vm = attributes(record) if isinstance(record, dict) else {}
            href = opt_str(vm, "href") or ""
            if opt_bool(vm, "isVAppTemplate") and href not in seen:
                seen.add(href)  # a shared catalog's template VM is listed in several orgs
                template_vms.append(record)
    batch.map(template_vms, lambda r: _vm_row(r, templates, rejected), "href")
    return [batch]


PARTS = (Part(("vcd_vapp_template",), _templates),)
