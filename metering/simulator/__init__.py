"""The simulated provider: every source API of every site over real HTTP.

One Starlette app serves all sites under path prefixes (``/<site>/vcd``, ``/<site>/ose``,
``/<site>/cloudian``) plus control endpoints under ``/_sim/`` (clock, ground truth, faults).
See docs/simulator.md.
"""

from __future__ import annotations

from metering.simulator.app import create_app
from metering.simulator.faults import FaultPlan, FaultRule
from metering.simulator.server import (
    ProcessServer,
    RunningServer,
    serve_in_process,
    serve_in_thread,
)
from metering.simulator.simulation import Simulation

__all__ = [
    "FaultPlan",
    "FaultRule",
    "ProcessServer",
    "RunningServer",
    "Simulation",
    "create_app",
    "serve_in_process",
    "serve_in_thread",
]
