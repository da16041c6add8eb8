"""Unattended operation: `wirewatch daemon`, `schedule` and `status`."""

from __future__ import annotations

import json
import os
import socket
from contextlib import closing
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from crawler.cli.common import common_options, open_reader, setup_logging, source_state
from crawler.cli.errors import Command
from crawler.config.schedule import Spec
from crawler.runtime.daemon import Daemon, load_plan
from crawler.runtime.exits import EXIT_ATTENTION, EXIT_FAILING, EXIT_OK
from crawler.runtime.health import Health
from crawler.runtime.health import states as source_states
from crawler.runtime.schedule import next_times

LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)


@click.command(cls=Command)
@common_options
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the log here (reopened when logrotate moves it). Default: log.file, else stderr.",
)
@click.option("--log-level", type=LEVELS, help="The daemon's log level. Default: log.level of the config.")
def daemon(config_path: Path | None, db: Path | None, log_file: Path | None, log_level: str | None) -> int:
    """Crawl on the schedule of the config's [schedule] until stopped; for systemd.

    Each run is a `wirewatch run --trigger daemon` child process, so runs never share memory
    with the daemon; a run past schedule.run_timeout is stopped and recorded as "timeout".
    SIGTERM or Ctrl-C: no new runs, the current one stops cleanly, exit 0. SIGHUP: reload
    the config and the seeds (an invalid config is logged and the old schedule kept).
    `wirewatch schedule` shows what it will do.

    \b
    Example: wirewatch daemon --config /etc/wirewatch/wirewatch.toml --log-file /var/log/wirewatch/daemon.log
    """
    plan = load_plan(config_path, db)
    file = log_file or plan.config.log_file
    setup_logging((log_level or plan.config.log_level).upper(), file)
    return Daemon(plan, lambda: load_plan(config_path, db), file).serve()


def _local(moment: datetime, timezone: tzinfo) -> str:
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S %Z")


@click.command(cls=Command)
@common_options
@click.option("--count", default=3, show_default=True, help="How many next run times per job.")
def schedule(config_path: Path | None, db: Path | None, count: int) -> None:
    """Print each job `wirewatch daemon` would run and its next run times; starts nothing.

    Example: wirewatch schedule --config /etc/wirewatch/wirewatch.toml --count 5
    """
    plan = load_plan(config_path, db)
    settings = plan.config.schedule
    now = datetime.now(settings.timezone)
    click.echo(
        f"time zone {settings.timezone.key}; run timeout {settings.run_timeout}; "
        f"misfire grace {settings.misfire_grace}; database {plan.config.database}"
    )
    for job in plan.jobs:
        interval = " (counted from the daemon's start)" if job.spec.every else ""
        click.echo(f"\n{job.what}\n  schedule: {job.spec.text}{interval}")
        for moment in next_times(job.spec, settings.timezone, now, count):
            click.echo(f"  next: {_local(moment, settings.timezone)}")
    for note in plan.notes:
        click.echo(f"\nnote: {note}")


def _next_due(spec: Spec, timezone: tzinfo, last_start: str | None) -> str:
    now = datetime.now(timezone)
    if spec.every is not None:
        if not last_start:
            return f"{spec.text} from the daemon's start"
        due = datetime.fromisoformat(last_start) + spec.every
        return "due now" if due <= now else _local(due, timezone)
    times = next_times(spec, timezone, now, 1)
    return _local(times[0], timezone) if times else "never"


def _process_state(run: dict[str, Any]) -> str:
    if run.get("host") != socket.gethostname() or not run.get("pid"):
        return f"pid {run.get('pid')} on {run.get('host')}"
    try:
        os.kill(run["pid"], 0)
    except ProcessLookupError:
        return f"pid {run['pid']}, which is gone: it was killed, the next run marks it interrupted"
    except PermissionError:
        pass
    return f"pid {run['pid']}"


@click.command(cls=Command)
@common_options
@click.option(
    "--failing-after",
    default=3,
    show_default=True,
    help="A source whose last N runs all failed is failing repeatedly (exit code 7).",
)
def status(config_path: Path | None, db: Path | None, failing_after: int) -> int:
    """Health: each source's last run, when it is next due, and what keeps failing.

    Reads the database and the config only; works with or without a daemon running. The
    health column compares each source with its own history: `silent` (nothing new for much
    longer than usual), `degraded` (its pages stopped extracting well). Exits 0; 7 when a
    source failed its last --failing-after runs; 8 when one is blocked, silent or degraded
    (for monitoring: cron mails it).

    Example: wirewatch status --config /etc/wirewatch/wirewatch.toml
    """
    plan = load_plan(config_path, db)
    config = plan.config
    settings = config.schedule
    last: dict[str, dict[str, Any]] = {}
    streaks: dict[str, int] = {}
    running: list[dict[str, Any]] = []
    latest = regrouping = None
    waiting = 0
    health: dict[str, Health] = {}
    if config.database.exists():
        with closing(open_reader(config)) as store:
            last, streaks, running, latest = (
                store.last_runs(),
                store.failing_streaks(),
                store.running(),
                store.last_run(),
            )
            regrouping = store.regrouping()
            waiting = store.regrouping_articles() if regrouping else 0
            health = source_states(store, [s.id for s in plan.sources], datetime.now(UTC), failing_after)
    scheduled = {source: job.spec for job in plan.jobs for source in job.sources}
    rows, failing, attention = [], [], []
    for s in plan.sources:
        info = last.get(s.id, {})
        streak = streaks.get(s.id, 0)
        spec = scheduled.get(s.id)
        state = health.get(s.id)
        if state is not None and state.state == "failing":
            failing.append((s.id, streak))
        elif state is not None and state.state != "ok":
            attention.append(f"{s.id} is {state.state}: {state.reason}")
        rows.append(
            [
                s.id,
                _local(datetime.fromisoformat(info["started_at"]), settings.timezone) if info else "never",
                source_state(info),
                state.state if state else "",
                info.get("new_articles", ""),
                len(json.loads(info.get("errors") or "[]")),
                f"{streak} runs" if streak else "",
                _next_due(spec, settings.timezone, info.get("started_at")) if spec else "not scheduled",
            ]
        )
    click.echo(
        tabulate(
            rows,
            headers=["source", "last run", "status", "health", "new", "errors", "failing for", "next due"],
        )
    )
    if latest:
        started = _local(datetime.fromisoformat(latest["started_at"]), settings.timezone)
        took = f" in {latest['duration']}s" if latest.get("duration") is not None else ""
        click.echo(f"\nlast run: {latest['id']} ({latest['trigger']}) {started}: {latest['status']}{took}")
    for run in running:
        click.echo(
            f"running now: {run['kind']} {run['id']} ({run['trigger']}, {_process_state(run)}) "
            f"since {run['started_at']}"
        )
    if regrouping:
        click.echo(
            f"recluster since {regrouping['started_at']}: {waiting} articles still to regroup; new articles "
            "wait for it (no story, no alert yet). If it is not running, `wirewatch recluster` (or the "
            "next `wirewatch run`) finishes it.",
            err=True,
        )
    for name, streak in failing:
        click.echo(
            f"FAILING: {name} failed its last {streak} runs; "
            "see `wirewatch sources` and the run_sources table for its errors",
            err=True,
        )
    for line in attention:
        click.echo(f"ATTENTION: {line}", err=True)
    if not config.database.exists():
        click.echo(f"\nno database yet at {config.database}: nothing has run", err=True)
    return EXIT_FAILING if failing else EXIT_ATTENTION if attention else EXIT_OK
