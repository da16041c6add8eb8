"""`wirewatch export`: articles with their story and flags, as JSON lines or CSV, streamed."""

from __future__ import annotations

import csv
import json
import sys
from contextlib import closing, nullcontext
from pathlib import Path
from typing import IO, Any

import click

from crawler.cli.common import common_options, open_reader, parse_since
from crawler.cli.errors import Command
from crawler.config.wirewatch import load_config

COLUMNS = [
    "id",
    "url",
    "source",
    "title",
    "author",
    "published_at",
    "date_source",
    "fetched_at",
    "language",
    "story_id",
    "story_outlets",
    "story_articles",
    "flags",
    "text",
]


@click.command(cls=Command)
@common_options
@click.option("--since", help="Only articles published this recently (e.g. 30d); default: all.")
@click.option("--flagged", is_flag=True, help="Only articles a watchlist flagged.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: standard output)."
)
def export(
    config_path: Path | None, db: Path | None, since: str | None, flagged: bool, fmt: str, out: Path | None
) -> None:
    """Export articles with their story (id, outlets, size) and flags (watchlist, tier, type,
    score, reasons), one at a time: memory stays flat however many there are. JSON lines
    keep story_outlets and flags as JSON; CSV holds them as JSON text.

    Example: wirewatch export --since 30d --flagged --format csv --out flagged.csv
    """
    config = load_config(config_path, db)
    start = parse_since(since)
    target = out.open("w", encoding="utf-8", newline="") if out else nullcontext(sys.stdout)
    with closing(open_reader(config)) as store, target as stream:
        count = _write(store.export(start, flagged), fmt, stream)
    if out:
        click.echo(f"{count} articles written to {out}", err=True)


def _write(rows: Any, fmt: str, stream: IO[str]) -> int:
    count = 0
    writer = csv.DictWriter(stream, fieldnames=COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows:
        if writer is not None:
            writer.writerow(row)
        else:
            row["story_outlets"] = json.loads(row["story_outlets"] or "[]")
            row["flags"] = json.loads(row["flags"] or "[]")
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
