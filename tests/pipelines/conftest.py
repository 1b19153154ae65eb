"""Builders for the pipeline tests: a provider config, a fake clock and a ledger of test steps.

The ledger steps stand in for the stages where a test is about the machinery (schedules,
catch-up, lock, history): they record every call in order and write their "output" keyed by
period (insert or replace), as the real stages do, so duplicates would show as extra rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.config import ProviderConfig, load_config
from metering.errors import MeteringError
from metering.pipelines.steps import StepContext

STEP_NAMES = (
    "collect",
    "backfill",
    "consolidate",
    "rate_month_to_date",
    "rate_month",
    "close_month",
    "refresh_warehouse",
)


def write_config(tmp_path: Path, interval_minutes: int = 60, **scheduler: object) -> Path:
    """A provider TOML with one site and the given ``[scheduler]`` keys."""
    lines = [
        "[provider]",
        'name = "test provider"',
        'data_dir = "data"',
        'tenant_catalog = "tenants.toml"',
        'pricing_dir = "pricing"',
        'timezone = "Europe/Amsterdam"',
        f"sampling_interval_minutes = {interval_minutes}",
        "",
        "[scheduler]",
    ]
    for key, value in scheduler.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    lines += [
        "",
        "[[sites]]",
        'name = "az1"',
        'vcd_url = "http://127.0.0.1:9/az1/vcd"',
        'vcd_user = "admin@system"',
        'vcd_password_env = "METERING_TEST_VCD_PASSWORD"',
    ]
    path = tmp_path / "provider.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _vcd_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERING_TEST_VCD_PASSWORD", "not-a-real-secret")


def make_config(tmp_path: Path, interval_minutes: int = 60, **scheduler: object) -> ProviderConfig:
    scheduler.setdefault("start_date", "2026-10-01")
    return load_config(write_config(tmp_path, interval_minutes, **scheduler))


@dataclass
class FakeClock:
    """A clock a test moves by hand."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@dataclass
class Ledger:
    """Test steps that record calls and write idempotent outputs to a SQLite file."""

    path: Path
    failures: dict[tuple[str, str], Callable[[], Exception]] = field(default_factory=dict)
    hooks: dict[tuple[str, str], Callable[[StepContext], None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with self._db() as db:
            db.execute(
                "create table if not exists calls (seq integer primary key, pipeline, step, period)"
            )
            db.execute(
                "create table if not exists outputs (step, period, primary key (step, period))"
            )

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("pragma synchronous=off")  # a test's scratch file: no fsync needed
        return db

    def step(self, name: str) -> Callable[[StepContext], int]:
        def run(ctx: StepContext) -> int:
            with self._db() as db:
                db.execute(
                    "insert into calls (pipeline, step, period) values (?, ?, ?)",
                    (ctx.pipeline, name, ctx.period),
                )
            hook = self.hooks.get((name, ctx.period))
            if hook is not None:
                hook(ctx)
            failure = self.failures.get((name, ctx.period))
            if failure is not None:
                raise failure()
            with self._db() as db:
                db.execute("insert or replace into outputs values (?, ?)", (name, ctx.period))
            return 1

        return run

    def registry(self) -> dict[str, Callable[[StepContext], int]]:
        return {name: self.step(name) for name in STEP_NAMES}

    def calls(self, step: str | None = None) -> list[tuple[str, str, str]]:
        with self._db() as db:
            rows = db.execute("select pipeline, step, period from calls order by seq").fetchall()
        return [tuple(r) for r in rows if step is None or r[1] == step]  # type: ignore[misc]

    def outputs(self) -> list[tuple[str, str]]:
        with self._db() as db:
            return [tuple(r) for r in db.execute("select step, period from outputs order by 1, 2")]  # type: ignore[misc]


def fail_with(error: type[MeteringError], message: str) -> Callable[[], Exception]:
    return lambda: error(message)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")
