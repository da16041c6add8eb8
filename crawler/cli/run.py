"""`wirewatch run` and `wirewatch demo`: one crawl cycle, on the configured sources or the sample site."""

from __future__ import annotations

import re
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tabulate import tabulate

from crawler.cli.alerts import send_alerts
from crawler.cli.common import (
    chosen_sources,
    common_options,
    emit,
    open_reader,
    open_writer,
    setup_logging,
    watchlists_of,
)
from crawler.cli.errors import Command
from crawler.config.seeds import parse_source_text
from crawler.config.wirewatch import load_config
from crawler.runtime import health
from crawler.runtime.progress import on_terminal
from crawler.runtime.regroup import finish_interrupted
from pipelines.store import RunLock, lock_path

if TYPE_CHECKING:
    from crawler.runtime.run import RunResult


def print_summary(result: RunResult) -> None:
    """One row per source (requests, pages, new and flagged articles, errors), then the run's status."""
    rows = [
        [
            r.source,
            f"blocked (bot protection: {r.blocked})" if r.blocked else r.status,
            r.requests,
            r.pages_fetched,
            r.not_modified,
            r.new_articles,
            r.flagged,
            r.known_skipped,
            r.extraction_failures,
            r.dead_links,
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
        "dead links",
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


@click.command(cls=Command)
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
def run(config_path: Path | None, db: Path | None, source_names: tuple[str, ...], trigger: str) -> int:
    """Crawl every source once, store new articles, group and flag them; suits cron.

    One run at a time per database: a run that finds another one holding the lock file beside
    the database exits at once with code 5. A lock left by a killed run never blocks. On a
    terminal, each source's progress is shown live on standard error while it runs.

    Example: wirewatch run --config /etc/wirewatch/wirewatch.toml --source app
    """
    config = load_config(config_path, db)
    setup_logging(config.log_level)
    chosen, watchlists = chosen_sources(config, source_names)
    # The lock covers the run and everything done after it, alert delivery included.
    with RunLock(lock_path(config.database), trigger):
        from crawler.runtime.run import run_once  # Scrapy: loaded by the commands that crawl

        # Live per-source lines on a terminal; never under cron, systemd or the daemon.
        live = on_terminal() and trigger != "daemon"
        result = run_once(config, chosen, watchlists, config.database, trigger=trigger, live=live)
        print_summary(result)
        if result.status != "interrupted":
            finish_interrupted(config)
            with closing(open_writer(config)) as store:
                for line in health.watch(store, config.alerts, [s.id for s in chosen], datetime.now(UTC)):
                    click.echo(f"source state: {line}", err=True)
            send_alerts(config)
    return result.exit_code


@click.command(cls=Command)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo database in this folder instead of a temporary one.",
)
def demo(keep: Path | None) -> int:
    """Run the whole pipeline on a bundled sample site served on loopback; no internet needed.

    Serves a small WordPress-style news site on 127.0.0.1, crawls it into a fresh database
    with politeness off (it is our own server), and prints what was flagged.

    Example: wirewatch demo
    """
    from crawler.demo.server import DemoSite, demo_seed_text
    from crawler.runtime.run import run_once

    folder = keep or Path(tempfile.mkdtemp(prefix="wirewatch-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "demo.toml"
    config_file.write_text(
        '[storage]\ndatabase = "demo.db"\n[crawl]\npolite = false\nallow_private_addresses = true\n'
        'contact = "wirewatch demo"\n[log]\nlevel = "WARNING"\n[alerts]\noutbox_dir = "outbox"\n'
    )
    config = load_config(config_file, None)
    setup_logging(config.log_level)
    with DemoSite() as site:
        source = parse_source_text(demo_seed_text(site.base), "crawler/demo/seed.toml")
        watchlists = watchlists_of(config)
        click.echo(f"serving the sample site at {site.base}; database {config.database}")
        result = run_once(config, [source], watchlists, config.database, trigger="demo", live=on_terminal())
    print_summary(result)
    send_alerts(config, digest=True, extra_sources=(source,))
    with closing(open_reader(config)) as store:
        rows = store.flagged(None, None)
    click.echo("\nflagged stories:")
    emit(rows, "table", ["id", "tier", "type", "score", "title"])
    click.echo(f"\nalert emails (.eml files): {config.alerts.outbox_dir}")
    click.echo(f"explore it: sqlite3 {config.database} 'SELECT id, published_at, title FROM articles'")
    return result.exit_code
