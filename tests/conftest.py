"""Shared for every test: the provider report's label key for configs that name none.

The report hashes customer labels with a provider secret (docs/reports.md); configs written
by hand in tests name no key, so the default environment variable carries a test key (set
at import, so module-scoped fixtures that close a month see it too; a test that removes it
does so with monkeypatch, which puts it back)."""

from __future__ import annotations

import os

TEST_LABEL_KEY = "test-label-key-0123456789abcdef"

os.environ.setdefault("METERING_LABEL_KEY", TEST_LABEL_KEY)
