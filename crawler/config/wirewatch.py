"""The configuration file: bundled commented defaults, overridden key by key by the user's file."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler import __version__
from crawler.config.paths import bundled
from crawler.runtime.schedule import Spec, parse_spec
from pipelines.alerts.policy import AlertPolicy, policy_from_config
from pipelines.core.validation import Problems, check_keys, parse_duration, read_toml

DEFAULTS_FILE = bundled("config") / "wirewatch.toml"


@dataclass(frozen=True)
class CrawlSettings:
    contact: str
    user_agent: str
    polite: bool
    download_delay: float
    concurrent_requests_per_domain: int
    max_page_bytes: int
    download_timeout: float
    retry_times: int
    retry_backoff: float
    allow_private_addresses: bool
    workers: int

    @property
    def resolved_user_agent(self) -> str:
        return self.user_agent.format(version=__version__, contact=self.contact)


@dataclass(frozen=True)
class ScheduleSettings:
    """When the daemon runs what (crawler/schedule.py reads the specs)."""

    timezone: ZoneInfo
    default: Spec
    sources: dict[str, Spec]  # per-source overrides of `default`, by seed id
    run_timeout: timedelta  # a crawl still running after this is stopped and recorded as timeout
    misfire_grace: timedelta  # a run that could not start on time may still start this late
    digest: Spec | None  # the alerts digest, when there is an alerts command


@dataclass(frozen=True)
class Config:
    path: Path | None  # the user's file, None when running on the defaults alone
    database: Path
    source_paths: tuple[Path, ...]
    watchlist_paths: tuple[Path, ...]
    gazetteer: Path
    nlp_model: str
    max_age: timedelta
    crawl: CrawlSettings
    schedule: ScheduleSettings
    log_level: str
    alerts: AlertPolicy
    log_file: Path | None  # the daemon's log file; None: stderr


# Expected type of every key of the defaults file; a user's value must match it.
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "storage": {"database": str},
    "sources": {"paths": list, "max_age": str},
    "watchlists": {"paths": list, "gazetteer": str},
    "nlp": {"model": str},
    "crawl": {
        "contact": str,
        "user_agent": str,
        "polite": bool,
        "download_delay": (int, float),
        "concurrent_requests_per_domain": int,
        "max_page_bytes": int,
        "download_timeout": (int, float),
        "retry_times": int,
        "retry_backoff": (int, float),
        "allow_private_addresses": bool,
        "workers": int,
    },
    "alerts": {
        "routes": list,
        "sender": str,
        "timezone": str,
        "max_age": str,
        "quiet_hours": str,
        "retry_backoff": str,
        "max_backoff": str,
        "max_attempts": int,
        "outbox_dir": str,
        "smtp": dict,
    },
    "schedule": {
        "timezone": str,
        "default": str,
        "sources": dict,
        "run_timeout": str,
        "misfire_grace": str,
        "digest": str,
    },
    "log": {"level": str, "file": str},
}


def _merge(base: dict[str, Any], user: dict[str, Any], problems: Problems) -> dict[str, Any]:
    merged = {section: dict(values) for section, values in base.items()}
    check_keys(user, set(_SCHEMA), "", problems)
    for section, values in user.items():
        if section not in _SCHEMA:
            continue
        if not isinstance(values, dict):
            problems.add(section, "expected a table like [section]")
            continue
        check_keys(values, set(_SCHEMA[section]), f"{section}.", problems)
        for key, value in values.items():
            expected = _SCHEMA[section].get(key)
            if expected is None:
                continue
            if isinstance(value, bool) and expected is not bool:
                problems.add(f"{section}.{key}", f"expected a number, got {value!r}")
            elif not isinstance(value, expected):
                problems.add(f"{section}.{key}", f"wrong type {type(value).__name__}: {value!r}")
            elif isinstance(value, dict):  # a sub-table such as [alerts.smtp]: key by key
                merged[section][key] = {**merged[section].get(key, {}), **value}
            else:
                merged[section][key] = value
    return merged


def _paths(values: list[Any], base_dir: Path, key: str, problems: Problems) -> tuple[Path, ...]:
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            problems.add(f"{key}[{i}]", f"expected a path string, got {value!r}")
            continue
        path = Path(value).expanduser()
        out.append(path if path.is_absolute() else base_dir / path)
    return tuple(out)


def load_config(path: Path | None = None, database: Path | None = None) -> Config:
    """Load the bundled defaults, then the user's file over them.

    ``path`` defaults to $WIREWATCH_CONFIG when set; ``database`` (from ``--db``) or
    $WIREWATCH_DB wins over the file's ``storage.database``.
    """
    if path is None and os.environ.get("WIREWATCH_CONFIG"):
        path = Path(os.environ["WIREWATCH_CONFIG"])
    defaults = read_toml(DEFAULTS_FILE)
    problems = Problems(path or DEFAULTS_FILE)
    user = read_toml(path) if path else {}
    values = _merge(defaults, user, problems)
    user_dir = path.resolve().parent if path else Path.cwd()

    crawl = values["crawl"]
    for key in ("download_delay", "download_timeout", "retry_backoff"):
        if crawl[key] < 0:
            problems.add(f"crawl.{key}", f"must not be negative, got {crawl[key]!r}")
    if crawl["workers"] < 0:
        problems.add("crawl.workers", f"must be 0 (one per core) or more, got {crawl['workers']!r}")
    for key in ("concurrent_requests_per_domain", "max_page_bytes"):
        if crawl[key] < 1:
            problems.add(f"crawl.{key}", f"must be at least 1, got {crawl[key]!r}")
    try:
        crawl["user_agent"].format(version="", contact="")
    except (KeyError, IndexError, ValueError) as exc:
        problems.add("crawl.user_agent", f"only {{version}} and {{contact}} may be used: {exc}")
    try:
        max_age = parse_duration(values["sources"]["max_age"])
    except ValueError as exc:
        problems.add("sources.max_age", str(exc))
        max_age = timedelta(days=3)
    level = values["log"]["level"].upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.add("log.level", f"expected DEBUG, INFO, WARNING or ERROR, got {level!r}")

    schedule = _schedule(values["schedule"], problems)
    log_file = (
        _paths([values["log"]["file"]], user_dir, "log.file", problems) if values["log"]["file"] else ()
    )

    source_paths = _paths(values["sources"]["paths"], user_dir, "sources.paths", problems)
    watchlist_paths = _paths(values["watchlists"]["paths"], user_dir, "watchlists.paths", problems)
    gazetteer = _paths([values["watchlists"]["gazetteer"]], user_dir, "watchlists.gazetteer", problems)
    alerts = policy_from_config(values["alerts"], problems)
    if "outbox_dir" in user.get("alerts", {}) and not Path(alerts.outbox_dir).is_absolute():
        alerts = replace(alerts, outbox_dir=str(user_dir / alerts.outbox_dir))
    if not values["watchlists"]["gazetteer"]:
        gazetteer = (bundled("config") / "gazetteer.toml",)
    problems.raise_if_any()

    if database is None and os.environ.get("WIREWATCH_DB"):
        database = Path(os.environ["WIREWATCH_DB"])
    if database is None:
        database = Path(values["storage"]["database"]).expanduser()
        if "database" in user.get("storage", {}) and not database.is_absolute():
            database = user_dir / database
    return Config(
        path=path,
        database=database,
        source_paths=source_paths or (bundled("seeds"),),
        watchlist_paths=watchlist_paths or (bundled("config") / "watchlists",),
        gazetteer=gazetteer[0],
        nlp_model=values["nlp"]["model"],
        max_age=max_age,
        crawl=CrawlSettings(**crawl),
        schedule=schedule,
        log_level=level,
        alerts=alerts,
        log_file=log_file[0] if log_file else None,
    )


def _schedule(values: dict[str, Any], problems: Problems) -> ScheduleSettings:
    def spec(key: str, value: object) -> Spec:
        if not isinstance(value, str):
            problems.add(key, f"expected a string like '*/15 * * * *' or 'every 10m', got {value!r}")
        else:
            try:
                return parse_spec(value)
            except ValueError as exc:
                problems.add(key, str(exc))
        return parse_spec("0 0 * * *")  # a placeholder; the problem stops the load

    def duration(key: str) -> timedelta:
        try:
            value = parse_duration(values[key])
        except ValueError as exc:
            problems.add(f"schedule.{key}", str(exc))
            return timedelta(minutes=1)
        if not value:
            problems.add(f"schedule.{key}", "must be longer than 0")
        return value

    try:
        timezone = ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.add("schedule.timezone", f"unknown time zone {values['timezone']!r} (e.g. 'Asia/Karachi')")
        timezone = ZoneInfo("UTC")
    return ScheduleSettings(
        timezone=timezone,
        default=spec("schedule.default", values["default"]),
        sources={name: spec(f"schedule.sources.{name}", v) for name, v in values["sources"].items()},
        run_timeout=duration("run_timeout"),
        misfire_grace=duration("misfire_grace"),
        digest=spec("schedule.digest", values["digest"]) if values["digest"] else None,
    )


def check_schedule_sources(config: Config, source_ids: list[str]) -> None:
    """Per-source schedules must name seeds that exist: a typo would silently use the default."""
    problems = Problems(config.path or DEFAULTS_FILE)
    for name in config.schedule.sources:
        if name not in source_ids:
            problems.add(f"schedule.sources.{name}", f"no such source (sources: {', '.join(source_ids)})")
    problems.raise_if_any()
