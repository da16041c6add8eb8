"""The configuration file: bundled commented defaults, overridden key by key by the user's file."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
)

from crawler import __version__
from crawler.config.paths import bundled
from crawler.config.schedule import Spec, parse_spec
from pipelines.alerts.policy import AlertPolicy
from pipelines.core.models import (
    Duration,
    Model,
    PositiveDuration,
    Seconds,
    TimeZone,
    empty_is_none,
    validated,
)
from pipelines.core.validation import ConfigError, read_toml

DEFAULTS_FILE = bundled("config") / "wirewatch.toml"

FilePath = Annotated[Path, AfterValidator(Path.expanduser)]
OptionalPath = Annotated[FilePath | None, BeforeValidator(empty_is_none)]  # "": none


def _spec(value: object) -> Spec:
    if not isinstance(value, str):
        raise ValueError(f"expected a string like '*/15 * * * *' or 'every 10m', got {value!r}")
    return parse_spec(value)


ScheduleSpec = Annotated[Spec, PlainValidator(_spec)]


class Storage(Model):
    database: FilePath
    archive: Literal["none", "warc"] = "none"  # "warc": keep fetched pages (pipelines/archive)
    archive_file_mb: Annotated[StrictInt, Field(ge=1)] = 1024


class Sources(Model):
    paths: tuple[FilePath, ...]  # empty: the bundled seeds
    max_age: Duration


class Watchlists(Model):
    paths: tuple[FilePath, ...]  # empty: the bundled watchlists
    gazetteer: OptionalPath  # none: the bundled gazetteer


class Nlp(Model):
    model: StrictStr


class CrawlSettings(Model):
    contact: StrictStr
    user_agent: StrictStr
    polite: StrictBool
    download_delay: Seconds
    concurrent_requests_per_domain: Annotated[StrictInt, Field(ge=1)]
    max_page_bytes: Annotated[StrictInt, Field(ge=1)]
    download_timeout: Seconds
    retry_times: Annotated[StrictInt, Field(ge=0)]
    retry_backoff: Seconds
    allow_private_addresses: StrictBool
    allow_private_hosts: tuple[StrictStr, ...]  # "host" or "host:port", private but allowed
    chromium: StrictStr  # the browser for seeds with fetch = "browser"; "": found on PATH
    workers: Annotated[StrictInt, Field(ge=0)]  # 0: one per core

    @field_validator("user_agent")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(version="", contact="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{version}} and {{contact}} may be used: {exc}") from None
        return value

    @property
    def resolved_user_agent(self) -> str:
        return self.user_agent.format(version=__version__, contact=self.contact)


class ScheduleSettings(Model):
    """When the daemon runs what (crawler/runtime/schedule.py reads the specs)."""

    timezone: TimeZone
    default: ScheduleSpec
    sources: dict[str, ScheduleSpec]  # per-source overrides of `default`, by seed id
    run_timeout: PositiveDuration  # a crawl still running after this is stopped and recorded as timeout
    misfire_grace: PositiveDuration  # a run that could not start on time may still start this late
    digest: Annotated[ScheduleSpec | None, BeforeValidator(empty_is_none)]  # the alerts digest
    report: Annotated[ScheduleSpec | None, BeforeValidator(empty_is_none)] = None  # the brief by mail


class Log(Model):
    level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
    ]
    file: OptionalPath  # the daemon's log file; none: stderr


class Config(Model):
    """The configuration file, section by section (config/wirewatch.toml documents every key)."""

    storage: Storage
    sources: Sources
    watchlists: Watchlists
    nlp: Nlp
    crawl: CrawlSettings
    alerts: AlertPolicy
    schedule: ScheduleSettings
    log: Log
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The user's file; None when running on the defaults alone."""
        return self._path

    @property
    def database(self) -> Path:
        return self.storage.database

    @property
    def source_paths(self) -> tuple[Path, ...]:
        return self.sources.paths or (bundled("seeds"),)

    @property
    def watchlist_paths(self) -> tuple[Path, ...]:
        return self.watchlists.paths or (bundled("config") / "watchlists",)

    @property
    def gazetteer(self) -> Path:
        return self.watchlists.gazetteer or bundled("config") / "gazetteer.toml"

    @property
    def nlp_model(self) -> str:
        return self.nlp.model

    @property
    def max_age(self) -> timedelta:
        return self.sources.max_age

    @property
    def log_level(self) -> str:
        return self.log.level

    @property
    def log_file(self) -> Path | None:
        return self.log.file


# The keys that hold paths: relative paths in the user's file are relative to its folder,
# the defaults' to the current directory.
_PATHS = {
    "storage": {"database"},
    "sources": {"paths"},
    "watchlists": {"paths", "gazetteer"},
    "log": {"file"},
    "alerts": {"outbox_dir"},
}


def _placed(user: dict[str, Any], folder: Path) -> dict[str, Any]:
    def place(value: Any) -> Any:
        if isinstance(value, list):
            return [place(v) for v in value]
        return str(folder / Path(value).expanduser()) if isinstance(value, str) and value else value

    out = dict(user)
    for section, keys in _PATHS.items():
        if isinstance(user.get(section), dict):
            out[section] = {k: place(v) if k in keys else v for k, v in user[section].items()}
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, tables key by key."""
    out = dict(base)
    for key, value in over.items():
        both_tables = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = _merge(base[key], value) if both_tables else value
    return out


def load_config(path: Path | None = None, database: Path | None = None) -> Config:
    """Load the bundled defaults, then the user's file over them.

    ``path`` defaults to $WIREWATCH_CONFIG when set; ``database`` (from ``--db``) or
    $WIREWATCH_DB wins over the file's ``storage.database``.
    """
    if path is None and os.environ.get("WIREWATCH_CONFIG"):
        path = Path(os.environ["WIREWATCH_CONFIG"])
    values = read_toml(DEFAULTS_FILE)
    if path is not None:
        values = _merge(values, _placed(read_toml(path), path.resolve().parent))
    if database is None and os.environ.get("WIREWATCH_DB"):
        database = Path(os.environ["WIREWATCH_DB"])
    if database is not None:
        values = _merge(values, {"storage": {"database": str(database)}})
    config = validated(Config, values, path or DEFAULTS_FILE)
    config._path = path
    return config


def check_schedule_sources(config: Config, source_ids: list[str]) -> None:
    """Per-source schedules must name seeds that exist: a typo would silently use the default."""
    known = ", ".join(source_ids)
    problems = [
        f"{config.path or DEFAULTS_FILE}: schedule.sources.{name}: no such source (sources: {known})"
        for name in config.schedule.sources
        if name not in source_ids
    ]
    if problems:
        raise ConfigError(problems)
