"""`wirewatch recluster`: group the stored articles into stories again."""

from __future__ import annotations

import time
from pathlib import Path

import click

from crawler.cli.common import common_options
from crawler.cli.errors import Command
from crawler.config.wirewatch import load_config
from crawler.runtime.regroup import regroup
from pipelines import flow


@click.command(cls=Command)
@common_options
def recluster(config_path: Path | None, db: Path | None) -> None:
    """Rebuild the stories (events) from every stored article, from scratch.

    Each new article joins a story as it is stored; run this after changing the grouping
    code or thresholds. It works in transactions of about half a second, so a crawl storing
    articles meanwhile waits at most about that long (its new articles are grouped, and their
    alerts queued, when the rebuild reaches them), and queries never wait. Interrupted, it
    carries on where it stopped when run again; until then new articles wait for it.

    Example: wirewatch recluster --db /var/lib/wirewatch/wirewatch.db
    """
    config = load_config(config_path, db)
    started = time.monotonic()
    shown = [started]

    def progress(counts: flow.Regrouped, left: int) -> None:
        if time.monotonic() - shown[0] >= 10:
            shown[0] = time.monotonic()
            click.echo(f"  {counts.articles} articles regrouped, {left} to go", err=True)

    counts = regroup(config, progress)
    click.echo(
        f"{counts.articles} articles in {counts.stories} stories "
        f"({counts.duplicate} wire copies, {counts.event} other versions of an event) "
        f"in {time.monotonic() - started:.1f} s"
        + (f"; {counts.alerted} alerts queued for articles stored meanwhile" if counts.alerted else "")
    )
