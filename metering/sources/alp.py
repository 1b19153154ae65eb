"""ALP collector: App Launchpad app instances from VCD's ``/cloudapi/1.0.0/apps`` (API >= 38).

ALP has no usage endpoint; an instance-hour is metered from samples of this list, whatever
the app's ``status`` (READY, FAILED, NOT_READY: docs/metering-rules.md). Fields follow VCD's
``App`` data structure (developer.broadcom.com, VCD API 38.0 and 39.1); ``vdc``, ``owner``
and ``creationDate`` may be null. A ContainerApp's target cluster and namespace are read when
present (``cluster``, ``namespace``; not in the base App schema). A VCD older than 10.5
answers 404 for the list: the part fails saying so.
"""

from __future__ import annotations

from metering.errors import SourceDataError
from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import Batch, Record, Row, opt_str, opt_time, req_str

APPS_PATH = "/cloudapi/1.0.0/apps"


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
    try:
        listing = await paging.openapi(ctx.client, APPS_PATH)
    except paging.NotFound:
        raise SourceDataError(
            f"VCD answers 404 for {APPS_PATH}: the app list needs VCD 10.5 (API 38.0) or "
            "later; App Launchpad apps cannot be read on this site",
            site=ctx.site.name,
        ) from None
    batch = Batch("alp_app")
    batch.map(listing.records, app_row, "id")
    return [batch]


PARTS = (Part(("alp_app",), _apps),)
