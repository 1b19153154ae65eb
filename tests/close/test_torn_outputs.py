"""Torn rating outputs are never invoiced: lines from one rating and totals from another
(a kill between the four file moves), a rating killed before its manifest, or totals that
are not the sum of their lines. The close stops with one line and issues nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from metering.cli import main
from metering.close.register import Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.config import load_config
from metering.errors import CloseError
from metering.rating import publish
from metering.rating.manifest import manifest_path
from metering.rating.run import output_path, rate_month
from tests.close.builders import MONTH, build_month, load_case, rating_rows, write_rating
from tests.close.test_with_rating import CARD, GAPS, NOW, OCT, _provider
from tests.rating.conftest import write_card


def _issued(config) -> list[str]:
    register = Register(load_settings(config).register_path, config.name)
    try:
        return [d.number for d in register.documents("2026-10") if d.number]
    finally:
        register.close()


def test_totals_of_one_rating_with_lines_of_another_are_refused(tmp_path: Path) -> None:
    config = load_config(_provider(tmp_path))
    rate_month(config, OCT)
    totals = output_path(config.lake_dir, "invoice_totals", OCT)
    old_totals = totals.read_bytes()
    write_card(tmp_path / "pricing", CARD.format(vcpu="0.0100"))
    rate_month(config, OCT)
    totals.write_bytes(old_totals)  # what a kill between the moves leaves
    with pytest.raises(CloseError, match=r"rating outputs of 2026-10 are torn: .*invoice_totals"):
        close_month(config, OCT, rate=False, now=NOW, show_progress=False)
    assert _issued(config) == []
    assert not (config.out_dir / "invoices").exists()


def test_a_rating_killed_between_its_moves_leaves_a_month_the_close_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(_provider(tmp_path))
    rate_month(config, OCT)
    write_card(tmp_path / "pricing", CARD.format(vcpu="0.0100"))
    moved: list[str] = []
    real_commit = publish.Staged.commit

    def dies_after_two(self: publish.Staged) -> None:
        if len(moved) == 2:
            raise KeyboardInterrupt  # the process is killed here
        real_commit(self)
        moved.append(str(self.path))

    monkeypatch.setattr(publish.Staged, "commit", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        rate_month(config, OCT)
    monkeypatch.undo()
    assert len(moved) == 2 and not manifest_path(config.lake, OCT).exists()
    with pytest.raises(CloseError, match=r"have no manifest .*metering rate --month 2026-10"):
        close_month(config, OCT, rate=False, now=NOW, show_progress=False)
    # the command line: one line, exit 1, nothing issued
    assert main(["close", "--month", "2026-10", "--no-rate", "-c", str(config.source_file)]) == 1
    assert _issued(config) == []
    # the repair it names: rate again, then the close issues (this lake holds two days of
    # the month: issued with the gap accepted)
    rate_month(config, OCT)
    result = close_month(config, OCT, rate=False, now=NOW, show_progress=False, accept_gaps=GAPS)
    assert result.invoices == ("INV-2026-000001",)


def test_lines_that_do_not_add_up_to_the_total_are_refused(tmp_path: Path) -> None:
    config = build_month(tmp_path)
    tables = rating_rows(load_case())
    line = tables["invoice_lines"][0]
    line["list_amount"] += Decimal("0.01")  # published as one unit, but inconsistent
    write_rating(config, tables)
    with pytest.raises(CloseError, match=r"do not add up: 1 tenant\(s\) .*nothing was issued"):
        close_month(config, MONTH, rate=False, now=NOW, show_progress=False)
    assert _issued(config) == []


def test_a_damaged_manifest_is_one_line(tmp_path: Path) -> None:
    config = build_month(tmp_path)
    manifest_path(config.lake, MONTH).write_text("{not json", encoding="utf-8")
    with pytest.raises(CloseError, match=r"manifest .* is damaged; run `metering rate"):
        close_month(config, MONTH, rate=False, now=NOW, show_progress=False)
