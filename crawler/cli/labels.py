"""The desk's labels: `wirewatch label` records a judgement, `wirewatch labels export` shares them."""

from __future__ import annotations

import getpass
import json
from contextlib import closing
from pathlib import Path

import click

from crawler.cli.common import common_options, open_reader, open_writer, parse_since
from crawler.cli.errors import Command, Group
from crawler.config.wirewatch import load_config
from pipelines.watch.evaluate import LABEL_NUMBERS, labelled_row


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password database
        return "unknown"


@click.command(cls=Command)
@common_options
@click.argument("article")
@click.argument("label", type=click.Choice(list(LABEL_NUMBERS)))
@click.option("--note", help="Why, in a few words (kept with the label and exported).")
@click.option("--type", "kind", type=click.Choice(["incident", "measures"]), help="For core and mention.")
@click.option("--who", default=_login, show_default="your login", help="Who judged.")
def label(
    config_path: Path | None,
    db: Path | None,
    article: str,
    label: str,
    note: str | None,
    kind: str | None,
    who: str,
) -> None:
    """Record the desk's judgement of an article: core, mention or not (relevant).

    ARTICLE is the article id (alert emails show it) or its URL. A later judgement of the
    same article replaces the earlier one. `wirewatch evaluate --from-db` measures the
    watchlist on these labels; `wirewatch labels export` writes them in the eval format.

    Example: wirewatch label 42 not --note "a rocket launch, not an attack"
    """
    config = load_config(config_path, db)
    with closing(open_writer(config)) as store:
        row = store.article(article)
        if row is None:
            raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
        store.set_label(row["id"], LABEL_NUMBERS[label], who, note, kind if label != "not" else None)
    click.echo(f"[{row['id']}] {row['title']}: {label}")


@click.group(cls=Group)
def labels() -> None:
    """The desk's labels, to share and measure.

    Example: wirewatch labels export --since 90d > desk-labels.jsonl
    """


@labels.command()
@common_options
@click.option("--since", help="Only labels recorded this recently (e.g. 90d); default: all.")
def export(config_path: Path | None, db: Path | None, since: str | None) -> None:
    """Write the labels as JSON lines in the eval format (id, url, published, source, title,
    text, label, type; and note, who, labelled_at), to share or to give to `wirewatch evaluate`.

    Example: wirewatch labels export --since 30d > labels.jsonl
    """
    config = load_config(config_path, db)
    with closing(open_reader(config)) as store:
        rows = store.labelled(parse_since(since))
    for row in rows:
        click.echo(json.dumps(labelled_row(row), ensure_ascii=False))
