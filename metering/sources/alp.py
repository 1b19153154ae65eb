"""ALP collector: App Launchpad app instances from VCD's ``/cloudapi/1.0.0/apps`` (API >= 38).

ALP has no usage endpoint; an instance-hour is metered from samples of this list. A
ContainerApp's target cluster and namespace are read when present (``cluster``,
``namespace``; not in the base App schema).
"""

from __future__ import annotations

from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import Batch, Record, Row, opt_str, opt_time, req_str


def app_row(app: Record) -> Row:
    return {
        "instance_id": req_str(app, "id"),
        "instance_name": req_str(app, "name"),
        "app_id": req_str(app, "appId"),
        "app_version": opt_str(app, "appVersion"),
        "app_type": opt_str(app, "appType"),
        "status": req_str(app, "status"),
        "org_id": opt_str(app, "org.id"),
        "org_name": req_str(app, "org.name"),
        "vdc_id": opt_str(app, "vdc.id"),
        "vdc_name": opt_str(app, "vdc.name"),
        "owner_name": opt_str(app, "owner.name"),
        "cluster_id": opt_str(app, "cluster.id"),
        "cluster_name": opt_str(app, "cluster.name"),
        "namespace": opt_str(app, "namespace"),
        "created_at": opt_time(app, "creationDate"),
    }


async def _apps(ctx: Context) -> list[Batch]:
    listing = await paging.openapi(ctx.client, "/cloudapi/1.0.0/apps")
    batch = Batch("alp_app")
    batch.map(listing.records, app_row, "id")
    return [batch]


PARTS = (Part(("alp_app",), _apps),)
