"""Rendered documents: golden HTML snapshots (frozen time, static data), escaping, locale
formatting, the provider report's rules and the FOCUS export's columns and sums."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from metering.close.register import Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.errors import ConfigError
from metering.reports import formatting, invoice
from metering.reports.focus import CONDITIONAL, MANDATORY
from metering.reports.provider import CSV_COLUMNS
from metering.reports.render import Renderer
from metering.reports.showback import showback_html
from tests.close.builders import (
    FROZEN_NOW,
    MONTH,
    build_month,
    load_case,
    rating_rows,
    write_rating,
)

GOLDEN = Path(__file__).resolve().parents[1] / "cases" / "reports"


def check_golden(name: str, text: str, tmp_path: Path) -> None:
    """Compare with tests/cases/reports/<name>; UPDATE_GOLDEN=1 rewrites the snapshot."""
    text = text.replace(str(tmp_path), "<tmp>")
    text = text.replace(Renderer().css_text, "/* reports/report.css, inlined */")
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {name}; run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden snapshot"


@pytest.fixture
def closed(tmp_path):
    config = build_month(tmp_path)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    register = Register(load_settings(config).register_path, config.name)
    docs = {d.tenant_id: d for d in register.documents("2026-10")}
    return config, result, docs


def test_invoice_html_matches_golden_snapshots(closed, tmp_path):
    _, _, docs = closed
    renderer = Renderer()
    for tenant, name in (("acme", "invoice-acme.html"), ("evil", "invoice-hostile.html")):
        doc = docs[tenant]
        check_golden(name, invoice.html(renderer, doc.number, doc.issued_at, doc.body), tmp_path)


def test_provider_report_html_matches_golden_snapshot(closed, tmp_path):
    _, result, _ = closed
    html = result.outputs["provider_html"].read_text(encoding="utf-8")
    check_golden("provider-report.html", html, tmp_path)


def test_hostile_tenant_name_and_address_are_escaped(closed):
    _, _, docs = closed
    doc = docs["evil"]
    html = invoice.html(Renderer(), doc.number, doc.issued_at, doc.body)
    assert "<script>" not in html and "<img" not in html and "<i>nodes</i>" not in html
    assert "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt; &amp; &#34;Co&#34; &lt;b&gt;" in html


def test_amounts_follow_the_tenant_locale():
    assert formatting.money("1234.5", "EUR", "de_DE") == "1.234,50\xa0€"
    assert formatting.money("1234.5", "USD", "en_US") == "$1,234.50"
    assert formatting.money("1234", "JPY", "ja_JP") == "￥1,234"
    assert formatting.unit_price("0.012500000", "EUR", "de_DE") == "0,0125\xa0€"
    assert formatting.quantity("5760.000000000", "de_DE") == "5.760"


def test_invoice_marks_estimated_lines_and_carries_a_chart(closed):
    _, _, docs = closed
    html = invoice.html(Renderer(), docs["evil"].number, docs["evil"].issued_at, docs["evil"].body)
    assert "* Estimated:" in html and "<svg" in html
    acme = docs["acme"]
    assert "Estimated:" not in invoice.html(Renderer(), acme.number, acme.issued_at, acme.body)


def _report_rows(result) -> list[dict[str, str]]:
    """The report CSV's rows, each with the ``tenant_id`` its label stands for (from the
    private mapping beside the report: the CSV itself names no tenant)."""
    csv_path = result.outputs["provider_csv"]
    mapping = csv_path.with_name(csv_path.name.replace(".csv", ".labels.csv"))
    tenants = {
        r["customer_label"]: r["tenant_id"]
        for r in csv.DictReader(io.StringIO(mapping.read_text()))
    }
    tenants["*"] = "*"
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    return [{**r, "tenant_id": tenants[r["customer_label"]]} for r in rows]


def test_provider_report_csv_has_the_documented_columns_and_the_seed_rules(closed):
    _, result, _ = closed
    rows = _report_rows(result)
    assert tuple(rows[0].keys())[:-1] == CSV_COLUMNS  # + the tenant_id the test resolved

    def value(site, tenant, product, dimension, metric):
        found = [
            r["quantity"]
            for r in rows
            if (r["site"], r["tenant_id"], r["product"], r["dimension"], r["metric"])
            == (site, tenant, product, dimension, metric)
        ]
        assert len(found) == 1, (site, tenant, product, dimension, metric)
        return Decimal(found[0])

    assert value("*", "*", "vm", "", "vms") == 6  # every VM, the 4 TKG nodes included
    assert value("*", "evil", "vm", "", "tkg_node_vms") == 4
    assert value("az1", "evil", "tkg_cluster", "cluster-1", "node_vms") == 4  # per cluster id
    assert value("*", "evil", "tkg_cluster", "", "clusters") == 1
    assert value("az1", "acme", "object_storage", "", "objects") == 12000
    assert value("az1", "acme", "object_storage", "", "buckets") == 3
    assert value("az1", "acme", "object_storage", "", "users") == 2
    assert value("*", "acme", "object_storage", "2DC-3R", "average_gb") == 500
    assert value("*", "unmapped:orphan-org", "alp_instance", "bitnami-wordpress", "instances") == 1
    assert value("*", "*", "dse_core", "postgres", "reported_cores") == 6
    assert "1 vCPU = 1 core" in result.outputs["provider_html"].read_text()
    assert result.outputs["provider_pdf"].read_bytes().startswith(b"%PDF")


def test_dse_cores_are_rounded_up_once_at_the_reported_total(tmp_path):
    config = build_month(tmp_path)
    tables = rating_rows(load_case())
    month = MONTH.start.date()
    for tenant in ("acme", "evil"):  # 3 RabbitMQ nodes × 1500m = 4.5 cores each, all month
        for day in MONTH.days():
            tables["rated_usage"].append(
                {
                    "month": month,
                    "tenant_id": tenant,
                    "site": "az1",
                    "resource_id": f"rmq-{tenant}",
                    "resource_name": "queue",
                    "usage_date": day,
                    "product": "dse_core",
                    "dimension": "rabbitmq",
                    "quantity": Decimal("108"),
                    "unit": "core-hour",
                    "list_amount": Decimal("0"),
                }
            )
    write_rating(config, tables)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    rows = {
        (r["site"], r["tenant_id"], r["metric"]): Decimal(r["quantity"])
        for r in _report_rows(result)
        if r["dimension"] == "rabbitmq"
    }
    assert rows[("*", "acme", "average_cores")] == Decimal("4.5")
    assert rows[("*", "acme", "reported_cores")] == 5
    assert rows[("*", "*", "average_cores")] == 9
    assert rows[("*", "*", "reported_cores")] == 9  # not 5 + 5: rounded once, at the total


def test_focus_export_has_the_columns_and_bills_each_invoice_total(closed):
    _, result, docs = closed
    table = pq.read_table(result.outputs["focus_parquet"])
    for column in (*MANDATORY, *CONDITIONAL, "InvoiceId", "x_StoragePolicy", "x_ReplicationFactor"):
        assert column in table.column_names, column
    assert str(table.schema.field("BilledCost").type) == "decimal128(18, 2)"
    path = result.outputs["focus_parquet"]
    sums = dict(
        duckdb.sql(f"select InvoiceId, sum(BilledCost) from '{path}' group by all").fetchall()
    )
    # the case's unmapped org is held (a draft, no number): FOCUS bills issued invoices only
    assert docs["unmapped:orphan-org"].number is None
    assert sums == {d.number: Decimal(d.total_amount) for d in docs.values() if d.number}
    nullable = ("ChargeClass", "PricingQuantity", "PricingUnit")  # null allowed off Usage rows
    nulls = duckdb.sql(
        f"select count(*) from '{path}' where "
        + " or ".join(f'"{c}" is null' for c in MANDATORY if c not in nullable)
        + " or (ChargeCategory = 'Usage' and (PricingQuantity is null or PricingUnit is null))"
    ).fetchall()[0][0]
    assert nulls == 0
    # a line is split over its resources to the cent: the four TKG nodes share 74.40
    nodes = duckdb.sql(
        f"select ResourceId, BilledCost from '{path}' where InvoiceId = '{docs['evil'].number}' "
        "and ServiceSubcategory = 'Virtual Machines' order by ResourceId"
    ).fetchall()
    assert [n[1] for n in nodes] == [Decimal("18.60")] * 4
    storage = duckdb.sql(
        f"select x_StoragePolicy, x_ReplicationFactor, BilledCost from '{path}' "
        "where ResourceType = 'object_storage'"
    ).fetchall()
    assert storage == [("2DC-3R", Decimal("3"), Decimal("16.50"))]
    kinds = duckdb.sql(f"select distinct ChargeCategory from '{path}' order by 1").fetchall()
    assert [k[0] for k in kinds] == ["Credit", "Tax", "Usage"]
    csv_text = result.outputs["focus_csv"].read_text()
    assert csv_text.splitlines()[0].startswith('"BilledCost","BillingAccountId"')


def test_showback_of_an_open_month_is_marked_as_an_estimate_and_not_numbered(tmp_path):
    config = build_month(tmp_path)
    html = showback_html(config, "acme", MONTH, now=FROZEN_NOW)
    # in acme's language (catalog locale de_DE)
    assert "SCHÄTZUNG: keine Rechnung" in html and "ABGESCHLOSSEN" not in html
    assert "INV-" not in html
    assert "94,66" in html and "web-01" in html
    with pytest.raises(ConfigError, match="unknown tenant 'nobody'"):
        showback_html(config, "nobody", MONTH, now=FROZEN_NOW)


def test_showback_of_a_closed_month_shows_the_issued_invoice_as_final(closed):
    config, _, docs = closed
    html = showback_html(config, "acme", MONTH, now=FROZEN_NOW)
    assert "SCHÄTZUNG" not in html
    assert f"ABGESCHLOSSEN: abgerechnet mit {docs['acme'].number}" in html
    assert "94,66" in html and "web-01" in html


def test_unpriced_usage_is_still_reported_to_the_provider(tmp_path):
    config = build_month(tmp_path)
    tables = rating_rows(load_case())
    tables["unrated_usage"] = [
        {
            "month": MONTH.start.date(),
            "site": "az2",
            "org_name": "shadow-it",
            "tenant_id": None,
            "resource_id": "vm-x",
            "resource_name": "x",
            "product": "vcpu",
            "dimension": "",
            "quantity": Decimal("100"),
            "unit": "vCPU-hour",
            "reason": "no price",
        }
    ]
    write_rating(config, tables)
    # unrated usage holds every tenant (its org is unknown): the report comes with the close
    # that issues them anyway, or once the usage is priced
    refused = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    assert refused.refused and not refused.outputs["provider_csv"].exists()
    result = close_month(
        config,
        MONTH,
        rate=False,
        now=FROZEN_NOW,
        show_progress=False,
        accept_gaps="shadow-it's VM is priced next month",
    )
    rows = {
        (r["site"], r["tenant_id"], r["metric"]): Decimal(r["quantity"])
        for r in _report_rows(result)
        if r["product"] in ("vcpu", "vm")
    }
    assert rows[("az2", "unmapped:shadow-it", "vcpu_quantity")] == 100
    assert rows[("az2", "unmapped:shadow-it", "vms")] == 1
    assert rows[("*", "*", "vms")] == 7


def test_report_csv_never_hands_a_spreadsheet_a_formula():
    from metering.reports.provider import report_csv

    row = {
        "month": "2026-10",
        "site": "az1",
        "customer_label": "c-0123",
        "product": "vm",
        "dimension": "=cmd|' /C calc'!A0",
        "metric": "vms",
        "quantity": Decimal("1"),
        "unit": "VMs",
    }
    line = report_csv([row]).decode().splitlines()[1]
    assert "'=cmd" in line and ",1,VMs" in line


def test_usage_csv_escapes_formula_like_resource_names_but_not_amounts():
    body = {
        "tenant_id": "t",
        "usage": [
            {
                "site": "az1",
                "resource_id": "vm-1",
                "resource_name": "@SUM(A1)",
                "product": "vcpu",
                "dimension": "",
                "unit": "vCPU-hour",
                "quantity": "-2",
                "list_amount": "-0.5",
                "first_date": "2026-10-01",
                "last_date": "2026-10-31",
            }
        ],
    }
    line = invoice.usage_csv("INV-1", body).decode().splitlines()[1]
    # a body frozen before usage rows named their card and filled hours: empty card, 0 hours
    assert line == "INV-1,t,az1,vm-1,'@SUM(A1),vcpu,,vCPU-hour,-2,-0.5,2026-10-01,2026-10-31,,0"


def test_an_invoice_closed_before_usage_rows_named_their_card_is_not_reissued():
    from metering.close.documents import content_hash, legacy_content_hash

    row = {"site": "az1", "resource_id": "vm-1", "resource_name": "web", "product": "vcpu"}
    row |= {"dimension": "", "unit": "vCPU-hour"}
    new = {
        "currency": "EUR",
        "lines": [{"line_no": 1, "estimated": False}],
        "totals": {"total_amount": "0.56"},
        "usage": [
            row
            | {"quantity": "24.000000000", "list_amount": "0.300000000"}
            | {"first_date": "2026-10-01", "last_date": "2026-10-01", "rate_card_id": "c1"},
            row
            | {"quantity": "24.000000000", "list_amount": "0.264000000"}
            | {"first_date": "2026-10-02", "last_date": "2026-10-02", "rate_card_id": "c2"},
        ],
    }
    # what the appendix of an earlier version froze: the month summed per resource, no card
    old = new | {
        "usage": [
            row
            | {"quantity": "48.000000000", "list_amount": "0.564000000"}
            | {"first_date": "2026-10-01", "last_date": "2026-10-02"}
        ]
    }
    assert content_hash(new) != content_hash(old)
    assert legacy_content_hash(new) == content_hash(old)
    # an estimate is new content: no earlier body can have had it
    filled = new | {"lines": [{"line_no": 1, "estimated": True, "filled_hours": "2"}]}
    assert legacy_content_hash(filled) is None
