"""Shared for every test: the provider report's label key for configs that name none, and
the log handlers each test leaves as it found them.

The report hashes customer labels with a provider secret (docs/reports.md); configs written
by hand in tests name no key, so the default environment variable carries a test key (set
at import, so module-scoped fixtures that close a month see it too; a test that removes it
does so with monkeypatch, which puts it back).

The scheduler's commands send the ``metering`` and ``apscheduler`` logs to the stderr of the
moment (metering.pipelines.logs.configure_logging); under pytest that is the test's capture,
closed when the test ends. Left in place, the handler makes a later test in the same worker
that logs print "--- Logging error ---" tracebacks into its own output (which tests read), so
whether it failed depended on which tests xdist gave the worker before it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

TEST_LABEL_KEY = "test-label-key-0123456789abcdef"

os.environ.setdefault("METERING_LABEL_KEY", TEST_LABEL_KEY)

LOGGERS = ("metering", "apscheduler")


@pytest.fixture(autouse=True)
def _restore_log_handlers() -> Iterator[None]:
    """Each configured logger's handlers, propagation and level as before the test."""
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate, logger.level))
    yield
    for logger, handlers, propagate, level in saved:
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)
