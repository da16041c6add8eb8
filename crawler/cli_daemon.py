"""Unattended operation: daemon and schedule (registered on the `wirewatch` group)."""

from __future__ import annotations

import sys
from datetime import datetime, tzinfo
from pathlib import Path

import click

from crawler.cli import ConfigFailure, common_options, main, setup_logging
from crawler.config import check_schedule_sources, load_config
from crawler.daemon import Daemon, Plan
from crawler.schedule import next_times, plan_jobs
from crawler.seeds import load_sources
from pipelines.validation import ConfigError

LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)


def load_plan(config_path: Path | None, db: Path | None) -> Plan:
    """Config, seeds and the jobs they ask for; ConfigError names every problem."""
    config = load_config(config_path, db)
    sources = load_sources(config.source_paths)
    check_schedule_sources(config, [s.id for s in sources])
    jobs, notes = plan_jobs(config, sources, set(main.commands))
    return Plan(config, sources, jobs, notes)


def _plan(config_path: Path | None, db: Path | None) -> Plan:
    try:
        return load_plan(config_path, db)
    except ConfigError as exc:
        raise ConfigFailure(exc) from None


@main.command()
@common_options
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the log here (reopened when logrotate moves it). Default: log.file, else stderr.",
)
@click.option("--log-level", type=LEVELS, help="The daemon's log level. Default: log.level of the config.")
def daemon(config_path: Path | None, db: Path | None, log_file: Path | None, log_level: str | None) -> None:
    """Crawl on the schedule of the config's [schedule] until stopped; for systemd.

    Each run is a `wirewatch run --trigger daemon` child process, so runs never share memory
    with the daemon; a run past schedule.run_timeout is stopped and recorded as "timeout".
    SIGTERM or Ctrl-C: no new runs, the current one stops cleanly, exit 0. SIGHUP: reload
    the config and the seeds (an invalid config is logged and the old schedule kept).
    `wirewatch schedule` shows what it will do.

    Example: wirewatch daemon --config /etc/wirewatch/wirewatch.toml --log-file /var/log/wirewatch/daemon.log
    """
    plan = _plan(config_path, db)
    file = log_file or plan.config.log_file
    setup_logging((log_level or plan.config.log_level).upper(), file)
    sys.exit(Daemon(plan, lambda: load_plan(config_path, db), file).serve())


def _local(moment: datetime, timezone: tzinfo) -> str:
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S %Z")


@main.command()
@common_options
@click.option("--count", default=3, show_default=True, help="How many next run times per job.")
def schedule(config_path: Path | None, db: Path | None, count: int) -> None:
    """Print each job `wirewatch daemon` would run and its next run times; starts nothing.

    Example: wirewatch schedule --config /etc/wirewatch/wirewatch.toml --count 5
    """
    plan = _plan(config_path, db)
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
