"""When to crawl: schedule specs from the config, turned into APScheduler triggers and jobs.

A spec is a five-field crontab expression (``"*/15 * * * *"``, read as cron reads it: weekday
0 and 7 are Sunday) or an interval (``"every 10m"``; s, m, h or d). Sources that share a spec
are crawled together by one job; a command job (the alerts digest) runs another subcommand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from crawler.config.schedule import Spec

if TYPE_CHECKING:
    from crawler.config.seeds import Source
    from crawler.config.wirewatch import Config


@dataclass(frozen=True)
class Job:
    """One scheduled job: crawl some sources, or run a wirewatch subcommand."""

    id: str
    spec: Spec
    sources: tuple[str, ...] = ()  # a crawl job
    command: tuple[str, ...] = ()  # a command job: wirewatch arguments, e.g. ("alerts", "digest")

    @property
    def what(self) -> str:
        return "crawl " + ", ".join(self.sources) if self.sources else "wirewatch " + " ".join(self.command)


def plan_jobs(config: Config, sources: list[Source]) -> tuple[list[Job], list[str]]:
    """The jobs the config asks for, and notes on what was left out and why.

    Enabled sources are grouped by their schedule (per-source override, else the default);
    the alerts digest is a job of its own when `schedule.digest` is set.
    """
    schedule = config.schedule
    groups: dict[str, list[str]] = {}
    specs: dict[str, Spec] = {}
    notes = []
    for source in sources:
        if not source.enabled:
            notes.append(f"source {source.id} is disabled (enabled = false): not scheduled")
            continue
        spec = schedule.sources.get(source.id, schedule.default)
        groups.setdefault(spec.text, []).append(source.id)
        specs[spec.text] = spec
    jobs = [Job(f"crawl {text}", specs[text], sources=tuple(ids)) for text, ids in groups.items()]
    if schedule.digest is not None:
        jobs.append(Job("alerts digest", schedule.digest, command=("alerts", "digest")))
    if schedule.report is not None:
        jobs.append(Job("weekly brief", schedule.report, command=("report", "--send")))
    return jobs, notes


def next_times(spec: Spec, timezone: tzinfo, now: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times of a spec after ``now``, as a scheduler started now sees them."""
    trigger = spec.trigger(timezone)
    times: list[datetime] = []
    previous = None
    while len(times) < count:
        moment = trigger.get_next_fire_time(previous, now)
        if moment is None:
            break
        times.append(moment)
        previous = now = moment
    return times
