"""Reading what is stored: `wirewatch flagged`, `search` and `explain`."""

from __future__ import annotations

import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import click

from crawler.cli.common import FORMAT, common_options, emit, open_reader, parse_since, watchlists_of
from crawler.cli.errors import Command
from crawler.config.wirewatch import load_config


@click.command(cls=Command)
@common_options
@click.option(
    "--since",
    default="7d",
    show_default=True,
    help="Only stories with an article published this recently (e.g. 12h, 7d).",
)
@click.option("--watchlist", help="Only this watchlist.")
@FORMAT
@click.option("--limit", default=500, show_default=True, help="At most this many rows.")
def flagged(
    config_path: Path | None, db: Path | None, since: str, watchlist: str | None, fmt: str, limit: int
) -> None:
    """List flagged stories (events), newest first: one row per story, with its outlets.

    `id` is the story's first flagged article (for `wirewatch explain`), `articles` how many
    copies and versions of it are stored.

    Example: wirewatch flagged --since 24h --watchlist cpec-security --format csv
    """
    config = load_config(config_path, db)
    with closing(open_reader(config)) as store:
        rows = store.flagged(parse_since(since), watchlist, limit)
    emit(
        rows,
        fmt,
        ["id", "published_at", "tier", "type", "score", "story", "articles", "outlets", "title", "url"],
    )


@click.command(cls=Command)
@common_options
@click.argument("query")
@click.option("--limit", default=50, show_default=True)
@FORMAT
@click.option(
    "--order",
    type=click.Choice(["recent", "relevance"]),
    default="recent",
    show_default=True,
    help="Newest stored first, or best match first (bm25, among the newest 20,000 matches).",
)
def search(config_path: Path | None, db: Path | None, query: str, limit: int, fmt: str, order: str) -> None:
    """Full-text search of stored articles (SQLite FTS5 syntax: words, "phrases", OR, NOT, prefix*).

    \b
    Example: wirewatch search '"Chinese nationals" AND (attack OR convoy)' --order relevance
    """
    config = load_config(config_path, db)
    with closing(open_reader(config)) as store:
        rows = store.search(query, limit, order)
    emit(rows, fmt, ["id", "published_at", "source", "title", "snippet", "url"])


@click.command(cls=Command)
@common_options
@click.argument("article")
def explain(config_path: Path | None, db: Path | None, article: str) -> None:
    """Show why a stored article was flagged: rules, terms, entities and sentences.

    ARTICLE is the article id or its URL. An article no watchlist flagged is scored with the
    current rules, to show how far it is from a flag.

    Example: wirewatch explain 42
    """
    config = load_config(config_path, db)
    with closing(open_reader(config)) as store:
        row = store.article(article)
        if row is None:
            raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
        flags = store.flags_of(row["id"])
    click.echo(
        f"[{row['id']}] {row['title']}\n{row['url']}\n{row['source']}, published {row['published_at']}"
    )
    if not flags:
        click.echo("\nnot flagged. With the current rules:")
        for w in watchlists_of(config):
            verdict = w.classify(row["title"], row["text"])
            _print_flag(w.name, verdict.tier, verdict.type, verdict.score, verdict.reasons)
    for flag in flags:
        _print_flag(flag["watchlist"], flag["tier"], flag["type"], flag["score"], json.loads(flag["reasons"]))


def _print_flag(
    name: str, tier: str | None, kind: str | None, score: float, reasons: list[dict[str, Any]]
) -> None:
    click.echo(f"\n{name}: {tier or 'not flagged'}{f' ({kind})' if kind else ''}, score {score}")
    for reason in reasons:
        click.echo(f"  rule {reason['rule']} +{reason['score']}")
        if reason.get("terms"):
            click.echo(f"    terms: {', '.join(reason['terms'])}")
        if reason.get("entities"):
            click.echo(f"    entities: {', '.join(reason['entities'])}")
        for sentence in reason.get("sentences", []):
            click.echo(f"    > {sentence}")
    sys.stdout.flush()
