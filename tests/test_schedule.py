"""Schedules in the config: crontab expressions and intervals, validation, jobs, `wirewatch schedule`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from conftest import demo_seed

from crawler.config.schedule import parse_spec
from crawler.config.wirewatch import load_config
from crawler.runtime.schedule import next_times, plan_jobs

THURSDAY_NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def fires(expr: str, count: int = 3, tz: str = "UTC") -> list[datetime]:
    return next_times(parse_spec(expr), ZoneInfo(tz), THURSDAY_NOON, count)


def test_weekday_numbers_mean_what_they_mean_to_cron():
    # APScheduler 3.x alone would read 1-5 as Tuesday to Saturday.
    assert [d.strftime("%a") for d in fires("0 8 * * 1-5")] == ["Fri", "Mon", "Tue"]
    assert [d.strftime("%a") for d in fires("0 8 * * 0", 1)] == ["Sun"]
    assert [d.strftime("%a") for d in fires("0 8 * * 7", 1)] == ["Sun"]
    assert [d.strftime("%a") for d in fires("0 8 * * */2", 4)] == ["Sat", "Sun", "Tue", "Thu"]
    assert [d.strftime("%a") for d in fires("0 8 * * sat,sun", 2)] == ["Sat", "Sun"]


def test_cron_times_are_in_the_configured_time_zone():
    first = fires("0 8 * * *", 1, "Asia/Karachi")[0]
    assert first.astimezone(UTC) == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_intervals():
    spec = parse_spec("every 10m")
    assert spec.every == timedelta(minutes=10) and spec.cron is None
    assert parse_spec("every 2s").every == timedelta(seconds=2)
    times = next_times(spec, UTC, THURSDAY_NOON, 2)
    assert times[1] - times[0] == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*/15 * * *", "five fields"),
        ("61 * * * *", "61"),
        ("0 8 * * 8", "out of range"),
        ("every 10 minutes", "expected a duration"),
        ("every 0s", "at least 1s"),
        ("hourly", "five fields"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(value)


@pytest.mark.parametrize("command", ["schedule", "status", "daemon"])
def test_bad_schedule_config_is_exit_3_naming_file_and_key(workspace, command):
    workspace.config.write_text(
        workspace.config.read_text()
        + '[schedule]\ntimezone = "Mars/Olympus"\ndefault = "*/15 * *"\nsources = { x = 5 }\n'
        'run_timeout = "soon"\n'
    )
    result = workspace.cli(command)
    assert result.returncode == 3
    for key in ("schedule.timezone", "schedule.default", "schedule.sources.x", "schedule.run_timeout"):
        assert f"{workspace.config}: {key}:" in result.stderr


def test_per_source_schedule_must_name_a_seed(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    workspace.config.write_text(
        workspace.config.read_text() + '[schedule]\nsources = { dmeo = "every 5m" }\n'
    )
    for command in ("schedule", "check"):
        result = workspace.cli(command)
        assert result.returncode == 3
        assert "schedule.sources.dmeo: no such source (sources: demo)" in result.stderr


def source(name: str, enabled: bool = True) -> SimpleNamespace:
    return SimpleNamespace(id=name, enabled=enabled)


def test_sources_sharing_a_schedule_are_one_job(workspace):
    workspace.config.write_text(
        workspace.config.read_text()
        + '[schedule]\ndefault = "*/15 * * * *"\nsources = { c = "every 5m" }\ndigest = "0 8 * * *"\n'
    )
    config = load_config(workspace.config)
    sources = [source("a"), source("b"), source("c"), source("d", enabled=False)]
    jobs, notes = plan_jobs(config, sources)  # type: ignore[arg-type]
    assert [(j.spec.text, j.sources) for j in jobs[:-1]] == [
        ("*/15 * * * *", ("a", "b")),
        ("every 5m", ("c",)),
    ]
    assert any("source d is disabled" in n for n in notes)
    assert jobs[-1].command == ("alerts", "digest") and jobs[-1].spec.text == "0 8 * * *"


def test_schedule_command_prints_jobs_and_next_runs_without_running(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    workspace.config.write_text(workspace.config.read_text() + '[schedule]\ndefault = "0 8 * * 1-5"\n')
    result = workspace.cli("schedule", "--count", "2")
    assert result.returncode == 0, result.stderr
    assert "time zone Asia/Karachi" in result.stdout
    assert "crawl demo\n  schedule: 0 8 * * 1-5" in result.stdout
    assert result.stdout.count("  next: ") == 2 and "08:00:00 PKT" in result.stdout
    assert not site.log and not workspace.db.exists()


def test_the_weekly_brief_is_a_job_of_its_own(workspace):
    workspace.config.write_text(workspace.config.read_text() + '[schedule]\nreport = "0 8 * * 1"\n')
    jobs, _ = plan_jobs(load_config(workspace.config), [source("a")])  # type: ignore[arg-type]
    assert jobs[-1].command == ("report", "--send") and jobs[-1].spec.text == "0 8 * * 1"
