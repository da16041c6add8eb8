"""What the commands share: the --config/--db options, loading, the database, logging, output."""

from __future__ import annotations

import csv
import json
import logging
import logging.handlers
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from crawler.config.seeds import Source, load_sources, select
from crawler.config.wirewatch import Config
from pipelines.core.validation import parse_duration
from pipelines.store import Store
from pipelines.watch.watchlist import Watchlist, load_watchlists

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NOISY = ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "filelock", "apscheduler")


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The --config and --db options, passed as ``config_path`` and ``db``."""
    func = click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        help="SQLite database file (default: storage.database of the config, or $WIREWATCH_DB).",
    )(func)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Your config file; keys you leave out keep the bundled defaults ($WIREWATCH_CONFIG).",
    )(func)


def open_reader(config: Config) -> Store:
    """The database, for a command that only reads it: opened read-only, it never waits for a writer."""
    return Store(config.database, readonly=True)


def open_writer(config: Config) -> Store:
    """The database, for a command that writes to it."""
    return Store(config.database)


def watchlists_of(config: Config) -> list[Watchlist]:
    return load_watchlists(config.watchlist_paths, config.gazetteer, config.nlp_model)


def chosen_sources(config: Config, names: tuple[str, ...]) -> tuple[list[Source], list[Watchlist]]:
    """The enabled sources (or those named) and the watchlists; ConfigError otherwise."""
    sources, watchlists = load_sources(config.source_paths), watchlists_of(config)
    return select(sources, names), watchlists


def chosen_watchlists(config: Config, name: str | None) -> list[Watchlist]:
    """Every watchlist, or the one named (a usage error when there is none of that name)."""
    watchlists = watchlists_of(config)
    if name:
        watchlists = [w for w in watchlists if w.name == name]
        if not watchlists:
            raise click.BadParameter(f"no watchlist named {name!r}", param_hint="--watchlist")
    return watchlists


def parse_since(value: str | None) -> datetime | None:
    """The moment a --since duration (12h, 7d) reaches back to; None for no limit."""
    if not value:
        return None
    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


def emit(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
    """Print rows as a table, JSON lines or CSV, in the order of ``columns``."""
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        click.echo(tabulate([[row.get(c) for c in columns] for row in rows], headers=columns))


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)


def setup_logging(level: str, file: Path | None = None) -> None:
    """Log to stderr (cron mail, the journal), or to ``file`` (reopened when logrotate moves it)."""
    handler: logging.Handler = (
        logging.handlers.WatchedFileHandler(file) if file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), format=LOG_FORMAT, handlers=[handler], force=True
    )
    if level != "DEBUG":
        # Scrapy's routine lines (versions, middleware lists, each request) are for debugging.
        for handler in logging.getLogger().handlers:
            handler.addFilter(_library_noise)


def _library_noise(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(_NOISY)


def source_state(run_source: dict[str, Any]) -> str:
    """A run_sources row's status as the operator reads it: a block names its bot protection."""
    if run_source.get("blocked"):
        return f"blocked (bot protection: {run_source['blocked']})"
    return str(run_source.get("status", ""))
