"""The provider report's PDF is a bounded summary (totals, per site, the largest tenants);
the CSV and the HTML keep every row, per-cluster and per-tenant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metering.close.inputs import open_month
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.rating.settings import rating_settings
from metering.reports import provider
from metering.reports.labels import customer_label, label_settings
from metering.reports.render import template_env
from tests.close.builders import FROZEN_NOW, MONTH, build_month
from tests.close.test_close import pdf_text
from tests.reports.test_documents import check_golden


@pytest.fixture
def closed(tmp_path):
    config = build_month(tmp_path)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    return config, result


def _summary_html(config) -> str:
    con = open_month(config, MONTH)
    try:
        provider.register_report_inputs(con, config, MONTH)
        labels = label_settings(config)
        rows, _ = provider.report_rows(con, MONTH, labels)
    finally:
        con.close()
    ratio = rating_settings(config).dse_vcpus_per_core
    context = provider.report_context(
        rows, load_settings(config), MONTH, ratio, summary=True, labels=labels
    )
    return provider.report_html(template_env(), context)


def test_summary_html_matches_golden_snapshot(closed, tmp_path):
    config, _ = closed
    check_golden("provider-report-summary.html", _summary_html(config), tmp_path)


def test_pdf_is_the_summary_and_the_html_keeps_every_row(closed):
    config, result = closed
    full = result.outputs["provider_html"].read_text(encoding="utf-8")
    summary = _summary_html(config)
    # per-cluster rows: in the CSV and the full HTML, not in the summary's tables
    assert "<td>cluster-1</td><td>node_vms</td>" in full
    assert "<td>cluster-1</td>" not in summary
    assert "Per tenant (all sites)" in full and "Largest tenants" not in full
    assert "Largest tenants" in summary and "Per tenant (all sites)" not in summary
    text = " ".join(pdf_text(result.outputs["provider_pdf"]).split())
    assert "Largest tenants (all sites)" in text
    # customers by label only (the names are in the private mapping file)
    labels = label_settings(config)
    assert customer_label(labels, "acme") in text and "ACME Industries" not in text
    assert customer_label(labels, "unmapped:orphan-org") in text
    assert "provider-report-2026-10.csv" in text


def _row(tenant: str, product: str, metric: str, quantity: str, dimension: str = ""):
    return {
        "site": "*",
        "tenant_id": tenant,
        "tenant_name": tenant.upper(),
        "customer_label": f"c-{tenant}",
        "product": product,
        "dimension": dimension,
        "metric": metric,
        "quantity": Decimal(quantity),
        "unit": "",
    }


def test_largest_tenants_rank_by_vms_and_sum_over_dimensions():
    rows = [
        _row("a", "vm", "vms", "3"),
        _row("b", "vm", "vms", "7"),
        _row("c", "vm", "vms", "3"),
        _row("d", "vcpu", "vcpu_quantity", "99"),  # no VMs: last
        _row("b", "dse_core", "dse_core_quantity", "1.5", "postgres"),
        _row("b", "dse_core", "dse_core_quantity", "2.25", "rabbitmq"),
        _row("b", "dse_core", "average_cores", "0.005", "rabbitmq"),  # not a summary figure
        _row("b", "object_storage", "object_storage_quantity", "10", "2DC-3R"),
        _row("b", "object_storage", "object_storage_quantity", "5", "EC-4+2"),
    ]
    top = provider.largest_tenants(rows, 3)
    assert [t["tenant_id"] for t in top] == ["b", "a", "c"]  # d is cut; a before c by label
    figures = dict(zip([h for h, _, _ in provider.TENANT_FIGURES], top[0]["figures"], strict=True))
    assert figures["VMs"] == 7
    assert figures["DSE core-hours"] == Decimal("3.75")
    assert figures["Object storage GB-hours"] == 15
    assert top[0]["tenant_name"] == "B"


def test_summary_stays_bounded_whatever_the_number_of_tenants_and_clusters(closed):
    config, _ = closed
    settings = load_settings(config)
    rows = [_row(f"t{i:05d}", "vm", "vms", str(i % 50)) for i in range(3000)]
    rows += [
        {**_row("*", "tkg_cluster", "node_vms", "3", f"cluster-{i}"), "site": site}
        for i in range(2000)
        for site in ("*", "az1")
    ]
    context = provider.report_context(rows, settings, MONTH, Decimal(1), summary=True)
    assert len(context["top_tenants"]) == provider.TOP_TENANTS
    assert context["tenant_count"] == 3000
    assert context["sections"]["tenants"] == []
    assert context["sections"]["total"] == [] and context["sections"]["sites"] == []
    html = provider.report_html(template_env(), context)
    assert "The 25 of 3000 tenants with the most VMs" in html
    # the full report (the HTML) of the same rows keeps every per-cluster row
    full = provider.report_html(
        template_env(), provider.report_context(rows, settings, MONTH, Decimal(1))
    )
    assert full.count("cluster-1999") == 2
