"""Pipelines: the definitions in ``pipelines/`` run by hand, on a schedule, or replayed.

Public surface::

    run_nightly(config, day)        one UTC day: backfill, consolidate, rate month-to-date
    run_close(config, month)        a month's close, once all its nights succeeded
    run_collect(config, at)         one sampling instant
    replay(config, window, set_time=...)   a whole window lived through (the demo)
    PipelineScheduler(config)       the same under APScheduler, with catch-up
"""

from metering.pipelines.api import replay, run_close, run_collect, run_nightly, simulator_clock
from metering.pipelines.runner import Clock, PipelineRunner, RunOutcome, SystemClock
from metering.pipelines.scheduler import PipelineScheduler

__all__ = [
    "Clock",
    "PipelineRunner",
    "PipelineScheduler",
    "RunOutcome",
    "SystemClock",
    "replay",
    "run_close",
    "run_collect",
    "run_nightly",
    "simulator_clock",
]
