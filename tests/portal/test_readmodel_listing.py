"""The read model lists the register once per change: a close that commits after the portal
listed it (another connection, as another process would) shows at once, and a register
replaced under it is read anew."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from decimal import Decimal

from metering.portal import create_app
from metering.readmodel import BillingReadModel
from metering.window import Window
from tests.close.builders import build_month
from tests.close.test_close import _correct_acme_vcpu_price, close
from tests.portal.conftest import Env


def _listed(model: BillingReadModel) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(d.number, d.kind, d.state, d.credits_number, d.replaced_by) for d in model.documents()]


def test_a_close_after_the_first_listing_shows_on_the_next_call(tmp_path) -> None:
    config = build_month(tmp_path)
    close(config)
    model = BillingReadModel(config)
    assert [(n, s) for n, _, s, _, _ in _listed(model)] == [
        ("INV-2026-000002", "issued"),
        ("INV-2026-000001", "issued"),
    ]
    assert model.month_to_date("acme", "2026-10").closed
    october = model.months()[0]
    assert (october.invoices, october.credit_notes) == (2, 0)
    before = october.totals["EUR"]

    _correct_acme_vcpu_price(config)
    close(config)  # credits acme's invoice and issues a corrected one, in the same process

    listed = _listed(model)
    assert ("CN-2026-000001", "credit_note", "issued", "INV-2026-000001", None) in listed
    assert ("INV-2026-000001", "invoice", "credited", None, "CN-2026-000001") in listed
    assert ("INV-2026-000003", "invoice", "issued", None, None) in listed
    assert listed == _listed(BillingReadModel(config))  # what a fresh reader lists
    assert [d.number for d in model.documents("acme", kind="credit_note")] == ["CN-2026-000001"]
    assert model.documents("evil", kind="credit_note") == []
    october = model.months()[0]
    assert (october.invoices, october.credit_notes) == (3, 1)
    assert october.totals["EUR"] == before - Decimal("94.66") + Decimal("90.74")
    found = model.document("INV-2026-000003")
    assert found is not None and found[1]["totals"]["total_amount"] == "90.74"
    assert model.document_files(found[0])[0].is_file()


def test_a_replaced_register_is_read_anew(tmp_path) -> None:
    config = build_month(tmp_path)
    close(config)
    model = BillingReadModel(config)
    assert len(model.documents()) == 2
    register = model.settings.register_path
    kept = tmp_path / "kept.sqlite"
    source, copy = sqlite3.connect(register), sqlite3.connect(kept)
    source.backup(copy)
    source.close()
    copy.close()
    _correct_acme_vcpu_price(config)
    close(config)
    assert len(model.documents()) == 4
    for suffix in ("-wal", "-shm"):
        register.with_name(register.name + suffix).unlink(missing_ok=True)
    kept.replace(register)  # e.g. restored from a backup
    assert [d.number for d in model.documents()] == ["INV-2026-000002", "INV-2026-000001"]
    register.unlink()
    assert model.documents() == [] and model.document("INV-2026-000001") is None


def test_the_served_portal_builds_the_current_month_before_the_first_page(env: Env) -> None:
    app = create_app(env.config)
    model = app.app.state.portal.model
    month = Window.parse_month(str(model.current_month()))
    assert not model.cache.built(month)

    async def serve() -> None:
        starlette = app.app
        async with starlette.router.lifespan_context(starlette):  # as `metering serve` runs it
            deadline = time.monotonic() + 60
            while not model.cache.built(month) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    asyncio.run(serve())
    assert model.cache.built(month)
