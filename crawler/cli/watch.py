"""The watchlists on demand: `wirewatch classify`, `evaluate` (a file or the desk's labels), `rescore`."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.cli.common import (
    chosen_watchlists,
    common_options,
    open_reader,
    open_writer,
    parse_since,
    setup_logging,
)
from crawler.cli.errors import Command
from crawler.config.wirewatch import load_config
from crawler.runtime.progress import Progress
from pipelines import flow
from pipelines.core.validation import ConfigError
from pipelines.watch.evaluate import Report, examples_of, read_labelled
from pipelines.watch.evaluate import evaluate as run_evaluation


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


@click.command(cls=Command)
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--watchlist", help="Only this watchlist (default: all).")
def classify(file: Any, config_path: Path | None, watchlist: str | None) -> None:
    """Classify stories without crawling: one JSON line out per story and watchlist.

    FILE holds JSON lines with "title" and "text" (and optionally "id"), or one plain-text
    story (first line the title) or one HTML page; "-" (the default) reads standard input.

    \b
    Example: echo '{"id": 1, "title": "Convoy attacked", "text": "..."}' | wirewatch classify
    """
    watchlists = chosen_watchlists(load_config(config_path, None), watchlist)
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


@click.command(cls=Command)
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@common_options
@click.option("--from-db", is_flag=True, help="Measure on the desk's labels (`wirewatch label`) instead.")
@click.option("--since", help="With --from-db: only labels recorded this recently (e.g. 30d).")
@click.option("--watchlist", default="cpec-security", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for machines.")
def evaluate(
    labels: Path | None,
    config_path: Path | None,
    db: Path | None,
    from_db: bool,
    since: str | None,
    watchlist: str,
    as_json: bool,
) -> None:
    """Measure a watchlist on hand-labelled stories: recall, precision, the errors and why.

    LABELS is JSON lines with id, title, text, label (2 core, 1 mention, 0 not relevant),
    type and source, like ../shared/eval/cpec-dev.jsonl; or, with --from-db, the labels the
    desk recorded with `wirewatch label`. Figures are given overall and per source.

    \b
    Example: wirewatch evaluate ../shared/eval/cpec-dev.jsonl --watchlist cpec-security
    """
    if (labels is None) == (not from_db):
        raise click.UsageError("give a LABELS file or --from-db (one of them)")
    if since and not from_db:
        raise click.BadParameter("only with --from-db", param_hint="--since")
    config = load_config(config_path, db)
    (chosen,) = chosen_watchlists(config, watchlist)
    if labels is None:
        with closing(open_reader(config)) as store:
            examples = examples_of(store.labelled(parse_since(since)))
        where = f"the desk's labels in {config.database}"
    else:
        try:
            examples = read_labelled(labels)
        except ConfigError as exc:  # the file is an argument: a usage error (2), not a config error (3)
            raise click.BadParameter(
                "\n  ".join(["not a labels file:", *exc.problems]), param_hint="LABELS"
            ) from None
        where = str(labels)
    report = run_evaluation(chosen, examples)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    _print_report(report, where)


_FIGURES = (
    ("core recall", "core_recall"),
    ("core at core", "core_at_core"),
    ("precision", "precision"),
    ("mention recall", "mention_recall"),
    ("type accuracy", "type_accuracy"),
)


def _print_report(report: Report, where: str) -> None:
    columns = {"all": report.overall, **report.by_source}
    click.echo(f"watchlist {report.watchlist} on {where} ({report.overall.stories} stories)")
    click.echo(" " * 18 + "".join(f"{name[:8]:>9}" for name in columns))
    for label, key in _FIGURES:
        click.echo(f"  {label:16}" + "".join(f"{getattr(f, key):9.3f}" for f in columns.values()))
    click.echo(f"  {'stories':16}" + "".join(f"{f.stories:9}" for f in columns.values()))
    for name, figures in columns.items() if len(columns) > 2 else [("all", report.overall)]:
        click.echo(f"\n  {name}: label \\ flagged   core  mention  none")
        for label, row in figures.confusion.items():
            click.echo(f"  {label:21} {row['core']:5} {row['mention']:8} {row['none']:5}")
    if report.errors:
        click.echo(f"\n{len(report.errors)} misclassified:")
    for error in report.errors:
        source = f" [{error['source']}]" if error["source"] else ""
        click.echo(
            f"\n  {error['id']}{source}  {error['problem']} (score {error['score']}): {error['title']}"
        )
        for reason in error["reasons"]:
            click.echo(
                f"      {reason['rule']} +{reason['score']}: "
                + ", ".join(reason["terms"] + reason["entities"])
            )


@click.command(cls=Command)
@common_options
@click.option("--watchlist", help="Only this watchlist (default: all).")
@click.option("--since", help="Only stories published this recently (e.g. 30d); default: all.")
def rescore(config_path: Path | None, db: Path | None, watchlist: str | None, since: str | None) -> None:
    """Re-apply the current watchlist rules to stored stories and update their flags.

    Fix a rule, then see its effect on history: new flags are added, changed ones updated,
    and flags the rules no longer give are removed.

    Example: wirewatch rescore --watchlist cpec-security --since 90d
    """
    config = load_config(config_path, db)
    watchlists = chosen_watchlists(config, watchlist)
    setup_logging(config.log_level)
    start = parse_since(since)
    with (
        closing(open_writer(config)) as store,
        Progress("rescore", "articles", store.count_articles(start)) as bar,
    ):
        changes = flow.rescore(store, watchlists, start, config.alerts, lambda n: bar.advance(n))
    for name, counts in changes.items():
        click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
