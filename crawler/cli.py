"""The `wirewatch` command: thin wrappers over the library, one function call per command."""

from __future__ import annotations

import csv
import json
import logging
import logging.handlers
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from crawler import __version__
from crawler.config.seeds import Source, load_sources, parse_source_text, select
from crawler.config.wirewatch import Config, check_schedule_sources, load_config
from crawler.notify import send_alerts
from crawler.runtime.lock import LockHeld, RunLock, lock_path
from crawler.runtime.regroup import finish_interrupted
from crawler.runtime.run import EXIT_CONFIG, EXIT_LOCKED, RunResult, run_once
from pipelines.core.validation import ConfigError, parse_duration
from pipelines.store import Store
from pipelines.watch.watchlist import Watchlist, load_watchlists

EXIT_CODES = """\b
Exit codes (for cron and systemd):
  0  success: every source crawled without error
  1  internal error (a bug; the traceback is printed)
  2  usage error: bad command-line arguments
  3  configuration error: a config, seed or watchlist file is invalid; nothing was crawled
  4  one or more sources had errors (unreachable, HTTP errors, broken feeds); the stories
     of the others are stored, and `wirewatch sources` shows which failed
  5  another run holds the lock (<database>.lock); nothing was done
  6  interrupted (Ctrl-C or SIGTERM); everything stored so far is kept
  7  `wirewatch status` only: a source failed its last runs (--failing-after)
"""


class ConfigFailure(click.ClickException):
    exit_code = EXIT_CONFIG

    def __init__(self, error: ConfigError):
        super().__init__("invalid configuration:\n  " + "\n  ".join(error.problems))


class LockedFailure(click.ClickException):
    exit_code = EXIT_LOCKED

    def __init__(self, error: LockHeld):
        super().__init__(f"{error}; not starting a second one")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


_NOISY = ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "filelock", "apscheduler")


def _library_noise(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(_NOISY)


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
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


def _config(config_path: Path | None, db: Path | None) -> Config:
    try:
        return load_config(config_path, db)
    except ConfigError as exc:
        raise ConfigFailure(exc) from None


def watchlists_of(config: Config) -> list[Watchlist]:
    return load_watchlists(config.watchlist_paths, config.gazetteer, config.nlp_model)


def chosen_sources(config: Config, names: tuple[str, ...]) -> tuple[list[Source], list[Watchlist]]:
    """The enabled sources (or those named) and the watchlists; a config error otherwise."""
    sources, watchlists = _load(config)
    try:
        return select(sources, names), watchlists
    except ConfigError as exc:
        raise ConfigFailure(exc) from None


def _load(config: Config) -> tuple[list[Source], list[Watchlist]]:
    try:
        return load_sources(config.source_paths), watchlists_of(config)
    except ConfigError as exc:
        raise ConfigFailure(exc) from None


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wirewatch")
def main() -> None:
    """wirewatch: reads news sites, keeps every story in SQLite, flags what matters.

    Each run crawls the configured sources (seed files) politely, extracts every new story,
    applies the watchlists and stores the result. Start with `wirewatch demo` to see it work
    on a bundled sample site, then `wirewatch run`.
    """


def print_summary(result: RunResult) -> None:
    rows = [
        [
            r.source,
            r.status,
            r.requests,
            r.pages_fetched,
            r.not_modified,
            r.new_articles,
            r.flagged,
            r.known_skipped,
            r.extraction_failures,
            len(r.errors),
        ]
        for r in result.sources
    ]
    headers = [
        "source",
        "status",
        "requests",
        "200s",
        "304s",
        "new",
        "flagged",
        "known",
        "no story",
        "errors",
    ]
    click.echo(tabulate(rows, headers=headers))
    for r in result.sources:
        for error in r.errors[:20]:
            click.echo(f"  {r.source}: {error}", err=True)
        if len(r.errors) > 20:
            click.echo(f"  {r.source}: ... and {len(r.errors) - 20} more (see run_sources.errors)", err=True)
    click.echo(f"run {result.run_id}: {result.status}")


def _trigger(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", value):
        raise click.BadParameter("a short lower-case word, like cli, cron or daemon")
    return value


@main.command()
@common_options
@click.option(
    "--source",
    "source_names",
    multiple=True,
    metavar="NAME",
    help="Crawl only this source (repeatable). Default: every enabled source.",
)
@click.option(
    "--trigger",
    default="cli",
    show_default=True,
    callback=_trigger,
    help="Who started the run, recorded in runs.trigger (the daemon passes 'daemon'; cron, timer...).",
)
def run(config_path: Path | None, db: Path | None, source_names: tuple[str, ...], trigger: str) -> None:
    """Crawl every source once, store new stories, flag them; suits cron.

    One run at a time per database: a run that finds another one holding the lock file beside
    the database exits at once with code 5. A lock left by a killed run never blocks.

    Example: wirewatch run --config /etc/wirewatch/wirewatch.toml --source app
    """
    config = _config(config_path, db)
    setup_logging(config.log_level)
    chosen, watchlists = chosen_sources(config, source_names)
    lock = RunLock(lock_path(config.database), trigger)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise LockedFailure(exc) from None
    try:  # the lock covers the run and everything done after it, alert delivery included
        result = run_once(config, chosen, watchlists, config.database, trigger=trigger)
        print_summary(result)
        if result.status != "interrupted":
            finish_interrupted(config)
            send_alerts(config)
    finally:
        lock.release()
    sys.exit(result.exit_code)


def _emit(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        click.echo(tabulate([[row.get(c) for c in columns] for row in rows], headers=columns))


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


@main.command()
@common_options
@click.option(
    "--since", default="7d", show_default=True, help="Only stories published this recently (e.g. 12h, 7d)."
)
@click.option("--watchlist", help="Only this watchlist.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.option("--limit", default=500, show_default=True, help="At most this many rows.")
def flagged(
    config_path: Path | None, db: Path | None, since: str, watchlist: str | None, fmt: str, limit: int
) -> None:
    """List flagged stories (events), newest first: one row per story, with its outlets.

    `id` is the story's first flagged article (for `wirewatch explain`), `articles` how many
    copies and versions of it are stored.

    Example: wirewatch flagged --since 24h --watchlist cpec-security --format csv
    """
    config = _config(config_path, db)
    store = Store(config.database, readonly=True)
    try:
        rows = store.flagged(_since(since), watchlist, limit)
    finally:
        store.close()
    _emit(
        rows,
        fmt,
        ["id", "published_at", "tier", "type", "score", "story", "articles", "outlets", "title", "url"],
    )


@main.command()
@common_options
@click.argument("query")
@click.option("--limit", default=50, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.option(
    "--order",
    type=click.Choice(["recent", "relevance"]),
    default="recent",
    show_default=True,
    help="Newest stored first, or best match first (bm25, among the newest 20,000 matches).",
)
def search(config_path: Path | None, db: Path | None, query: str, limit: int, fmt: str, order: str) -> None:
    """Full-text search of stored stories (SQLite FTS5 syntax: words, "phrases", OR, NOT, prefix*).

    Example: wirewatch search '"Chinese nationals" AND (attack OR convoy)' --order relevance
    """
    config = _config(config_path, db)
    store = Store(config.database, readonly=True)
    try:
        rows = store.search(query, limit, order)
    except Exception as exc:  # sqlite3.OperationalError for a malformed FTS query
        raise click.BadParameter(f"bad search query {query!r}: {exc}", param_hint="QUERY") from None
    finally:
        store.close()
    _emit(rows, fmt, ["id", "published_at", "source", "title", "snippet", "url"])


@main.group(invoke_without_command=True)
@common_options
@click.pass_context
def sources(ctx: click.Context, config_path: Path | None, db: Path | None) -> None:
    """List the configured sources and how their last run went; `sources probe` checks them live.

    Example: wirewatch sources --config /etc/wirewatch/wirewatch.toml
    """
    if ctx.invoked_subcommand is not None:
        return
    config = _config(config_path, db)
    configured, _ = _load(config)
    last: dict[str, dict[str, Any]] = {}
    if config.database.exists():
        store = Store(config.database, readonly=True)
        try:
            last = store.last_runs()
        finally:
            store.close()
    rows = []
    for s in configured:
        info = last.get(s.id, {})
        rows.append(
            [
                s.id,
                "yes" if s.enabled else "no",
                s.title,
                info.get("started_at", "never"),
                info.get("status", ""),
                info.get("new_articles", ""),
                len(json.loads(info.get("errors") or "[]")),
                s.file,
            ]
        )
    click.echo(
        tabulate(rows, headers=["id", "enabled", "title", "last run", "status", "new", "errors", "seed file"])
    )


@main.command()
@common_options
def check(config_path: Path | None, db: Path | None) -> None:
    """Validate the config (its schedules too), every seed file and every watchlist; report all problems.

    Example: wirewatch check --config /etc/wirewatch/wirewatch.toml
    """
    problems: list[str] = []
    try:
        config = load_config(config_path, db)
    except ConfigError as exc:
        raise ConfigFailure(exc) from None
    found: dict[str, int] = {}
    for name, loader, paths in (
        ("sources", load_sources, config.source_paths),
        ("watchlists", lambda _: watchlists_of(config), config.watchlist_paths),
    ):
        try:
            found[name] = len(loader(paths))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if not problems:
        try:
            check_schedule_sources(config, [s.id for s in load_sources(config.source_paths)])
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigFailure(ConfigError(problems))
    click.echo(
        f"config OK: {found['sources']} sources, {found['watchlists']} watchlists, database {config.database}"
    )


@main.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo database in this folder instead of a temporary one.",
)
def demo(keep: Path | None) -> None:
    """Run the whole pipeline on a bundled sample site served on loopback; no internet needed.

    Serves a small WordPress-style news site on 127.0.0.1, crawls it into a fresh database
    with politeness off (it is our own server), and prints what was flagged.

    Example: wirewatch demo
    """
    from crawler.demo.server import DemoSite, demo_seed_text

    folder = keep or Path(tempfile.mkdtemp(prefix="wirewatch-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "demo.toml"
    config_file.write_text(
        '[storage]\ndatabase = "demo.db"\n[crawl]\npolite = false\nallow_private_addresses = true\n'
        'contact = "wirewatch demo"\n[log]\nlevel = "WARNING"\n[alerts]\noutbox_dir = "outbox"\n'
    )
    config = _config(config_file, None)
    setup_logging(config.log_level)
    with DemoSite() as site:
        source = parse_source_text(demo_seed_text(site.base), "crawler/demo/seed.toml")
        try:
            watchlists = watchlists_of(config)
        except ConfigError as exc:
            raise ConfigFailure(exc) from None
        click.echo(f"serving the sample site at {site.base}; database {config.database}")
        result = run_once(config, [source], watchlists, config.database, trigger="demo")
    print_summary(result)
    send_alerts(config, digest=True, extra_sources=(source,))
    store = Store(config.database, readonly=True)
    try:
        rows = store.flagged(None, None)
    finally:
        store.close()
    click.echo("\nflagged stories:")
    _emit(rows, "table", ["id", "tier", "type", "score", "title"])
    click.echo(f"\nalert emails (.eml files): {config.alerts.outbox_dir}")
    click.echo(f"explore it: sqlite3 {config.database} 'SELECT id, published_at, title FROM articles'")
    sys.exit(result.exit_code)


# The watchlist, alert, daemon, probe and story commands live in their own modules and register on `main`.
from crawler import cli_alerts, cli_daemon, cli_probe, cli_stories, cli_watch  # noqa: E402, F401
