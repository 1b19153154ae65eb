"""Document numbers are anchored in the issued documents, not only in the register: a lost or
replaced register never issues a number again, a provider rename is an operation, and an
issued PDF is rendered again to the same bytes and repaired when damaged."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from metering.cli import main
from metering.close.register import Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.config import load_config
from metering.errors import CloseError
from tests.close.builders import FROZEN_NOW, MONTH, build_month


def _close(config):
    return close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)


def _pdfs(config) -> dict[str, bytes]:
    base = config.out_dir / "invoices" / "2026-10"
    return {p.name: p.read_bytes() for p in sorted(base.glob("*.pdf"))}


def test_a_new_register_does_not_issue_the_numbers_on_disk_again(tmp_path: Path) -> None:
    config = build_month(tmp_path)
    first = _close(config)
    assert first.invoices
    before = _pdfs(config)
    register = load_settings(config).register_path
    shutil.move(register, tmp_path / "lost.sqlite")  # the register is lost (or a new file)
    with pytest.raises(
        CloseError, match=r"does not match the issued documents .* it does not know"
    ):
        _close(config)
    assert _pdfs(config) == before  # nothing re-issued, nothing overwritten
    code = main(["close", "--month", "2026-10", "--no-rate", "-c", str(config.source_file)])
    assert code == 1
    shutil.move(tmp_path / "lost.sqlite", register)  # the right register back: all is well
    assert _close(config).changed is False


def test_renaming_the_provider_is_an_operation_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = build_month(tmp_path)
    first = _close(config)
    toml = config.source_file
    toml.write_text(toml.read_text().replace('name = "example-cloud"', 'name = "new-cloud"'))
    renamed = load_config(toml)
    with pytest.raises(CloseError, match=r"rename-provider --from example-cloud --to new-cloud"):
        _close(renamed)
    args = ["register", "rename-provider", "--from", "example-cloud", "--to", "new-cloud"]
    assert main([*args, "-c", str(toml)]) == 0
    assert main(["register", "rename-provider", "--from", "x", "--to", "y", "-c", str(toml)]) == 1
    assert "is not the provider name" in capsys.readouterr().err
    again = _close(renamed)
    assert again.changed is False and again.invoices == ()
    register = Register(load_settings(renamed).register_path, "new-cloud")
    try:
        # numbered documents (the case's unmapped org is held as a draft without one)
        numbers = {d.number for d in register.documents("2026-10") if d.number}
    finally:
        register.close()
    assert numbers == set(first.invoices)


def test_an_issued_pdf_renders_again_to_the_same_bytes(tmp_path: Path) -> None:
    config = build_month(tmp_path)
    _close(config)
    before = _pdfs(config)
    time.sleep(1.1)  # a render time in the PDF would now differ
    for name in before:
        (config.out_dir / "invoices" / "2026-10" / name).unlink()
    assert set(_close(config).rendered) == {name.removesuffix(".pdf") for name in before}
    assert _pdfs(config) == before


@pytest.mark.parametrize("damage", ["truncate", "swap"])
def test_a_damaged_issued_pdf_is_reported_and_rendered_again(tmp_path: Path, damage: str) -> None:
    config = build_month(tmp_path)
    _close(config)
    before = _pdfs(config)
    first, second = sorted(before)[:2]
    target = config.out_dir / "invoices" / "2026-10" / first
    if damage == "truncate":
        target.write_bytes(before[first][: len(before[first]) // 2])
    else:  # a whole, valid PDF, but another document's
        target.write_bytes(before[second])
    result = _close(config)
    assert result.repaired == (first.removesuffix(".pdf"),)
    assert _pdfs(config) == before
    assert _close(config).repaired == ()
