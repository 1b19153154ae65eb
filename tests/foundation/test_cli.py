"""The `metering` command: version, help, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

from metering import __version__
from metering.cli import main


def test_version_prints_package_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"metering {__version__}"


def test_help_lists_commands(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage metering and tenant chargeback" in out


def test_unknown_command_is_a_usage_error_not_a_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "metering", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "no-such-command" in proc.stderr
