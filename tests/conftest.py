"""Shared for every test: the provider report's label key for configs that name none.

The report hashes customer labels with a provider secret (docs/reports.md); configs written
by hand in tests name no key, so the default environment variable carries a test key."""

from __future__ import annotations

import pytest

TEST_LABEL_KEY = "test-label-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _label_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERING_LABEL_KEY", TEST_LABEL_KEY)
