"""`wirewatch daemon`: the schedule of crawler/schedule.py, kept by APScheduler, for months.

Every job runs the real CLI in a child process (`wirewatch run --trigger daemon --source ...`):
a Twisted reactor cannot be restarted in one process, and a process per run gives all its
memory back, so the daemon stays small. The child takes the run lock, so the daemon's runs,
cron's and a person's never overlap. Jobs run one at a time on a single worker; a job still
running when it is due again is skipped (max_instances 1); missed runs coalesce into one.

Signals: SIGTERM or Ctrl-C stops scheduling, asks the running child to stop (SIGTERM: it
finishes the story it is writing and records the run as interrupted), kills it if it is still
there after a grace period, and exits 0. SIGHUP reloads the config and the seeds.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from crawler.config.seeds import Source, load_sources
from crawler.config.wirewatch import Config, check_schedule_sources, load_config
from crawler.runtime.exits import EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_OK, EXIT_SOURCES_FAILED
from crawler.runtime.schedule import Job, plan_jobs
from pipelines.core.validation import ConfigError
from pipelines.store import Store, now_iso

logger = logging.getLogger(__name__)

STOP_GRACE = 30.0  # seconds a child has to stop after SIGTERM before it is killed
_ERRORS_LOGGED = 5  # per source and run; the rest are in run_sources.errors


@dataclass(frozen=True)
class Plan:
    """What the daemon schedules: the config it was read from, the jobs, notes on what was left out."""

    config: Config
    sources: list[Source]
    jobs: list[Job]
    notes: list[str]


def load_plan(config_path: Path | None, db: Path | None) -> Plan:
    """Config, seeds and the jobs they ask for; ConfigError names every problem."""
    config = load_config(config_path, db)
    sources = load_sources(config.source_paths)
    check_schedule_sources(config, [s.id for s in sources])
    jobs, notes = plan_jobs(config, sources)
    return Plan(config, sources, jobs, notes)


def describe(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 120 else str(timedelta(seconds=round(seconds)))


class Daemon:
    """Runs a plan's jobs on schedule until SIGTERM; on SIGHUP, ``load()`` gives the next plan."""

    def __init__(
        self,
        plan: Plan,
        load: Callable[[], Plan],
        log_file: Path | None = None,
        stop_grace: float = STOP_GRACE,
    ):
        self._load = load
        self._log_file = log_file
        self._stop_grace = stop_grace
        self._plan = plan
        self._stopping = threading.Event()
        self._reload = threading.Event()
        self._child_lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=self._plan.config.schedule.timezone,
        )

    # -- the main thread ------------------------------------------------------------------

    def serve(self) -> int:
        """Schedule until SIGTERM/SIGINT; returns the exit code (0)."""
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        config = self._plan.config
        logger.info(
            "daemon started (pid %d): database %s, time zone %s, run timeout %s",
            os.getpid(),
            config.database,
            config.schedule.timezone.key,
            config.schedule.run_timeout,
        )
        self._scheduler.start()
        self._install(self._plan)
        while not self._stopping.is_set():
            self._stopping.wait(1.0)
            if self._reload.is_set():
                self._reload.clear()
                self._reread()
        logger.info("stopping: no new runs; the current one, if any, is asked to stop")
        self._scheduler.shutdown(wait=True)  # returns once the running job has ended
        logger.info("daemon stopped")
        return 0

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping.is_set():  # a second Ctrl-C: do not wait for the grace period
            with self._child_lock:
                if self._child is not None:
                    self._child.kill()
        self._stopping.set()

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self._reload.set()

    def _reread(self) -> None:
        try:
            plan = self._load()
        except ConfigError as exc:
            logger.error(
                "SIGHUP: the config is invalid, keeping the current schedule:\n  %s",
                "\n  ".join(exc.problems),
            )
            return
        logger.info("SIGHUP: config and seeds reloaded")
        self._install(plan)

    def _install(self, plan: Plan) -> None:
        """Replace the scheduled jobs by the plan's (a running job finishes undisturbed)."""
        self._plan = plan
        self._scheduler.remove_all_jobs()
        schedule = plan.config.schedule
        for note in plan.notes:
            logger.warning("%s", note)
        for job in plan.jobs:
            scheduled = self._scheduler.add_job(
                self._run_job,
                trigger=job.spec.trigger(schedule.timezone),
                args=[job, plan.config],
                id=job.id,
                name=job.what,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(schedule.misfire_grace.total_seconds()),
                replace_existing=True,
            )
            logger.info(
                "scheduled %s (%s): next run %s", job.what, job.spec.text, scheduled.next_run_time.isoformat()
            )
        if not plan.jobs:
            logger.warning("nothing to schedule: no enabled source")

    # -- the worker thread ----------------------------------------------------------------

    def _run_job(self, job: Job, config: Config) -> None:
        if self._stopping.is_set():
            return
        try:
            self._execute(job, config)
        except Exception:
            logger.exception("%s: the daemon failed to run it", job.what)

    def argv(self, job: Job, config: Config) -> list[str]:
        """The wirewatch command line of a job, for a child process."""
        where = ["--db", str(config.database.resolve())]
        if config.path is not None:
            where += ["--config", str(config.path.resolve())]
        if job.command:
            return [sys.executable, "-m", "crawler", *job.command, *where]
        names = [arg for source in job.sources for arg in ("--source", source)]
        return [sys.executable, "-m", "crawler", "run", "--trigger", "daemon", *where, *names]

    def _execute(self, job: Job, config: Config) -> None:
        since = now_iso()
        started = time.monotonic()
        with self._stderr() as stderr:
            child = subprocess.Popen(
                self.argv(job, config),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the summary is in the database; logged below
                stderr=stderr,  # log lines and errors go where the daemon's go
                start_new_session=True,  # Ctrl-C in a terminal reaches the daemon only
            )
        logger.info("%s: started (pid %d)", job.what, child.pid)
        with self._child_lock:
            self._child = child
        timed_out = self._wait(child, config.schedule.run_timeout.total_seconds(), job)
        with self._child_lock:
            self._child = None
        seconds = time.monotonic() - started
        elapsed = describe(seconds)
        code = child.returncode
        if code == EXIT_LOCKED:
            logger.warning("%s: skipped, another run holds the lock (exit 5)", job.what)
        elif job.sources:
            self._report_run(job, config, child.pid, since, code, timed_out, seconds)
        elif timed_out or code != EXIT_OK:
            logger.error(
                "%s: %s after %s (exit %s)", job.what, "timed out" if timed_out else "failed", elapsed, code
            )
        else:
            logger.info("%s: done in %s", job.what, elapsed)

    @contextmanager
    def _stderr(self) -> Iterator[IO[bytes] | None]:
        if self._log_file is None:
            yield None  # inherit the daemon's stderr
            return
        with open(self._log_file, "ab") as file:  # opened per run: follows logrotate
            yield file

    def _wait(self, child: subprocess.Popen[bytes], timeout: float, job: Job) -> bool:
        """Wait for the child; stop it at the timeout or on SIGTERM. True when it timed out."""
        deadline = time.monotonic() + timeout
        asked_at: float | None = None
        timed_out = False
        while True:
            try:
                child.wait(timeout=0.2)
                return timed_out
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if asked_at is None and (now >= deadline or self._stopping.is_set()):
                timed_out = now >= deadline
                if timed_out:
                    logger.error("%s: still running after %s, stopping it", job.what, describe(timeout))
                child.terminate()
                asked_at = now
            elif asked_at is not None and now - asked_at >= self._stop_grace and child.poll() is None:
                logger.error(
                    "%s: did not stop within %s of SIGTERM, killing it", job.what, describe(self._stop_grace)
                )
                child.kill()
                asked_at = float("inf")

    def _report_run(
        self, job: Job, config: Config, pid: int, since: str, code: int, timed_out: bool, seconds: float
    ) -> None:
        elapsed = describe(seconds)
        store = Store(config.database)
        try:
            run = store.run_of_process(pid, since)
            if run is None:
                logger.error(
                    "%s: exited with code %s after %s without recording a run", job.what, code, elapsed
                )
                return
            if timed_out:
                limit = describe(config.schedule.run_timeout.total_seconds())
                store.mark_timeout(
                    run["id"], f"stopped by the daemon after {limit} (schedule.run_timeout)", seconds
                )
                run["status"] = "timeout"
            elif run["status"] == "running":  # killed before it could record its end
                store.finish_run(run["id"], "interrupted", [])
                run["status"] = "interrupted"
            rows = store.run_sources_of(run["id"])
        finally:
            store.close()
        summary = "; ".join(
            f"{r['source']}: {r['status']}, {r['new_articles']} new, {r['flagged']} flagged, "
            f"{len(json.loads(r['errors']))} errors"
            for r in rows
        )
        level = logging.INFO if code in (EXIT_OK, EXIT_INTERRUPTED) and not timed_out else logging.WARNING
        if code not in (EXIT_OK, EXIT_SOURCES_FAILED, EXIT_INTERRUPTED) and not timed_out:
            level = logging.ERROR
        logger.log(
            level, "run %d ended: %s in %s (exit %s); %s", run["id"], run["status"], elapsed, code, summary
        )
        for r in rows:
            errors: list[Any] = json.loads(r["errors"])
            for error in errors[:_ERRORS_LOGGED]:
                logger.warning("source %s: %s", r["source"], error)
            if len(errors) > _ERRORS_LOGGED:
                logger.warning(
                    "source %s: ... and %d more errors in run_sources (run %d)",
                    r["source"],
                    len(errors) - _ERRORS_LOGGED,
                    run["id"],
                )
