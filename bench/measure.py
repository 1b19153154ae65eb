"""Timing with medians of repeated runs, each in a fresh process for its own peak memory.

A measured function runs in a spawned child (so ``ru_maxrss`` is the peak of that one run,
not of the harness), returns a dict of facts (rows, files, ...), and the child adds its wall
time (``perf_counter``), CPU time (user + system, ``getrusage``) and peak RSS.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

Facts = dict[str, Any]


@dataclass
class Run:
    """One run of a measured function."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    facts: Facts


@dataclass
class Measurement:
    """The runs of one stage at one size, summarised by their median."""

    stage: str
    runs: list[Run] = field(default_factory=list)
    extra: Facts = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    @property
    def peak_rss_mib(self) -> float:
        return max(r.peak_rss_mib for r in self.runs)

    @property
    def facts(self) -> Facts:
        return {**self.runs[-1].facts, **self.extra}

    def as_dict(self) -> Facts:
        return {
            "stage": self.stage,
            "median_seconds": round(self.seconds, 4),
            "all_seconds": [round(r.seconds, 4) for r in self.runs],
            "median_cpu_seconds": round(self.cpu_seconds, 4),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            **self.facts,
        }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Imported in the child before the clock starts: a stage's figure is its work, not the
# interpreter importing duckdb, pandas or WeasyPrint (about 1-2 s here, the same at any size).
PRELOAD = (
    "duckdb",
    "pandas",
    "polars",
    "pyarrow.parquet",
    "metering.sources.collect",
    "metering.rating.consolidate",
    "metering.rating.run",
    "metering.close.run",
    "metering.reports.render",
)


def _timed(fn: Callable[..., Facts], args: tuple[Any, ...]) -> Run:
    """Runs in the child: call ``fn`` and time it."""
    for module in PRELOAD:
        importlib.import_module(module)
    cpu, start = _cpu(), time.perf_counter()
    facts = fn(*args)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return Run(seconds, cpu, peak_kib / 1024, facts)


def run_isolated(fn: Callable[..., Facts], *args: Any) -> Run:
    """Run ``fn(*args)`` once in a fresh spawned process and return its :class:`Run`."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_timed, fn, args).result()


def measure(stage: str, fn: Callable[..., Facts], *args: Any, repeats: int) -> Measurement:
    """``repeats`` isolated runs of ``fn(*args)``."""
    result = Measurement(stage)
    for _ in range(repeats):
        result.runs.append(run_isolated(fn, *args))
    return result


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
