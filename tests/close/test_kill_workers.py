"""``kill -9`` of the close's main process takes its render workers with it: none goes on
rendering (and writing PDFs) behind the dead close."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

SCRIPT = """
import sys
from pathlib import Path
from metering.close.run import close_month
from tests.close.builders import FROZEN_NOW, MONTH, add_simple_tenants, build_month

config = build_month(Path(sys.argv[1]), workers=2)
add_simple_tenants(config, 60)
close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
"""


def _workers(parent: int) -> list[int]:
    """Pids of ``parent``'s multiprocessing children (spawned render workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _pdfs(tmp_path: Path) -> int:
    return len(list((tmp_path / "data" / "out" / "invoices").glob("*/*.pdf")))


def test_kill_9_of_the_close_leaves_no_worker_rendering(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    close = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, cwd=root)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and close.poll() is None:
            workers = _workers(close.pid) or workers
            if len(workers) >= 2 and _pdfs(tmp_path) >= 2:
                break
            time.sleep(0.1)
        assert close.poll() is None, "the close ended before the workers rendered"
        assert len(workers) >= 2 and _pdfs(tmp_path) >= 2
        close.send_signal(signal.SIGKILL)
        close.wait(timeout=30)
        time.sleep(3)
        assert [pid for pid in workers if _alive(pid)] == []
        rendered = _pdfs(tmp_path)
        time.sleep(5)
        assert _pdfs(tmp_path) == rendered < 60  # nothing rendered after the kill
    finally:
        if close.poll() is None:
            close.kill()
        for pid in [*workers, *_workers(close.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
