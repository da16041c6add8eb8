"""`wirewatch recluster`: group the stored articles into stories again; `wirewatch stories
evaluate`: measure grouping on a labelled week."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import click

from crawler.cli.common import common_options, setup_logging
from crawler.cli.errors import Command, Group
from crawler.config.wirewatch import load_config
from crawler.runtime.progress import Progress
from crawler.runtime.regroup import group_week, regroup
from pipelines import flow
from pipelines.core.validation import ConfigError
from pipelines.stories.evaluate import read_week, score


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
    setup_logging(config.log_level)
    started = time.monotonic()
    with Progress("recluster", "articles", counters=("stories",)) as bar:

        def progress(counts: flow.Regrouped, left: int) -> None:
            bar.update(counts.articles, counts.articles + left, stories=counts.stories)

        counts = regroup(config, progress)
    click.echo(
        f"{counts.articles} articles in {counts.stories} stories "
        f"({counts.duplicate} wire copies, {counts.event} other versions of an event) "
        f"in {time.monotonic() - started:.1f} s"
        + (f"; {counts.alerted} alerts queued for articles stored meanwhile" if counts.alerted else "")
    )


@click.group(cls=Group)
def stories() -> None:
    """Stories: the events that group articles of many outlets.

    Example: wirewatch stories evaluate ../shared/eval/stories-week
    """


@stories.command(cls=Command)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--shuffle", type=int, metavar="SEED", help="Store the articles in a random order (this seed).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for machines.")
def evaluate(folder: Path, shuffle: int | None, as_json: bool) -> None:
    """Measure grouping on a labelled week: pairwise precision and recall, false and missed pairs.

    FOLDER holds articles.jsonl (id, source, url, published, title, text) and pairs.jsonl
    (a, b, same, agreed), like ../shared/eval/stories-week. The articles are stored in file
    order (or shuffled) in a fresh temporary database and grouped as a crawl groups them;
    pairs are counted across outlets, unlisted pairs as different, split ones left out.

    \b
    Example: wirewatch stories evaluate ../shared/eval/stories-week
    """
    try:
        week = read_week(folder)
    except ConfigError as exc:  # the folder is an argument: a usage error (2)
        raise click.BadParameter(
            "\n  ".join(["not a labelled week:", *exc.problems]), param_hint="FOLDER"
        ) from None
    articles = list(week.articles)
    if shuffle is not None:
        random.Random(shuffle).shuffle(articles)
    started = time.monotonic()
    report = score(week, group_week(articles))
    elapsed = time.monotonic() - started
    if as_json:
        click.echo(
            json.dumps({**report.as_dict(), "seconds": round(elapsed, 2)}, ensure_ascii=False, indent=1)
        )
        return
    grouped = report.true_pairs + len(report.false_pairs)
    click.echo(f"{report.articles} articles in {report.stories} stories ({elapsed:.1f} s), {folder}")
    click.echo(
        f"  precision  {report.precision:.3f}  ({report.true_pairs} of {grouped} cross-outlet pairs grouped)"
    )
    click.echo(f"  recall     {report.recall:.3f}  ({report.true_pairs} of {report.judged_same} judged same)")
    for heading, pairs in (("grouped but different", report.false_pairs), ("missed", report.missed_pairs)):
        if pairs:
            click.echo(f"\n{len(pairs)} {heading}:")
        for pair in pairs:
            click.echo(f"  {pair['a']} {pair['b']}\n      {pair['titles'][0]}\n      {pair['titles'][1]}")
