"""The close works a batch of tenants at a time (``[invoicing] batch_tenants``): any batch
size gives the same register, documents and exports as one batch holding every tenant."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.close.billto import load_bill_to
from metering.close.contract import SCHEMAS
from metering.close.documents import iter_bodies
from metering.close.inputs import content_hash, open_month
from metering.close.register import Register
from metering.close.settings import load_settings
from metering.config import ProviderConfig
from metering.errors import ConfigError
from tests.close.builders import (
    MONTH,
    add_simple_tenants,
    build_month,
    make_config,
    write_rating,
)
from tests.close.test_close import _correct_acme_vcpu_price, close, pdf_text


def _files(out: Path) -> dict[str, str]:
    """sha256 of every file the close wrote under ``out`` (PDFs by their text: their bytes
    carry WeasyPrint's creation time), by path relative to ``out``."""
    digests = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix in (".sqlite", ".lock", ".toml", ".secret"):
            continue
        if path.suffix in (".sqlite-wal", ".sqlite-shm") or "pricing" in path.parts:
            continue
        data = pdf_text(path).encode() if path.suffix == ".pdf" else path.read_bytes()
        digests[str(path.relative_to(out))] = hashlib.sha256(data).hexdigest()
    return digests


def _register_rows(config) -> list[tuple[object, ...]]:
    con = sqlite3.connect(load_settings(config).register_path)
    try:
        return con.execute("select * from documents order by id").fetchall()
    finally:
        con.close()


def _focus_rows(out: Path) -> pa.Table:
    return pq.read_table(out / "focus" / "focus-2026-10.parquet")


def _closed_twice(tmp: Path, batch: int) -> ProviderConfig:
    """A month of 9 tenants closed, then corrected and closed again (a credit note and a
    corrected invoice), with ``batch`` tenants per batch."""
    config = build_month(tmp, invoicing=f"batch_tenants = {batch}")
    simple = [
        r for r in add_simple_tenants(config, 6)["invoice_totals"] if r["tenant_id"][0] == "t"
    ]
    first = close(config)
    assert len(first.invoices) == 8  # the case's unmapped org is held, without a number
    tables = _correct_acme_vcpu_price(config)  # the case alone: add the 6 tenants back
    extra = add_simple_tenants(config, 6)
    for name in ("invoice_totals", "invoice_lines"):
        tables[name] += [
            r for r in extra[name] if r["tenant_id"] in {t["tenant_id"] for t in simple}
        ]
    write_rating(config, tables)
    second = close(config)
    assert second.credit_notes == ("CN-2026-000001",) and len(second.invoices) == 1
    return config


def test_batches_of_one_tenant_give_the_same_documents_and_exports_as_one_batch(tmp_path):
    one = _closed_twice(tmp_path / "one", batch=1)
    many = _closed_twice(tmp_path / "many", batch=1000)
    assert _register_rows(one) == _register_rows(many)
    out_one, out_many = load_settings(one).out_dir, load_settings(many).out_dir
    files_one, files_many = _files(out_one), _files(out_many)
    # 9 invoices, 1 note, the report, the unmapped org's draft
    assert len([f for f in files_one if f.endswith(".pdf")]) == 12
    # PDFs' text, usage CSVs, provider report, FOCUS CSV, documents Parquet: the same bytes;
    # the FOCUS Parquet has a row group per batch, so its rows are compared instead
    focus = "focus/focus-2026-10.parquet"
    assert files_one.keys() == files_many.keys() and focus in files_one
    assert {k: v for k, v in files_one.items() if k != focus} == {
        k: v for k, v in files_many.items() if k != focus
    }
    assert _focus_rows(out_one).equals(_focus_rows(out_many))
    assert _focus_rows(out_one).num_rows > 30


def _one_query_hash(con) -> str:
    """The content hash as one query per table computes it (what registers hold)."""
    digest = hashlib.sha256()
    for table in SCHEMAS:
        rows = con.execute(
            "select tenant_id, sha256(string_agg(cast(t as varchar), chr(10) "
            f"order by cast(t as varchar))) from {table} t group by tenant_id order by tenant_id"
        ).fetchall()
        digest.update(table.encode() + repr(rows).encode())
    return digest.hexdigest()


def test_bodies_and_hash_do_not_depend_on_the_batch_size(tmp_path):
    config = build_month(tmp_path)
    add_simple_tenants(config, 7)
    settings = load_settings(config)
    catalog = load_bill_to(config.tenant_catalog, settings.default_locale)
    con = open_month(config, MONTH)
    try:
        whole = list(iter_bodies(con, MONTH, settings, catalog))
        tenants = [tenant for tenant, _ in whole]
        assert tenants == sorted(tenants) and len(tenants) == 10
        for size in (1, 3, 10):
            small = dataclasses.replace(settings, batch_tenants=size)
            assert list(iter_bodies(con, MONTH, small, catalog)) == whole
        expected = _one_query_hash(con)
        for rows in (1, 5, 10**6):  # a tenant a query, a few, all in one
            assert content_hash(con, rows) == expected
    finally:
        con.close()


def test_a_close_failing_in_a_later_batch_leaves_the_register_as_it_was(tmp_path, monkeypatch):
    """Bodies are built inside the issuing transaction, a batch at a time: a failure while
    building the third batch rolls back the drafts of the first two."""
    import metering.close.documents as documents

    config = build_month(tmp_path, invoicing="batch_tenants = 1")
    real = documents._body
    built: list[str] = []

    def fail_on_third(row, *args):
        built.append(row["tenant_id"])
        if len(built) == 3:
            raise OSError("disk vanished")
        return real(row, *args)

    monkeypatch.setattr(documents, "_body", fail_on_third)
    with pytest.raises(OSError):
        close(config)
    register = Register(load_settings(config).register_path, config.name)
    assert register.documents() == []
    monkeypatch.setattr(documents, "_body", real)
    assert close(config).invoices == ("INV-2026-000001", "INV-2026-000002")


def test_batch_tenants_below_one_is_a_config_error_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"\[invoicing\] batch_tenants: must be 1 or more, got 0"):
        make_config(tmp_path, invoicing="batch_tenants = 0")


def test_bodies_are_built_one_batch_at_a_time(tmp_path, monkeypatch):
    """Taking the first body of a month builds the first batch only (a close holds one batch
    of bodies, not the month's)."""
    import metering.close.documents as documents

    config = build_month(tmp_path, invoicing="batch_tenants = 2")
    add_simple_tenants(config, 7)
    settings = load_settings(config)
    catalog = load_bill_to(config.tenant_catalog, settings.default_locale)
    built: list[str] = []
    real = documents._body

    def counting(row, *args):
        built.append(row["tenant_id"])
        return real(row, *args)

    monkeypatch.setattr(documents, "_body", counting)
    con = open_month(config, MONTH)
    try:
        bodies = iter_bodies(con, MONTH, settings, catalog)
        first = next(bodies)
        assert built[0] == first[0] and len(built) <= 2  # at most the first batch: 2 tenants
        assert len(list(bodies)) == 9 and len(built) == 10
    finally:
        con.close()
