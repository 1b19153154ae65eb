"""A close killed with SIGKILL mid-way and run again ends with the same invoices, numbered
without gap or duplicate; bulk rendering in worker processes renders every document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from metering.close.register import Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from tests.close.builders import FROZEN_NOW, MONTH, add_simple_tenants, build_month

EXTRA = 25
REPO = Path(__file__).resolve().parents[2]


def _tenant_numbers(config) -> dict[str, str]:
    register = Register(load_settings(config).register_path, config.name)
    # numbered documents only: the case's unmapped org stays a draft
    return {d.tenant_id: str(d.number) for d in register.documents("2026-10") if d.number}


def _kill_mid_render(config, folder: Path) -> int:
    """Start `metering close` and SIGKILL it (its whole process group) after 3 PDFs."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "metering",
        "close",
        "--month",
        "2026-10",
        "--no-rate",
        "--config",
        str(config.source_file),
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(folder.glob("*.pdf"))) >= 3:
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return len(list(folder.glob("*.pdf")))


def test_close_killed_mid_way_resumes_to_the_same_invoices_without_gap(tmp_path):
    config = build_month(tmp_path / "killed")
    add_simple_tenants(config, EXTRA)
    total = 2 + EXTRA  # the case's unmapped org is held as a draft
    folder = load_settings(config).out_dir / "invoices" / "2026-10"
    rendered_before_kill = _kill_mid_render(config, folder)
    assert 0 < rendered_before_kill < total, "the kill must land mid-way through rendering"

    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    assert result.invoices == ()  # everything was numbered before the kill; nothing re-issued
    assert len(result.rendered) == total - rendered_before_kill
    numbers = _tenant_numbers(config)
    assert len(numbers) == total
    assert sorted(numbers.values()) == [f"INV-2026-{i:06d}" for i in range(1, total + 1)]
    assert sorted(p.name for p in folder.glob("*.pdf")) == sorted(
        f"{n}.pdf" for n in numbers.values()
    )
    assert not list(folder.glob(".*.tmp"))  # a write cut by the kill leaves no temp file behind

    # the same as one uninterrupted close: every tenant of the month, numbered in tenant order
    tenants = {row["tenant_id"] for row in add_simple_tenants(config, EXTRA)["invoice_totals"]}
    tenants.discard("unmapped:orphan-org")
    assert set(numbers) == tenants
    assert numbers == {t: f"INV-2026-{i:06d}" for i, t in enumerate(sorted(tenants), start=1)}


def test_worker_processes_render_every_document(tmp_path):
    config = build_month(tmp_path, workers=2)
    add_simple_tenants(config, 6)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    assert len(result.invoices) == 8
    assert sorted(result.rendered) == sorted(result.invoices)
    for number in result.invoices:
        pdf = result.out_dir / "invoices" / "2026-10" / f"{number}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
    # the provider report's PDF renders in the same pool, next to the invoices
    assert result.outputs["provider_pdf"].read_bytes().startswith(b"%PDF")
