"""The command line as a user meets it: every command's help has examples, a wrong option
or argument is a usage error (exit 2, the usage line), a missing extra names its pip
command. Through the real entry point (``metering.cli.main``)."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from metering.cli import _register, app, main
from metering.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[2]


def _command_paths() -> list[list[str]]:
    from typer.main import get_command

    _register()
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


def test_every_command_and_group_has_help_with_examples(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    paths = _command_paths()
    assert len(paths) > 25 and ["run", "close"] in paths and ["rate"] in paths
    for path in paths:
        assert main([*path, "--help"]) == 0, path
        text = capsys.readouterr().out
        assert "Example" in text, f"metering {' '.join(path)} --help has no example"
        # an example is a command line of this very command
        examples = text[text.index("Example") :]
        assert re.search(rf"\bmetering {re.escape(' '.join(path))}\b", examples), path


@pytest.mark.parametrize(
    ("args", "usage", "problem"),
    [
        (["rate", "--month", "2026-13"], "rate", "--month: must be YYYY-MM, got '2026-13'"),
        (["rate", "--month"], "rate", "Option '--month' requires an argument."),
        (["close"], "close", "Missing option '--month'."),
        (["rate", "--month", "2026-10", "--engine", "polars"], "rate", "--engine: must be one"),
        (["run", "nightly", "--date", "x"], "run nightly", "--date must be YYYY-MM-DD"),
        (["api-key", "create"], "api-key create", "api-key create: give exactly one of"),
        (["collect", "--at", "tomorrow"], "collect", "--at: not an ISO-8601 timestamp"),
        (["simulate", "--fault", "kind"], "simulate", "--fault 'kind': expected key=value"),
        (["sql", "select 1", "--file", "q.sql"], "sql", "give a query or --file, not both"),
    ],
)
def test_a_wrong_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], args: list[str], usage: str, problem: str
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"Usage: metering {usage} [OPTIONS]"), err
    assert lines[1] == f"Try 'metering {usage} --help' for help."
    assert lines[-1].startswith(f"Error: {problem}"), err


def test_spark_without_its_extra_names_the_pip_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sqlglot", None)  # as if the extra were not installed
    assert main(["rate", "--month", "2026-10", "--engine", "spark"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: rate --engine spark needs the spark extra (sqlglot not installed): "
        "pip install 'metering[spark]'"
    )


def test_the_extras_modules_match_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for extra, modules in EXTRAS.items():
        names = {re.split(r"[\[<>=!~ ;]", req)[0].lower() for req in declared[extra]}
        assert set(modules) == names, extra
