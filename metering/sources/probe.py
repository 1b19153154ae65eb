"""``metering check-site``: a read-only probe of each site before its bills are trusted.

Per site: is VCD reachable, over what TLS, which API version both sides speak, does the
provider login work; then per source, which endpoints answer and what a read of them parses
to (rows, quarantined records and their first reasons). Nothing is written anywhere.

Each source has one entry in :data:`PROBES`: a function from a :class:`Context` to a
:class:`SourceProbe`. Every entry but VCD's reads through the collector's own parts
(:data:`metering.sources.collect.COLLECTORS`), so a probe parses exactly as a collection
would, and a change to a collector shows here without touching this module. VCD's entry
first lists which of its endpoints answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from metering.config import SiteConfig
from metering.errors import MeteringError
from metering.sources import alp, cloudian, ose, vcd
from metering.sources.base import Context
from metering.sources.collect import COLLECTORS
from metering.sources.http import NotFound, RetryPolicy, SiteClient
from metering.sources.rde import registered_versions
from metering.sources.records import RecordError

REASONS = 3  # quarantine reasons shown per dataset
VCD_SOURCES = ("vcd", "cse", "alp", "dse", "ose")  # read with the VCD session


@dataclass
class SourceProbe:
    """What one source of one site answered."""

    source: str
    status: str = "ok"  # ok | quarantined | failed | skipped
    endpoints: list[str] = field(default_factory=list)  # "GET /path: 200"
    datasets: list[str] = field(default_factory=list)  # "vcd_vm: 812 rows, 0 quarantined"
    reasons: list[str] = field(default_factory=list)  # first quarantine reasons
    problem: str | None = None  # one line when the source cannot be read


@dataclass
class SiteProbe:
    """One site: access checks, then a probe per source."""

    site: str
    tls: str = ""
    api_version: str | None = None
    offered: tuple[str, ...] = ()
    login: str = ""
    sources: list[SourceProbe] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


ProbeFn = Callable[[Context, str], Awaitable[SourceProbe]]


def _tls(site: SiteConfig) -> str:
    if not site.vcd_url.startswith("https://"):
        return "plain HTTP (no TLS)"
    if not site.verify_tls:
        return "TLS, certificate NOT verified (verify_tls = false)"
    return "TLS verified" + (f" (CA bundle {site.ca_bundle.name})" if site.ca_bundle else "")


def _why(exc: BaseException) -> str:
    text = str(exc)
    if "CERTIFICATE" in text.upper() or "SSL" in text:
        return f"TLS failed: {text}"
    if "ConnectError" in text or "ConnectTimeout" in text or "gave up" in text:
        return f"unreachable: {text}"
    return text


async def _parts(ctx: Context, source: str) -> SourceProbe:
    """Run the collector's parts of ``source`` and summarise their batches (no writes)."""
    probe = SourceProbe(source)
    for part in COLLECTORS[source]:
        try:
            batches = await part.run(ctx)
        except (MeteringError, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            probe.status = "failed"
            probe.problem = probe.problem or f"{', '.join(part.datasets)}: {_why(exc)}"
            continue
        for batch in batches:
            probe.datasets.append(
                f"{batch.dataset}: {len(batch.rows)} rows, {len(batch.rejected)} quarantined"
            )
            probe.reasons += [f"{q.dataset} {q.record_key}: {q.reason}" for q in batch.rejected]
    probe.reasons = probe.reasons[:REASONS]
    if probe.status == "ok" and probe.reasons:
        probe.status = "quarantined"
    return probe


async def _endpoint(ctx: Context, path: str, headers: dict[str, str] | None = None) -> str:
    params = {"page": 1, "pageSize": 1}
    if path.startswith("/api/query?type="):
        path, kind = path.split("?type=")
        params = {**params, "type": kind, "format": "records"}  # type: ignore[dict-item]
        shown = f"{path}?type={kind}"
    else:
        shown = path
    try:
        await ctx.client.get("vcd", path, params, headers)
    except NotFound:
        return f"GET {shown}: 404 (missing)"
    except MeteringError as exc:
        return f"GET {shown}: {exc.message}"
    return f"GET {shown}: 200"


async def _vcd(ctx: Context, source: str) -> SourceProbe:
    """Which VCD endpoints answer (the vm query in the first org's tenant context), then the
    collector's own read."""
    try:
        listed = await vcd.orgs(ctx)
    except MeteringError:
        listed = []  # the orgs endpoint's own line and the parts below say why
    orgs = [o for o in listed if isinstance(o, dict) and vcd.tenant_context(o)]
    checks = [
        _endpoint(ctx, "/cloudapi/1.0.0/orgs"),
        _endpoint(ctx, "/api/query?type=adminOrgVdc"),
        _endpoint(ctx, "/cloudapi/2.0.0/vdcComputePolicies"),
    ]
    if orgs:
        checks.append(_endpoint(ctx, "/api/query?type=vm", vcd.tenant_context(orgs[0])))
    endpoints = await asyncio.gather(*checks)
    probe = await _parts(ctx, source)
    probe.endpoints = list(endpoints)
    return probe


async def _registered(ctx: Context, nss: str) -> str:
    """Which versions of ``vmware:<nss>`` the site registers (the RDE sources' first check)."""
    try:
        versions = await registered_versions(ctx, nss)
    except MeteringError as exc:
        return f"entity type vmware:{nss}: {exc.message}"
    return f"entity type vmware:{nss}: {', '.join(versions) or 'not registered'}"


def _with_endpoints(*checks: Callable[[Context], Awaitable[str]]) -> ProbeFn:
    """A probe that lists what ``checks`` find, then reads through the collector's parts."""

    async def probe(ctx: Context, source: str) -> SourceProbe:
        endpoints = await asyncio.gather(*(check(ctx) for check in checks))
        result = await _parts(ctx, source)
        result.endpoints = list(endpoints)
        return result

    return probe


async def _ose_usage(ctx: Context) -> str:
    """Whether OSE answers the documented platform-usage path (else the collector reads
    ``…/usage``), asked for the first associated tenant."""
    try:
        tenants = await ose.tenants(ctx)
    except MeteringError as exc:
        return f"GET {ose.LIST_PATH}: {exc.message}"
    first = next((t for t in tenants if isinstance(t, dict) and ose.tenant_id(t)), None)
    if first is None:
        return f"GET {ose.LIST_PATH}: 200, no tenant"
    shown = f"{ose.TENANTS_PATH}/{{tenantId}}/platform-usage"
    try:
        await ctx.client.get("ose", ose.usage_path(first, "platform-usage"))
    except NotFound:
        return f"GET {shown}: 404 (the collector reads …/usage)"
    except MeteringError as exc:
        return f"GET {shown}: {exc.message}"
    return f"GET {shown}: 200"


def _vcd_endpoint(path: str) -> Callable[[Context], Awaitable[str]]:
    async def check(ctx: Context) -> str:
        return await _endpoint(ctx, path)

    return check


def _entity_type(nss: str) -> Callable[[Context], Awaitable[str]]:
    async def check(ctx: Context) -> str:
        return await _registered(ctx, nss)

    return check


async def _cloudian_endpoint(
    ctx: Context, path: str, params: dict[str, str | int] | None = None
) -> str:
    try:
        response = await ctx.client.get("cloudian", path, params)
    except NotFound:
        return f"GET {path}: 404 (missing)"
    except MeteringError as exc:
        return f"GET {path}: {exc.message}"
    if path == "/system/version":  # plain text, e.g. "8.1 Compiled: 2023-11-11 16:30"
        return f"GET {path}: {response.status_code} (HyperStore {response.text.strip()[:60]})"
    return f"GET {path}: {response.status_code}"


async def _cloudian_level(ctx: Context) -> str:
    """One bucket's bytes stored as ``/usage`` SB gives them for the last hour, beside its
    ``byteCount`` now: the two should be close if SB's hourly value is a level (what
    metering assumes, docs/collectors.md); far apart, SB is something else (a net change)."""
    try:
        rows = [r for g, u in await cloudian.bucket_usage(ctx) for r in cloudian.bucket_rows(g, u)]
    except (MeteringError, RecordError) as exc:
        return f"SB beside byteCount: not compared ({exc})"
    bucket = next((r for r in rows if r["byte_count"]), None)
    if bucket is None or not ctx.series_hours:
        return "SB beside byteCount: not compared (no bucket holds bytes)"
    hour = ctx.series_hours[-1]
    params = {
        "id": f"{bucket['group_id']}|{bucket['user_id']}|{bucket['bucket']}",
        "operation": "SB",
        "startTime": cloudian.fmt_time(hour),
        "endTime": cloudian.fmt_time(hour + timedelta(hours=1)),
        "granularity": "hour",
        "reversed": "false",
    }
    try:
        body, _ = await ctx.client.get_json("cloudian", "/usage", params)
    except MeteringError as exc:
        return f"SB of bucket {bucket['bucket']}: {exc.message}"
    points = body if isinstance(body, list) else []
    values = [p.get("value") for p in points if isinstance(p, dict)]
    level = values[-1] if values else "none"
    return (
        f"SB of bucket {bucket['bucket']} at {hour:%Y-%m-%d %H:00}: {level} bytes; "
        f"/system/bucketusage byteCount now: {bucket['byte_count']} bytes"
    )


def _cloudian_endpoint_check(
    path: str, params: dict[str, str | int] | None = None
) -> Callable[[Context], Awaitable[str]]:
    async def check(ctx: Context) -> str:
        return await _cloudian_endpoint(ctx, path, params)

    return check


# One entry per source; the non-VCD ones read through their collectors' parsing.
PROBES: dict[str, ProbeFn] = {
    "vcd": _vcd,
    "cse": _with_endpoints(_entity_type("capvcdCluster")),
    "alp": _with_endpoints(_vcd_endpoint(alp.APPS_PATH)),
    "dse": _with_endpoints(
        _entity_type("dsConfig"), _entity_type("dsInstanceTemplate"), _entity_type("dsInstance")
    ),
    "ose": _with_endpoints(_ose_usage),
    "cloudian": _with_endpoints(
        _cloudian_endpoint_check("/system/version"),
        _cloudian_endpoint_check("/group/list", {"limit": 1}),
        _cloudian_endpoint_check("/bppolicy/listpolicy"),
        _cloudian_level,
    ),
}


def _configured(site: SiteConfig, source: str) -> bool:
    return {"ose": site.ose_url, "cloudian": site.cloudian_url}.get(
        source, site.vcd_url
    ) is not None


async def _access(client: SiteClient, report: SiteProbe) -> bool:
    """Version, then login; a failure is the site's one problem line for every VCD source."""
    try:
        report.api_version = await client.negotiate()
        report.offered = client.versions_offered
        await client.login()
    except MeteringError as exc:
        report.offered = client.versions_offered
        report.login = "not tried" if report.api_version is None else "refused"
        report.problems.append(f"{report.site} vcd: {_why(exc)}")
        return False
    report.login = "ok"
    return True


async def probe_site(
    site: SiteConfig,
    sources: tuple[str, ...] = tuple(PROBES),
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: datetime | None = None,
) -> SiteProbe:
    """Probe one site: access first, then every source (concurrently)."""
    report = SiteProbe(site.name, tls=_tls(site))
    retry = RetryPolicy(attempts=2, base_delay=0.1, max_delay=0.5)  # a probe does not wait
    async with SiteClient(site, transport=transport, retry=retry) as client:
        vcd_ok = await _access(client, report)
        at = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        ctx = Context(client, at, (at - timedelta(hours=1),))
        todo = []
        for source in sources:
            if not _configured(site, source):
                report.sources.append(SourceProbe(source, "skipped", problem="not configured"))
            elif source in VCD_SOURCES and not vcd_ok:
                report.sources.append(SourceProbe(source, "skipped", problem="VCD not usable"))
            else:
                todo.append(source)
        report.sources += await asyncio.gather(*(PROBES[s](ctx, s) for s in todo))
    for probe in report.sources:
        if probe.status == "failed":
            report.problems.append(f"{site.name} {probe.source}: {probe.problem}")
    report.sources.sort(key=lambda p: list(PROBES).index(p.source))
    return report
