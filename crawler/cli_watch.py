"""Watchlist commands: classify, evaluate, rescore, explain (registered on the `wirewatch` group)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.cli import ConfigFailure, _config, _since, common_options, main, watchlists_of
from pipelines import flow
from pipelines.core.validation import ConfigError
from pipelines.store import Store
from pipelines.watch.evaluate import evaluate as run_evaluation
from pipelines.watch.evaluate import read_labelled
from pipelines.watch.watchlist import Watchlist


def _chosen(config_path: Path | None, name: str | None) -> list[Watchlist]:
    config = _config(config_path, None)
    try:
        watchlists = watchlists_of(config)
    except ConfigError as exc:
        raise ConfigFailure(exc) from None
    if name:
        watchlists = [w for w in watchlists if w.name == name]
        if not watchlists:
            raise click.BadParameter(f"no watchlist named {name!r}", param_hint="--watchlist")
    return watchlists


def _documents(stream: Any, name: str) -> list[dict[str, Any]]:
    """JSON lines with title and text (and optionally id); else one plain-text or HTML document."""
    raw = stream.read()
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    lines = [line for line in raw.splitlines() if line.strip()]
    if lines and lines[0].lstrip().startswith("{"):
        docs = []
        for number, line in enumerate(lines, 1):
            try:
                row = json.loads(line)
                docs.append(
                    {"id": row.get("id", number), "title": str(row["title"]), "text": str(row["text"])}
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise click.BadParameter(
                    f"{name}:{number}: expected a JSON object with title and text ({exc})"
                ) from None
        return docs
    if raw.lstrip()[:1] == "<":
        from pipelines.extract.page import ExtractionError, extract

        try:
            story = extract(raw, "file:///" + name, fetched_at=datetime.now(UTC), allowed_domains=())
        except ExtractionError as exc:
            raise click.BadParameter(f"{name}: no story in this HTML: {exc}") from None
        return [{"id": name, "title": story.title, "text": story.text}]
    title, _, text = raw.strip().partition("\n")
    return [{"id": name, "title": title.strip(), "text": text.strip()}]


@main.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--watchlist", help="Only this watchlist (default: all).")
def classify(file: Any, config_path: Path | None, watchlist: str | None) -> None:
    """Classify stories without crawling: one JSON line out per story and watchlist.

    FILE holds JSON lines with "title" and "text" (and optionally "id"), or one plain-text
    story (first line the title) or one HTML page; "-" (the default) reads standard input.

    Example: echo '{"id": 1, "title": "Convoy attacked", "text": "..."}' | wirewatch classify
    """
    watchlists = _chosen(config_path, watchlist)
    for doc in _documents(file, file.name):
        for w in watchlists:
            verdict = w.classify(doc["title"], doc["text"])
            out = {
                "id": doc["id"],
                "watchlist": w.name,
                "flagged": verdict.flagged,
                "tier": verdict.tier,
                "type": verdict.type,
                "score": verdict.score,
                "reasons": verdict.reasons,
            }
            click.echo(json.dumps(out, ensure_ascii=False))


@main.command()
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--watchlist", default="cpec-security", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for machines.")
def evaluate(labels: Path, config_path: Path | None, watchlist: str, as_json: bool) -> None:
    """Measure a watchlist on hand-labelled stories: recall, precision, the errors and why.

    LABELS is JSON lines with id, title, text, label (2 core, 1 mention, 0 not relevant)
    and type, like ../shared/eval/cpec-dev.jsonl.

    Example: wirewatch evaluate ../shared/eval/cpec-dev.jsonl --watchlist cpec-security
    """
    (chosen,) = _chosen(config_path, watchlist)
    try:
        examples = read_labelled(labels)
    except ConfigError as exc:
        raise click.BadParameter(
            "\n  ".join(["not a labels file:", *exc.problems]), param_hint="LABELS"
        ) from None
    report = run_evaluation(chosen, examples)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"watchlist {report.watchlist} on {labels} ({report.stories} stories)")
    click.echo(f"  core recall     {report.core_recall:.3f}")
    click.echo(f"  precision       {report.precision:.3f}")
    click.echo(f"  mention recall  {report.mention_recall:.3f}")
    click.echo(f"  type accuracy   {report.type_accuracy:.3f}")
    click.echo("\n  label \\ flagged   core  mention  none")
    for label, row in report.confusion.items():
        click.echo(f"  {label:16} {row['core']:5} {row['mention']:8} {row['none']:5}")
    if report.errors:
        click.echo(f"\n{len(report.errors)} misclassified:")
    for error in report.errors:
        click.echo(f"\n  {error['id']}  {error['problem']} (score {error['score']}): {error['title']}")
        for reason in error["reasons"]:
            click.echo(
                f"      {reason['rule']} +{reason['score']}: "
                + ", ".join(reason["terms"] + reason["entities"])
            )


@main.command()
@common_options
@click.option("--watchlist", help="Only this watchlist (default: all).")
@click.option("--since", help="Only stories published this recently (e.g. 30d); default: all.")
def rescore(config_path: Path | None, db: Path | None, watchlist: str | None, since: str | None) -> None:
    """Re-apply the current watchlist rules to stored stories and update their flags.

    Fix a rule, then see its effect on history: new flags are added, changed ones updated,
    and flags the rules no longer give are removed.

    Example: wirewatch rescore --watchlist cpec-security --since 90d
    """
    config = _config(config_path, db)
    watchlists = _chosen(config_path, watchlist)
    store = Store(config.database)
    try:
        changes = flow.rescore(store, watchlists, _since(since), config.alerts)
    finally:
        store.close()
    for name, counts in changes.items():
        click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@main.command()
@common_options
@click.argument("article")
def explain(config_path: Path | None, db: Path | None, article: str) -> None:
    """Show why a stored story was flagged: rules, terms, entities and sentences.

    ARTICLE is the article id or its URL. A story no watchlist flagged is scored with the
    current rules, to show how far it is from a flag.

    Example: wirewatch explain 42
    """
    config = _config(config_path, db)
    store = Store(config.database, readonly=True)
    try:
        row = store.article(article)
        if row is None:
            raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
        flags = store.flags_of(row["id"])
    finally:
        store.close()
    click.echo(
        f"[{row['id']}] {row['title']}\n{row['url']}\n{row['source']}, published {row['published_at']}"
    )
    if not flags:
        click.echo("\nnot flagged. With the current rules:")
        for w in _chosen(config_path, None):
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
