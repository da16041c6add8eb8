"""`wirewatch recluster`: group stored articles into stories again (registered on `wirewatch`)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from crawler.cli import _config, common_options, main
from pipelines.store.database import Store


@main.command()
@common_options
def recluster(config_path: Path | None, db: Path | None) -> None:
    """Rebuild the stories (events) from every stored article, from scratch.

    Each new article joins a story as it is stored; run this after changing the clustering
    code or thresholds. It holds the database's write lock while it works (a few
    milliseconds per article), so a run started meanwhile waits for it.

    Example: wirewatch recluster --db /var/lib/wirewatch/wirewatch.db
    """
    store = Store(_config(config_path, db).database)
    started = time.monotonic()
    try:
        counts = store.recluster()
    finally:
        store.close()
    click.echo(
        f"{counts['articles']} articles in {counts['stories']} stories "
        f"({counts['duplicate']} wire copies, {counts['event']} other versions of an event) "
        f"in {time.monotonic() - started:.1f} s"
    )
