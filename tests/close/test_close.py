"""Month-end close against rating outputs written with the contract's columns."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from babel.numbers import format_currency

from metering.close.register import DocumentKind, DocumentState, Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.errors import CloseError, ConfigError
from metering.reports import i18n
from metering.resources import read_sql
from tests.close.builders import (
    FROZEN_NOW,
    MONTH,
    build_month,
    load_case,
    make_config,
    rating_rows,
    write_rating,
)


def pdf_text(path: Path) -> str:
    """The PDF's text with all whitespace (incl. no-break spaces) collapsed to one space."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(out.replace("\xa0", " ").split())


def words(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def close(config, **kwargs):
    return close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False, **kwargs)


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def focus_sums(result) -> dict[str, Decimal]:
    path = result.outputs["focus_parquet"]
    rows = duckdb.sql(
        f"select InvoiceId, sum(BilledCost) from read_parquet('{path}') group by all"
    ).fetchall()
    return dict(rows)


def test_close_issues_one_invoice_per_tenant_whose_pdf_shows_number_tenant_and_total(tmp_path):
    config = build_month(tmp_path)
    result = close(config)
    # the case's third tenant is an org no catalog entry names: held, see the test below
    assert result.invoices == ("INV-2026-000001", "INV-2026-000002")
    assert result.changed and result.rendered and not result.credit_notes
    register = Register(load_settings(config).register_path, config.name)
    docs = {d.tenant_id: d for d in register.documents("2026-10")}
    locales = {"acme": "de_DE", "evil": "en_US"}
    for totals in load_case()["totals"][:2]:
        doc = docs[totals["tenant_id"]]
        assert doc.state is DocumentState.ISSUED and doc.total_amount == totals["total_amount"]
        text = pdf_text(result.out_dir / "invoices" / "2026-10" / f"{doc.number}.pdf")
        assert doc.number in text
        assert totals["tenant_name"] in text  # the hostile name appears as text, not markup
        total = format_currency(
            Decimal(totals["total_amount"]), totals["currency"], locale=locales[doc.tenant_id]
        )
        # "Total" in the tenant's language (acme reads German, evil English)
        label = i18n.translations(i18n.catalog_for(locales[doc.tenant_id])).gettext("Total")
        assert f"{label} {words(total)}" in text
    # the FOCUS export bills exactly the PDF totals per invoice
    assert focus_sums(result) == {
        docs[t["tenant_id"]].number: Decimal(t["total_amount"]) for t in load_case()["totals"][:2]
    }
    usage_csv = (result.out_dir / "invoices" / "2026-10" / "INV-2026-000001-usage.csv").read_text()
    assert usage_csv.splitlines()[0].startswith("document_number,tenant_id,site,resource_id")
    assert "web-01" in usage_csv


def test_an_unmapped_org_gets_a_watermarked_draft_and_no_number_until_the_catalog_maps_it(
    tmp_path,
):
    config = build_month(tmp_path)
    result = close(config)
    assert result.unmapped == ("unmapped:orphan-org",)
    assert "unmapped org" in result.held["unmapped:orphan-org"]
    assert not result.refused  # a hold for the catalog, not a gap: the rest is issued
    register = Register(load_settings(config).register_path, config.name)
    orphan = [d for d in register.documents("2026-10") if d.tenant_id == "unmapped:orphan-org"]
    assert [(d.state, d.number) for d in orphan] == [(DocumentState.DRAFT, None)]
    (draft,) = result.drafts
    assert draft.parent == result.out_dir / "drafts" / "2026-10"
    text = pdf_text(draft)
    assert "DRAFT" in text and "orphan-org" in text
    assert f"Total {words(format_currency(Decimal('7.44'), 'EUR', locale='en_US'))}" in text
    assert not list((result.out_dir / "invoices" / "2026-10").glob("*orphan*"))
    exported = duckdb.sql(
        f"select tenant_id from read_parquet('{result.outputs['documents']}')"
    ).fetchall()
    assert ("unmapped:orphan-org",) not in exported
    assert not close(config).changed  # still unmapped: still held, nothing issued

    # the catalog maps the org, rating names its tenant: the next close issues it, numbered
    with config.tenant_catalog.open("a", encoding="utf-8") as catalog:
        catalog.write('\n[[tenants]]\nid = "orphan"\norgs = ["orphan-org"]\n')
    tables = rating_rows(load_case())
    for rows in tables.values():
        for row in rows:
            if row.get("tenant_id") == "unmapped:orphan-org":
                row["tenant_id"] = "orphan"
    write_rating(config, tables)
    mapped = close(config)
    assert mapped.invoices == ("INV-2026-000003",) and mapped.unmapped == ()
    assert mapped.drafts == () and not list(draft.parent.glob("*.pdf"))


def test_number_format_is_configurable_and_gap_free(tmp_path):
    config = build_month(
        tmp_path, invoicing='invoice_number_format = "X{year}{month:02d}-{seq:04d}"'
    )
    assert close(config).invoices == ("X202610-0001", "X202610-0002")


def test_number_format_without_seq_is_a_config_error_naming_the_key(tmp_path):
    config = make_config(tmp_path, invoicing='invoice_number_format = "INV-{year}"')
    with pytest.raises(
        ConfigError, match=r"\[invoicing\] invoice_number_format: must contain \{seq\}"
    ):
        load_settings(config)


def test_unchanged_reclose_issues_and_writes_nothing(tmp_path):
    config = build_month(tmp_path)
    first = close(config)
    before = snapshot(first.out_dir)
    register = Register(load_settings(config).register_path, config.name)
    docs_before = register.documents()
    again = close(config)
    assert not again.changed
    assert again.invoices == again.credit_notes == again.rendered == ()
    assert register.documents() == docs_before
    assert snapshot(first.out_dir) == before


def _correct_acme_vcpu_price(config) -> dict:
    """Re-rated outputs after a price correction: acme's az1 vCPU 0.0125 → 0.0100."""
    tables = rating_rows(load_case())
    for line in tables["invoice_lines"]:
        if line["tenant_id"] == "acme" and line["line_no"] == 1:
            line["unit_price"], line["list_amount"] = Decimal("0.0100"), Decimal("14.40")
    for row in tables["invoice_totals"]:
        if row["tenant_id"] == "acme":  # lines 83.32, discount -8.33, net 74.99, VAT 15.75
            row.update(
                lines_amount=Decimal("83.32"),
                discount_amount=Decimal("-8.33"),
                subtotal_amount=Decimal("74.99"),
                tax_amount=Decimal("15.75"),
                total_amount=Decimal("90.74"),
            )
    write_rating(config, tables)
    (config.pricing_dir / "standard.toml").write_text('vcpu = "0.0100"\n')
    return tables


def test_reclose_after_price_correction_issues_credit_note_and_corrected_invoice(tmp_path):
    config = build_month(tmp_path)
    first = close(config)
    old_pdf = (first.out_dir / "invoices" / "2026-10" / "INV-2026-000001.pdf").read_bytes()
    _correct_acme_vcpu_price(config)
    second = close(config)
    assert second.changed
    assert second.credit_notes == ("CN-2026-000001",)
    assert second.invoices == ("INV-2026-000003",)
    assert second.credited == ("INV-2026-000001",)
    register = Register(load_settings(config).register_path, config.name)
    by_number = {d.number: d for d in register.documents("2026-10")}
    assert by_number["INV-2026-000001"].state is DocumentState.CREDITED
    assert by_number["INV-2026-000001"].total_amount == "94.66"  # kept, unchanged
    note = by_number["CN-2026-000001"]
    assert note.kind is DocumentKind.CREDIT_NOTE and note.total_amount == "-94.66"
    corrected = by_number["INV-2026-000003"]
    assert corrected.replaces_id == by_number["INV-2026-000001"].id
    assert corrected.total_amount == "90.74"
    # the issued invoice's PDF is untouched; the credit note names the invoice it cancels
    assert (first.out_dir / "invoices" / "2026-10" / "INV-2026-000001.pdf").read_bytes() == old_pdf
    corrected_text = pdf_text(second.out_dir / "invoices" / "2026-10" / "INV-2026-000003.pdf")
    # in acme's language (de_DE)
    assert "korrigiert und ersetzt die Rechnung INV-2026-000001" in corrected_text
    assert "Gesamtbetrag 90,74 €" in corrected_text
    text = pdf_text(second.out_dir / "credit_notes" / "2026-10" / "CN-2026-000001.pdf")
    assert "Zur Rechnung INV-2026-000001" in text and "Gesamtbetrag -94,66 €" in text
    assert "Grund: korrigierte Nutzung oder Preise." in text
    assert focus_sums(second) == {
        "INV-2026-000001": Decimal("94.66"),
        "INV-2026-000002": Decimal("200.88"),
        "CN-2026-000001": Decimal("-94.66"),
        "INV-2026-000003": Decimal("90.74"),
    }
    exported = duckdb.sql(
        f"select number, state, credits_number, replaces_number "
        f"from read_parquet('{second.outputs['documents']}') order by number"
    ).fetchall()
    assert exported == [
        ("CN-2026-000001", "issued", "INV-2026-000001", None),
        ("INV-2026-000001", "credited", None, None),
        ("INV-2026-000002", "issued", None, None),
        ("INV-2026-000003", "issued", None, "INV-2026-000001"),
    ]
    # the warehouse's view of them (sql/warehouse/documents.sql) shows them as numbered, with
    # their figures (this month's pricing is the close builders' own: no warehouse file here)
    with duckdb.connect() as con:
        con.execute("create schema lake")
        con.execute(f"create view lake.documents as from '{second.outputs['documents']}'")
        view = read_sql("warehouse/documents.sql")
        shown = con.execute(
            "select number, kind, state, tenant_id, tenant_name, subtotal_amount, tax_amount, "
            f"total_amount, credits_number, replaces_number from ({view}) order by number"
        ).fetchall()
    assert shown == [
        (
            n,
            by_number[n].kind.value,
            state,
            by_number[n].tenant_id,
            by_number[n].body["tenant_name"],
            Decimal(by_number[n].body["totals"]["subtotal_amount"]),
            Decimal(by_number[n].body["totals"]["tax_amount"]),
            Decimal(by_number[n].total_amount),
            credits,
            replaces,
        )
        for n, state, credits, replaces in exported
    ]
    assert shown[0][5:8] == (Decimal("-78.23"), Decimal("-16.43"), Decimal("-94.66"))
    assert not close(config).changed  # and closing once more changes nothing


def test_tenant_without_charges_after_correction_gets_a_credit_note_only(tmp_path):
    config = build_month(tmp_path)
    close(config)
    tables = rating_rows(load_case())
    for name in ("invoice_totals", "invoice_lines", "rated_usage"):
        tables[name] = [r for r in tables[name] if r["tenant_id"] != "evil"]
    write_rating(config, tables)
    result = close(config)
    assert result.credit_notes == ("CN-2026-000001",)
    assert result.invoices == ()
    assert result.credited == ("INV-2026-000002",)


def test_draft_only_numbers_nothing_and_the_next_close_issues(tmp_path):
    config = build_month(tmp_path)
    drafted = close(config, draft_only=True)
    register = Register(load_settings(config).register_path, config.name)
    drafts = register.documents("2026-10")
    assert [d.state for d in drafts] == [DocumentState.DRAFT] * 3
    assert all(d.number is None for d in drafts) and drafted.rendered == ()
    # the drafts render apart, watermarked, with the invoices' layout and no number
    assert len(drafted.drafts) == 3
    assert {p.parent for p in drafted.drafts} == {drafted.out_dir / "drafts" / "2026-10"}
    assert not (drafted.out_dir / "invoices" / "2026-10").exists()
    text = pdf_text(next(p for p in drafted.drafts if "acme" in p.name))
    assert "DRAFT" in text and "ACME Industries GmbH" in text and "INV-" not in text
    issued = close(config)
    assert issued.invoices == ("INV-2026-000001", "INV-2026-000002")
    states = {d.tenant_id: d.state for d in register.documents("2026-10")}
    assert states == {
        "acme": DocumentState.ISSUED,
        "evil": DocumentState.ISSUED,
        "unmapped:orphan-org": DocumentState.DRAFT,
    }
    assert len(issued.drafts) == 1 and "orphan-org" in issued.drafts[0].name


def test_close_without_rating_outputs_says_what_to_run(tmp_path):
    config = make_config(tmp_path)
    with pytest.raises(
        CloseError, match=r"no rating output invoice_lines for 2026-10.*metering rate"
    ):
        close(config)


def test_a_second_close_while_one_runs_is_refused_with_one_line(tmp_path):
    import fcntl

    from metering.errors import LockError

    config = build_month(tmp_path)
    lock = load_settings(config).register_path.with_suffix(".close.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(LockError, match="another close is running"):
            close(config)


def test_a_close_failing_while_numbering_leaves_no_number_taken(tmp_path, monkeypatch):
    from metering.close.settings import InvoicingSettings

    config = build_month(tmp_path)
    real = InvoicingSettings.number
    calls = []

    def fail_on_second(self, kind, seq, year, month):
        calls.append(seq)
        if len(calls) == 2:
            raise OSError("disk vanished")  # a crash in the middle of the numbering transaction
        return real(self, kind, seq, year, month)

    monkeypatch.setattr(InvoicingSettings, "number", fail_on_second)
    with pytest.raises(OSError):
        close(config)
    register = Register(load_settings(config).register_path, config.name)
    assert register.documents() == []  # rolled back: no draft, no number
    monkeypatch.setattr(InvoicingSettings, "number", real)
    assert close(config).invoices == ("INV-2026-000001", "INV-2026-000002")


def test_an_invoice_whose_usage_amounts_alone_differ_is_not_issued_again(tmp_path):
    # An invoice issued before rated usage carried no money froze per-part sums as its usage
    # rows' amounts; the shares of the lines differ from them in the last decimals. Lines,
    # totals and quantities decide: re-closing does not credit and re-issue it.
    import json
    import sqlite3

    from metering.close.documents import content_hash

    config = build_month(tmp_path)
    first = close(config)
    path = load_settings(config).register_path
    with sqlite3.connect(path) as db:
        for doc_id, text in db.execute("select id, body from documents").fetchall():
            body = json.loads(text)
            for row in body["usage"]:
                row["list_amount"] = str(Decimal(row["list_amount"]) + Decimal("0.000000001"))
            db.execute(
                "update documents set body = ?, content_hash = ? where id = ?",
                [json.dumps(body), content_hash(body), doc_id],
            )
    # the month's usage files change (a day's quantity moves to the next day: same month)
    tables = rating_rows(load_case())
    rows = tables["rated_usage"]
    first_row = next(i for i, r in enumerate(rows) if r["usage_date"].day < 31)
    moved = rows[first_row]
    twin = next(
        r
        for r in rows
        if r["resource_id"] == moved["resource_id"]
        and r["product"] == moved["product"]
        and r["usage_date"].day == moved["usage_date"].day + 1
    )
    twin["quantity"] += moved["quantity"] - 1
    moved["quantity"] = Decimal(1)
    write_rating(config, tables)
    register = Register(path, config.name)

    def numbered() -> list:  # a draft (the unmapped org's) is planned afresh by every close
        return [d for d in register.documents() if d.state is not DocumentState.DRAFT]

    docs_before = numbered()
    again = close(config)
    assert first.invoices and again.invoices == again.credit_notes == ()
    assert numbered() == docs_before
