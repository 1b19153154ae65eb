"""The pipeline definitions in pipelines/ and the [scheduler] settings: loaded, validated,
errors naming the file and key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from metering.errors import ConfigError
from metering.pipelines.definitions import load_pipelines
from metering.pipelines.runner import PipelineRunner
from metering.pipelines.settings import load_settings
from metering.pipelines.steps import STEPS

from .conftest import Ledger, make_config


def test_shipped_definitions_use_only_registered_steps() -> None:
    pipelines = load_pipelines()
    assert set(pipelines) == {"collect", "nightly", "close"}
    assert [s.name for s in pipelines["nightly"].steps] == [
        "backfill",
        "consolidate",
        "rate_month_to_date",
        "refresh_warehouse",
    ]
    assert pipelines["close"].requires == "nightly"
    assert pipelines["nightly"].schedule.at == time(2, 0)
    assert (pipelines["close"].schedule.day, pipelines["close"].schedule.at) == (1, time(3, 0))
    for pipeline in pipelines.values():
        assert all(step.name in STEPS for step in pipeline.steps)


def test_settings_override_the_schedules(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, nightly_at="04:30", close_day=3, close_at="07:15", timezone="America/New_York"
    )
    settings = load_settings(config)
    pipelines = settings.pipelines()
    assert pipelines["nightly"].schedule.at == time(4, 30)
    assert (pipelines["close"].schedule.day, pipelines["close"].schedule.at) == (3, time(7, 15))
    assert str(settings.timezone) == "America/New_York"
    assert settings.history_path.parent == tmp_path / "data" / "pipelines"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("nightly_at", "25:00", "[scheduler] nightly_at: must be a time of day HH:MM"),
        ("close_day", 31, "provider.toml: [scheduler] close_day: must be 1..28 (a day every"),
        ("timezone", "Mars/Olympus", "provider.toml: [scheduler] timezone: unknown time zone"),
        ("start_date", "yesterday", "provider.toml: [scheduler] start_date: must be YYYY-MM-DD"),
        ("max_attempts", 0, "provider.toml: [scheduler] max_attempts: must be 1 or more, got 0"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(make_config(tmp_path, **{key: value}))
    assert message in str(info.value)


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_bad_definitions_name_the_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "defs"
    _write(folder, "nightly.toml", '[pipeline]\nname = "nightly"\nperiod = "week"\n')
    with pytest.raises(ConfigError, match=r"nightly.toml: \[pipeline\] period: must be one of"):
        load_pipelines(folder)
    _write(
        folder,
        "nightly.toml",
        '[pipeline]\nname = "nightly"\nperiod = "day"\n[schedule]\nkind = "monthly"\n'
        '[[steps]]\nname = "consolidate"\n',
    )
    with pytest.raises(ConfigError, match=r"nightly.toml: \[schedule\] kind: .*needs \'daily\'"):
        load_pipelines(folder)
    _write(
        folder,
        "nightly.toml",
        '[pipeline]\nname = "nightly"\nperiod = "day"\nrequires = "ingest"\n'
        '[schedule]\nkind = "daily"\nat = "2am"\n[[steps]]\nname = "consolidate"\n',
    )
    with pytest.raises(ConfigError, match=r"nightly.toml: \[schedule\] at: must be a time of day"):
        load_pipelines(folder)


def test_own_definitions_with_an_unknown_step_are_refused(tmp_path: Path, ledger: Ledger) -> None:
    folder = tmp_path / "defs"
    _write(
        folder,
        "nightly.toml",
        '[pipeline]\nname = "nightly"\nperiod = "day"\n[schedule]\nkind = "daily"\n'
        '[[steps]]\nname = "consolidate"\n[[steps]]\nname = "send_fax"\n',
    )
    config = make_config(tmp_path, pipelines_dir="defs")
    assert load_settings(config).pipelines()["nightly"].steps[1].name == "send_fax"
    with pytest.raises(ConfigError, match=r"nightly.toml: step 'send_fax' is not a known step"):
        PipelineRunner(config, registry=ledger.registry())
