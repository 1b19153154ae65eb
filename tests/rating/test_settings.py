"""``[rating] memory_limit``: rating's own DuckDB cap, checked when the config loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from metering.config import load_config
from metering.errors import ConfigError
from metering.rating.settings import rating_settings
from tests.rating.lake_builders import write_config_file


def test_memory_limit_defaults_to_3gb_and_takes_mb_or_gb(tmp_path: Path) -> None:
    assert rating_settings(load_config(write_config_file(tmp_path))).memory_limit == "3GB"
    config = load_config(write_config_file(tmp_path, 'memory_limit = "1500MB"'))
    assert rating_settings(config).memory_limit == "1500MB"


@pytest.mark.parametrize("value", ["3", "3 GB", "0GB", "3TB", "lots; drop table x"])
def test_a_memory_limit_that_is_no_size_names_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"\[rating\] memory_limit: must be a size"):
        load_config(write_config_file(tmp_path, f'memory_limit = "{value}"'))
