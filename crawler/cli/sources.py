"""The sources: `wirewatch sources` (how their last run went), `sources probe` (live) and `check`."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from crawler.cli.common import (
    chosen_sources,
    common_options,
    open_reader,
    setup_logging,
    source_state,
    watchlists_of,
)
from crawler.cli.errors import Command, Group
from crawler.config.seeds import load_sources
from crawler.config.wirewatch import check_schedule_sources, load_config
from crawler.fetch.browser import browser_problem
from crawler.runtime.exits import EXIT_OK, EXIT_SOURCES_FAILED
from pipelines.core.validation import ConfigError
from pipelines.extract.modes import describe


@click.group(cls=Group, invoke_without_command=True)
@common_options
@click.pass_context
def sources(ctx: click.Context, config_path: Path | None, db: Path | None) -> None:
    """List the configured sources and how their last run went; `sources probe` checks them live.

    Example: wirewatch sources --config /etc/wirewatch/wirewatch.toml
    """
    if ctx.invoked_subcommand is not None:
        return
    config = load_config(config_path, db)
    configured = load_sources(config.source_paths)
    watchlists_of(config)  # a broken watchlist is a config error here too
    last: dict[str, dict[str, Any]] = {}
    learnt: dict[str, dict[str, Any]] = {}
    if config.database.exists():
        with closing(open_reader(config)) as store:
            last = store.last_runs()
            learnt = store.extraction_evidence()
    rows = []
    for s in configured:
        info = last.get(s.id, {})
        rows.append(
            [
                s.id,
                "yes" if s.enabled else "no",
                s.title,
                info.get("started_at", "never"),
                source_state(info),
                info.get("new_articles", ""),
                len(json.loads(info.get("errors") or "[]")),
                describe(s.fallback, learnt.get(s.id)),
                s.file,
            ]
        )
    click.echo(
        tabulate(
            rows,
            headers=[
                "id",
                "enabled",
                "title",
                "last run",
                "status",
                "new",
                "errors",
                "extraction",
                "seed file",
            ],
        )
    )


@sources.command()
@common_options
@click.argument("names", nargs=-1, metavar="[NAME]...")
def probe(config_path: Path | None, db: Path | None, names: tuple[str, ...]) -> int:
    """Fetch each feed, sitemap and listing of the sources (or of NAME) and report what they
    hold: HTTP status, article links, the newest date, and for the newest few links whether an
    article extracts (title, length, where its date came from). Polite, like a run, and writes
    nothing. Run it where the internet is reachable before trusting a seed file; exit code 4
    when anything failed.

    Example: wirewatch sources probe dawn
    """
    from crawler.discovery.probe import probe as run_probe

    config = load_config(config_path, db)
    setup_logging(config.log_level)
    chosen, _ = chosen_sources(config, names)
    lines = run_probe(config, chosen)
    failed = 0
    for source in chosen:
        click.echo(f"{source.id} ({source.title})")
        mine = [line for line in lines if line.source == source.id]
        for line in (x for x in mine if x.kind != "article"):
            failed += not line.ok
            newest = f"newest {line.newest.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if line.newest else "no dates"
            items = f"{line.items} items, {newest}" if line.items is not None else ""
            click.echo(
                f"  {'ok  ' if line.ok else 'FAIL'} {line.kind:8} {line.status:10} {items}  {line.url}"
            )
            if line.note:
                click.echo(f"       {line.note}")
            for article in (x for x in mine if x.kind == "article" and x.via == line.url):
                failed += not article.ok
                mark = "ok  " if article.ok else "FAIL"
                click.echo(
                    f"       {mark} article {article.status:6} {article.url}\n              {article.note}"
                )
    click.echo(f"{len(lines)} URLs probed, {failed} failed")
    return EXIT_SOURCES_FAILED if failed else EXIT_OK


@click.command(cls=Command)
@common_options
def check(config_path: Path | None, db: Path | None) -> None:
    """Validate the config (its schedules too), every seed file and every watchlist; report all problems.

    Example: wirewatch check --config /etc/wirewatch/wirewatch.toml
    """
    config = load_config(config_path, db)
    problems: list[str] = []
    found: dict[str, int] = {}
    for name, loader, paths in (
        ("sources", load_sources, config.source_paths),
        ("watchlists", lambda _: watchlists_of(config), config.watchlist_paths),
    ):
        try:  # every file's problems, not only the first file's
            found[name] = len(loader(paths))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if not problems:
        seeds = load_sources(config.source_paths)
        try:
            check_schedule_sources(config, [s.id for s in seeds])
        except ConfigError as exc:
            problems.extend(exc.problems)
        problems.extend(p for p in (browser_problem(s, config.crawl) for s in seeds) if p)
    if problems:
        raise ConfigError(problems)
    click.echo(
        f"config OK: {found['sources']} sources, {found['watchlists']} watchlists, database {config.database}"
    )
