"""The provider's month-end usage report: CSV for the commerce portal, HTML and PDF to read.

Quantities come from the month's ``rated_usage`` (the contract); what rating does not carry
comes from the lake: which VMs are TKG nodes of which cluster (``usage_intervals``) and OSE
objects/buckets/users (``ose_tenant_usage``, the month's last sample per site and org). A
missing input is an empty view: the report then lacks those rows, it does not fail.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import duckdb
import jinja2
import pyarrow as pa

from metering import tomlfile
from metering.close.inputs import query
from metering.close.settings import InvoicingSettings
from metering.config import ProviderConfig
from metering.errors import CloseError, ConfigError
from metering.lake.storage import LakePath, duckdb_scan, write_bytes
from metering.lake.store import read_dataset
from metering.reports.chart import horizontal_bars
from metering.reports.csvfile import csv_bytes
from metering.reports.labels import (
    LabelSettings,
    label_map,
    label_settings,
    write_mapping,
)
from metering.reports.render import Job, Renderer
from metering.resources import resource_dir
from metering.window import Window

CSV_COLUMNS = (
    "month",
    "site",
    "customer_label",
    "product",
    "dimension",
    "metric",
    "quantity",
    "unit",
)

_EMPTY = {
    "report_node_clusters": pa.schema(
        [("site", pa.string()), ("resource_id", pa.string()), ("cluster_id", pa.string())]
    ),
    "report_ose_stats": pa.schema(
        [
            ("site", pa.string()),
            ("tenant_id", pa.string()),
            ("objects", pa.int64()),
            ("buckets", pa.int64()),
            ("users", pa.int64()),
        ]
    ),
}


def _interval_files(lake: LakePath, month: Window) -> list[LakePath]:
    """The month's consolidated ``usage_intervals`` files (written by rating's consolidation)."""
    days = [d.isoformat() for d in month.days()]
    return sorted(p for d in days for p in lake.glob(f"usage_intervals/date={d}/*.parquet"))


def computed_with(config: ProviderConfig, month: Window) -> dict[str, str]:
    """The settings the month's figures were computed with: those its consolidated days
    record (rating rebuilds any day built with other settings before it rates). Days that
    disagree (closed without rating first, or edited by hand) are refused; a month
    whose days record nothing (consolidated before provenance) states the current settings."""
    from metering.rating.consolidate import rules
    from metering.rating.provenance import read_recorded, recorded_settings
    from metering.rating.settings import rating_settings

    seen: dict[str, list[str]] = {}
    for path in _interval_files(config.lake, month):
        recorded = read_recorded(path)
        if recorded is not None:
            key = json.dumps(recorded, sort_keys=True)
            seen.setdefault(key, []).append(str(path.parent.name))
    if len(seen) > 1:
        raise CloseError(
            f"the consolidated days of {month.start:%Y-%m} were built with different settings "
            f"({'; '.join(', '.join(days) for days in seen.values())}); run "
            f"`metering rate --month {month.start:%Y-%m}` to rebuild them before the report"
        )
    if seen:
        return {**json.loads(next(iter(seen))), "source": "as every consolidated day records"}
    # nothing recorded: the [rating] settings in force (the catalog's home sites do not
    # change what the report states)
    current = recorded_settings(rating_settings(config), rules())
    return {**current, "source": "the settings in force; the days record none"}


def _view(con: duckdb.DuckDBPyConnection, name: str, sql: str | None) -> None:
    if sql is None:
        con.register(f"_{name}_empty", _EMPTY[name].empty_table())
        sql = f"select * from _{name}_empty"
    con.execute(f"create or replace temp view {name} as {sql}")


def _org_tenants(config: ProviderConfig) -> pa.Table:
    """org name → tenant id from the catalog (an org no entry names is ``unmapped:<org>``)."""
    path = config.tenant_catalog
    fail = lambda p: ConfigError(f"cannot read tenant catalog {path.name}: {p}")  # noqa: E731
    raw = tomlfile.parse(tomlfile.read_text(path, fail), fail)
    pairs = [(org, t["id"]) for t in raw.get("tenants", []) for org in t.get("orgs", [])]
    return pa.table(
        {"org_name": [p[0] for p in pairs], "tenant_id": [p[1] for p in pairs]},
        schema=pa.schema([("org_name", pa.string()), ("tenant_id", pa.string())]),
    )


def _register_intervals(con: duckdb.DuckDBPyConnection, lake: LakePath, month: Window) -> None:
    """TKG node VM → cluster id, from the month's usage intervals (rows are keyed by the
    cluster's id: names are the tenants' own and repeat across tenants)."""
    intervals = _interval_files(lake, month)
    src = duckdb_scan(con, "report_intervals", intervals) if intervals else None
    nodes = (
        f"select distinct site, resource_id, parent_id as cluster_id from {src} "
        "where resource_type = 'vm' and parent_id is not null"
    )
    _view(con, "report_node_clusters", nodes if src else None)


def _register_ose(con: duckdb.DuckDBPyConnection, config: ProviderConfig, month: Window) -> None:
    """OSE objects, buckets and users per site and tenant at the month's last sample."""
    ose = read_dataset(config.lake, "ose_tenant_usage", window=month)
    columns = ["site", "org_name", "object_count", "bucket_count", "user_count", "sample_time"]
    con.register("report_ose_samples", ose.select(columns))
    con.register("report_org_tenants", _org_tenants(config))
    tenant = "coalesce(m.tenant_id, 'unmapped:' || l.org_name)"
    _view(
        con,
        "report_ose_stats",
        "with last as (select * from report_ose_samples "
        "qualify sample_time = max(sample_time) over (partition by site, org_name)) "
        f"select l.site, {tenant} as tenant_id, sum(object_count) as objects, "
        "sum(bucket_count) as buckets, sum(user_count) as users "
        "from last as l left join report_org_tenants as m on l.org_name = m.org_name "
        f"group by l.site, {tenant}",
    )


def register_report_inputs(
    con: duckdb.DuckDBPyConnection, config: ProviderConfig, month: Window
) -> None:
    """The extra views the report SQL reads, from the lake (empty when absent)."""
    ratio = computed_with(config, month)["dse_vcpus_per_core"]
    con.execute(
        f"create or replace temp view report_params as select cast({month.hours} as bigint) "
        f"as hours_in_month, cast('{ratio}' as decimal(18, 9)) as dse_vcpus_per_core"
    )
    _register_intervals(con, config.lake, month)
    _register_ose(con, config, month)


def tenant_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """tenant id → billing name from the month's totals (``*`` is all tenants)."""
    names = dict(con.execute("select tenant_id, tenant_name from invoice_totals").fetchall())
    names["*"] = "all tenants"
    return names


def report_rows(
    con: duckdb.DuckDBPyConnection, month: Window, labels: LabelSettings
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The report rows in the report's order, each with its ``customer_label``, and the
    month's tenant id → label map (docs/reports.md, "Customer labels")."""
    names = tenant_names(con)
    rows: list[dict[str, Any]] = query(con, "marts/provider_usage_report.sql").to_pylist()
    mapping = label_map(labels, [row["tenant_id"] for row in rows])
    for row in rows:
        row["month"] = f"{month.start:%Y-%m}"
        row["tenant_name"] = names.get(row["tenant_id"], row["tenant_id"])
        row["customer_label"] = mapping[row["tenant_id"]]
        row["quantity"] = row["quantity"].normalize() if row["quantity"] != 0 else Decimal(0)
    return rows, mapping


def report_csv(rows: list[dict[str, Any]]) -> bytes:
    """The commerce-portal CSV (columns: ``CSV_COLUMNS``, documented in docs/reports.md):
    customers by label only, never a name; quantities in plain notation, every text cell
    safe for a spreadsheet (reports/csvfile)."""
    cells = ([row[c] for c in CSV_COLUMNS] for row in rows)
    return csv_bytes(CSV_COLUMNS, cells, numeric=("quantity",))


PER_CLUSTER_METRICS = ("node_vms", "node_vcpu_hours")  # one row per TKG cluster: unbounded
TOP_TENANTS = 25  # tenants listed in the summary PDF; every tenant is in the CSV and HTML
TENANT_FIGURES = (  # (heading, product, metric): the summary's per-tenant columns, exact sums
    ("VMs", "vm", "vms"),
    ("TKG nodes", "vm", "tkg_node_vms"),
    ("vCPU-hours", "vcpu", "vcpu_quantity"),
    ("TKG clusters", "tkg_cluster", "clusters"),
    ("Object storage GB-hours", "object_storage", "object_storage_quantity"),
    ("ALP instances", "alp_instance", "instances"),
    ("DSE core-hours", "dse_core", "dse_core_quantity"),
)


def _sections(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows split into provider totals, per site (all tenants) and per tenant (all sites)."""
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["site"] == "*" and row["tenant_id"] == "*":
            sections["total"].append(row)
        elif row["tenant_id"] == "*":
            sections["sites"].append(row)
        elif row["site"] == "*":
            sections["tenants"].append(row)
    return sections


def _charts(sections: dict[str, list[dict[str, Any]]]) -> list[tuple[str, Any]]:
    charts = []
    for title, section, metric in (
        ("VMs per site (TKG nodes included)", "sites", "vms"),
        ("DSE cores reported, all sites", "total", "reported_cores"),
    ):
        items = [
            (r["site"] if section == "sites" else r["dimension"], r["quantity"])
            for r in sections[section]
            if r["metric"] == metric
        ]
        if items:
            charts.append((title, horizontal_bars(items, title=title)))
    return charts


def largest_tenants(tenant_rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` tenants with the most VMs (then by id), each with ``TENANT_FIGURES``
    summed over dimensions (policies, apps, DSE kinds) from the tenant's all-site rows."""
    wanted = {(product, metric): i for i, (_, product, metric) in enumerate(TENANT_FIGURES)}
    tenants: dict[str, dict[str, Any]] = {}
    for row in tenant_rows:
        tenant = tenants.setdefault(
            row["tenant_id"],
            {
                "tenant_id": row["tenant_id"],
                "tenant_name": row["tenant_name"],
                "customer_label": row["customer_label"],
                "figures": [Decimal(0)] * len(TENANT_FIGURES),
            },
        )
        index = wanted.get((row["product"], row["metric"]))
        if index is not None:
            tenant["figures"][index] += row["quantity"]
    ranked = sorted(tenants.values(), key=lambda t: (-t["figures"][0], t["customer_label"]))
    return ranked[:limit]


def report_context(
    rows: list[dict[str, Any]],
    settings: InvoicingSettings,
    month: Window,
    ratio: Decimal,
    *,
    summary: bool = False,
    settings_used: dict[str, str] | None = None,
    labels: LabelSettings | None = None,
) -> dict[str, Any]:
    """The readable report. In full (the HTML): provider totals, per site, per tenant, every
    row. As a ``summary`` (the PDF, bounded whatever the number of tenants and clusters):
    totals and per-site rows without the per-cluster rows, and the largest tenants."""
    sections = _sections(rows)
    tenant_count = len({r["tenant_id"] for r in sections["tenants"]})
    top: list[dict[str, Any]] = []
    if summary:
        top = largest_tenants(sections["tenants"], TOP_TENANTS)
        for name in ("total", "sites"):
            sections[name] = [
                r
                for r in sections[name]
                if not (r["product"] == "tkg_cluster" and r["metric"] in PER_CLUSTER_METRICS)
            ]
        sections["tenants"] = []
    return {
        "month": f"{month.start:%Y-%m}",
        "issuer": settings.branding,
        "locale": settings.default_locale,
        "sections": sections,
        "ratio": ratio,
        "computed_with": settings_used or {},
        "hours": month.hours,
        "charts": _charts(sections),
        "summary": summary,
        "tenant_count": tenant_count,
        "top_tenants": top,
        "tenant_figures": [heading for heading, _, _ in TENANT_FIGURES],
        # hashed: customers appear by label only (the mapping is the private file beside)
        "hashed": labels is not None and labels.hashed,
        "labels_described": labels.describe() if labels is not None else "",
    }


def report_html(env: jinja2.Environment, context: dict[str, Any]) -> str:
    """The report as a standalone HTML page (the stylesheet inlined)."""
    css = (resource_dir("reports") / "report.css").read_text(encoding="utf-8")
    return env.get_template("provider_report.html.j2").render(css=css, **context)


def render_report_pdf(renderer: Renderer, job: tuple[str, LakePath]) -> None:
    """A render job (in a pool worker): the summary HTML to its PDF, atomically."""
    html, path = job
    write_bytes(path, renderer.pdf(html))


def write_provider_report(
    con: duckdb.DuckDBPyConnection,
    config: ProviderConfig,
    env: jinja2.Environment,
    settings: InvoicingSettings,
    month: Window,
    outputs: dict[str, LakePath],
) -> Job:
    """Write the report's CSV, its private label mapping and full HTML (atomically); return
    the job that renders the summary PDF, for the close's render pool."""
    labels = label_settings(config)
    register_report_inputs(con, config, month)
    rows, mapping = report_rows(con, month, labels)
    used = computed_with(config, month)
    ratio = Decimal(used["dse_vcpus_per_core"])
    write_mapping(outputs["provider_labels"], mapping, tenant_names(con))
    write_bytes(outputs["provider_csv"], report_csv(rows))
    for summary in (False, True):
        context = report_context(
            rows, settings, month, ratio, summary=summary, settings_used=used, labels=labels
        )
        html = report_html(env, context)
        if not summary:
            write_bytes(outputs["provider_html"], html.encode("utf-8"))
    return Job("provider-report", render_report_pdf, (html, outputs["provider_pdf"]))
