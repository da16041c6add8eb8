"""`wirewatch sources probe [NAME ...]`: a live check of the sources (registered on `sources`)."""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path

import click

from crawler.cli import _config, chosen_sources, common_options, setup_logging, sources
from crawler.runtime.run import EXIT_SOURCES_FAILED


@sources.command()
@common_options
@click.argument("names", nargs=-1, metavar="[NAME]...")
def probe(config_path: Path | None, db: Path | None, names: tuple[str, ...]) -> None:
    """Fetch each feed, sitemap and listing of the sources (or of NAME) and report what they
    hold: HTTP status, story links, the newest date, and for the newest few links whether a
    story extracts (title, length, where its date came from). Polite, like a run, and writes
    nothing. Run it where the internet is reachable before trusting a seed file; exit code 4
    when anything failed.

    Example: wirewatch sources probe dawn
    """
    from crawler.discovery.probe import probe as run_probe

    config = _config(config_path, db)
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
    sys.exit(EXIT_SOURCES_FAILED if failed else 0)
