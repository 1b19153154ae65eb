"""Logging for the scheduler and pipeline runs: readable lines, or JSON lines for a collector.

``configure_logging("json")`` writes one JSON object per line with the time, level, message
and the run's context (pipeline, period, run_id, step, status, rows, error_kind) so a log
shipper can index failures by pipeline and period.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

CONTEXT_FIELDS = ("pipeline", "period", "run_id", "step", "trigger", "status", "rows", "error_kind")


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["detail"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``2026-11-01T02:00:03Z INFO  nightly 2026-10-31 succeeded: ...``"""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{stamp} {record.levelname:<7} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    fmt: str = "text", *, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Send ``metering`` logs to ``stream`` (stderr) as text or JSON lines."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be text or json, got {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if fmt == "json" else TextFormatter())
    for name in ("metering", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(level if name == "metering" else max(level, logging.WARNING))
