"""`wirewatch backfill`: a source's stories of a past window, from its sitemaps and listings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from tabulate import tabulate

from crawler.cli.common import chosen_sources, common_options, setup_logging
from crawler.cli.errors import Command
from crawler.config.wirewatch import load_config
from crawler.runtime.progress import on_terminal
from pipelines.core.dates import Window
from pipelines.store import backfill_lock


def parse_day(value: str, option: str, tz: ZoneInfo, end: bool = False) -> datetime:
    """A DATE option: YYYY-MM-DD, the start of that day in the source's timezone (with
    ``end``, the start of the next: --until includes its day); or an ISO 8601 time."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-01-31", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@click.command(cls=Command)
@common_options
@click.option("--source", "source_name", required=True, metavar="ID", help="The source to backfill.")
@click.option("--since", required=True, metavar="DATE", help="Oldest day to keep (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Newest day to keep (YYYY-MM-DD, included). Default: now.")
def backfill(
    config_path: Path | None, db: Path | None, source_name: str, since: str, until: str | None
) -> int:
    """Store a source's stories published in a window of the past, from its sitemaps (sitemap
    index entries chosen by lastmod) and its listings (followed back to --since, past their
    max_pages), politely, like a run: grouped into stories and flagged, but never alerted.
    Stories with no date of their own, nor in the sitemap or listing, are not kept; nor are
    stories within the source's max_age, which runs fetch and alert (the window ends there).

    Stopped (Ctrl-C, a crash, a kill), the same command goes on where it stopped: stored
    stories are not fetched again, nor sitemaps and listing pages whose stories were all
    stored. One backfill at a time per database (exit 5 otherwise); runs go on meanwhile.
    Recorded in the runs table (kind backfill), which health and failing streaks ignore.
    Exit codes as for run: 0 done, 4 some pages failed, 6 interrupted.

    \b
    Example: wirewatch backfill --source dawn --since 2024-01-01 --until 2024-06-30
    """
    config = load_config(config_path, db)
    setup_logging(config.log_level)
    (source,), watchlists = chosen_sources(config, (source_name,))
    tz = ZoneInfo(source.timezone)
    start = parse_day(since, "--since", tz)
    end = parse_day(until, "--until", tz, end=True) if until else datetime.now(UTC)
    # Stories within the runs' max_age are theirs to fetch and alert: stored by a backfill
    # first, a run would find them known and the desk would never hear of them.
    runs_reach = datetime.now(UTC) - (source.max_age or config.max_age)
    end = min(end, runs_reach)
    if start >= end:
        raise click.BadParameter(
            f"--since must come before --until and before {runs_reach:%Y-%m-%d %H:%M} UTC "
            f"(newer stories are left to `wirewatch run`, which alerts them: max_age)",
            param_hint="--since",
        )
    if not (source.sitemaps or source.listings):
        raise click.UsageError(f"source {source.id} has no sitemaps or listings to walk back (feeds only)")
    window = Window(start.astimezone(UTC), end.astimezone(UTC))
    with backfill_lock(config.database):
        from crawler.runtime.backfill import backfill as run_backfill  # Scrapy: loaded by commands that crawl

        done = run_backfill(config, source, watchlists, config.database, window, until is None, on_terminal())
    r, walk = done.result, done.walk
    headers = ["source", "status", "requests", "pages", "pages done", "in window", "new", "flagged"]
    headers += ["known", "outside", "undated", "no story", "errors"]
    row = [r.source, r.status, r.requests, walk.pages, walk.done, walk.found, r.new_articles, r.flagged]
    row += [r.known_skipped, done.outside, done.undated, r.extraction_failures, len(r.errors)]
    click.echo(tabulate([row], headers=headers))
    for error in r.errors[:20]:
        click.echo(f"  {r.source}: {error}", err=True)
    span = f"{window.since:%Y-%m-%d} to {window.until:%Y-%m-%d %H:%M} UTC"
    recorded = f"(run {done.run_id} in runs, kind backfill)"
    if done.finished:
        click.echo(f"backfill {source.id} {span}: {r.status} {recorded}")
    else:
        click.echo(
            f"backfill {source.id} {span}: interrupted {recorded}; the same command goes on where it stopped"
        )
    return done.exit_code
