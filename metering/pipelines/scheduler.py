"""``metering scheduler``: the pipelines on their schedules, under APScheduler 3.x.

APScheduler only decides *when* to tick; what a tick does is stateless (see
:mod:`metering.pipelines.catchup`). The jobs live in a SQLAlchemy SQLite job store under the
data directory with ``coalesce`` (a backlog of missed ticks fires once),
``misfire_grace_time`` and ``max_instances=1``, on a single worker thread so ticks never run
side by side. A ``scheduler`` file lock refuses a second scheduler; every run also takes the
``run`` lock shared with manual runs. SIGTERM/SIGINT stop the scheduler cleanly: the step
that is running finishes, the rest of its run is left ``interrupted`` and runs again at the
next start.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from metering.config import ProviderConfig
from metering.errors import LockError
from metering.pipelines.catchup import catch_up, collect_due
from metering.pipelines.lock import PipelineLock
from metering.pipelines.runner import Clock, PipelineRunner, RunOutcome
from metering.pipelines.steps import STEPS, Registry

log = logging.getLogger("metering.pipelines")

# The scheduler of this process, for the job functions APScheduler calls by reference
# (jobs in a persistent store name a module-level function, not a bound method).
_active: PipelineScheduler | None = None


def fire(job: str) -> None:
    """The job function every APScheduler job names: one tick of ``job``."""
    scheduler = _active
    if scheduler is None:
        log.warning("job %s fired with no scheduler running in this process; ignored", job)
        return
    scheduler.tick(job)


class PipelineScheduler:
    """One provider's pipelines on their schedules; see the module docstring."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        registry: Registry = STEPS,
        clock: Clock | None = None,
    ) -> None:
        self.stop_event = threading.Event()
        self.runner = PipelineRunner(
            config, registry=registry, clock=clock, holder="the scheduler", stop=self.stop_event
        )
        self.settings = self.runner.settings
        self.lock = PipelineLock(
            self.settings.lock_dir, "scheduler", self.runner.history, "a scheduler"
        )
        self._aps: BackgroundScheduler | None = None

    # --- ticks (what a job does; callable directly with a fake clock) ------------------------

    def tick(self, job: str, now: datetime | None = None) -> list[RunOutcome]:
        """Run what ``job`` is for at ``now`` (default: the clock), then anything overdue."""
        now = now or self.runner.clock.now()
        outcomes: list[RunOutcome] = []
        try:
            if job == "collect":
                collected = collect_due(self.runner, now)
                outcomes.extend([collected] if collected else [])
            outcomes.extend(catch_up(self.runner, now, "schedule" if job != "catch-up" else job))
        except LockError as exc:  # a manual run is busy: the next tick catches up
            log.info("%s tick skipped: %s", job, exc, extra={"pipeline": job})
        except Exception:  # a tick must never kill the scheduler thread; the log says why
            log.exception("%s tick at %s failed", job, now.isoformat(), extra={"pipeline": job})
        return outcomes

    # --- APScheduler ---------------------------------------------------------------------------

    def jobs(self) -> dict[str, Any]:
        """The triggers of the jobs, from the pipeline definitions and settings."""
        tz = self.settings.timezone
        triggers: dict[str, Any] = {}
        for pipeline in self.runner.pipelines.values():
            sched = pipeline.schedule
            if sched.kind == "interval":
                triggers[pipeline.name] = IntervalTrigger(
                    seconds=int(self.settings.interval.total_seconds()),
                    start_date=datetime(2000, 1, 1, tzinfo=UTC),  # on the sampling grid
                    timezone="UTC",
                )
            elif sched.kind == "daily":
                triggers[pipeline.name] = CronTrigger(
                    hour=sched.at.hour, minute=sched.at.minute, timezone=tz
                )
            else:
                triggers[pipeline.name] = CronTrigger(
                    day=sched.day, hour=sched.at.hour, minute=sched.at.minute, timezone=tz
                )
        return triggers

    def start(self) -> None:
        """Take the scheduler lock (or refuse), load the job store and start ticking."""
        global _active
        self.lock.acquire()
        _active = self  # before the first job can fire
        try:
            self._aps = self._build()
            self._aps.start(paused=True)
            self._install_jobs(self._aps)
            self._aps.resume()
        except BaseException:
            _active = None
            self.lock.release()
            raise
        log.info("scheduler started; jobs: %s", ", ".join(self.describe_jobs()))

    def _build(self) -> BackgroundScheduler:
        path = self.settings.jobstore_path
        path.parent.mkdir(parents=True, exist_ok=True)
        aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": int(self.settings.misfire_grace.total_seconds()),
                "max_instances": 1,
            },
            timezone=self.settings.timezone,
        )
        return aps

    def _install_jobs(self, aps: BackgroundScheduler) -> None:
        """Make the job store match the definitions: update, add, drop stale jobs."""
        triggers = self.jobs()
        for job in aps.get_jobs():
            if job.id not in triggers:
                log.info("removing job %s: no pipeline defines it any more", job.id)
                job.remove()
        now = datetime.now(UTC)
        for name, trigger in triggers.items():
            # The nightly job also fires once at (re)start: missed nights and a due close run
            # now, in order. (A one-off date job would race the job store at a quick stop.)
            first = {"next_run_time": now} if self.runner.pipelines[name].period == "day" else {}
            aps.add_job(
                fire, trigger, args=[name], id=name, name=name, replace_existing=True, **first
            )

    def describe_jobs(self) -> list[str]:
        if self._aps is None:
            return []
        return [
            f"{job.id} next at {job.next_run_time.isoformat() if job.next_run_time else 'never'}"
            for job in self._aps.get_jobs()
        ]

    def next_run_times(self) -> dict[str, datetime]:
        assert self._aps is not None
        return {job.id: job.next_run_time for job in self._aps.get_jobs() if job.next_run_time}

    def shutdown(self) -> None:
        """Stop ticking: let the running step finish, then release the locks."""
        global _active
        self.stop_event.set()
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=True)
        if _active is self:
            _active = None
        self.lock.release()
        log.info("scheduler stopped")

    def run_forever(self) -> None:
        """Start, then block until SIGTERM or SIGINT; shut down cleanly.

        The handler only records the signal: it runs in the main thread wherever that thread
        happens to be, so it must not take a lock the main thread may hold (setting a
        ``threading.Event`` the main thread was waiting on deadlocked, rarely).
        """
        received: list[int] = []

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            received.append(signum)  # no lock taken: safe wherever the main thread is

        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            try:
                while not received:
                    time.sleep(0.5)
                self.stop_event.set()  # the running step finishes; no further step starts
                log.info(
                    "received %s: finishing the running step, then stopping",
                    signal.Signals(received[0]).name,
                )
            finally:
                self.shutdown()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
