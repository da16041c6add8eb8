"""`wirewatch report`: a period's brief as one self-contained HTML page with charts."""

from __future__ import annotations

import sys
from contextlib import closing
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import click

from crawler.cli.common import common_options, open_reader
from crawler.cli.errors import Command
from crawler.config.seeds import load_sources
from crawler.config.wirewatch import load_config
from pipelines.core.validation import parse_duration
from pipelines.report import Period, build
from pipelines.watch.entities import load_gazetteer


def _day(value: str, option: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time())
    except ValueError:
        raise click.BadParameter(
            f"expected a day like 2026-11-24, got {value!r}", param_hint=option
        ) from None


@click.command(cls=Command)
@common_options
@click.option(
    "--since", default="7d", show_default=True, help="The period: this far back to now (e.g. 7d, 24h)."
)
@click.option(
    "--from", "start", metavar="DAY", help="First day of the period (YYYY-MM-DD, alerts' time zone)."
)
@click.option("--to", "end", metavar="DAY", help="Last day of the period, included (default: today).")
@click.option("--watchlist", help="Only this watchlist's flags.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here ('-': standard output)."
)
def report(
    config_path: Path | None,
    db: Path | None,
    since: str,
    start: str | None,
    end: str | None,
    watchlist: str | None,
    out: Path | None,
) -> None:
    """Write the brief of a period: core and mention stories per day by type, by place and
    outlet (charts), against the previous period, every core story with its outlets and the
    sentences that flagged it, and the sources' health. One HTML file that opens offline.

    Example: wirewatch report --from 2026-11-23 --to 2026-11-29 --out brief.html
    """
    config = load_config(config_path, db)
    zone = config.alerts.zone
    if start or end:
        last = _day(end, "--to") if end else datetime.now(zone).replace(tzinfo=None)
        first = _day(start, "--from") if start else last - timedelta(days=6)
        period = Period(
            first.replace(tzinfo=zone).astimezone(UTC),
            datetime.combine(last.date() + timedelta(days=1), time(), zone).astimezone(UTC),
        )
        if period.end <= period.start:
            raise click.BadParameter("--from must not be after --to", param_hint="--from")
    else:
        try:
            span = parse_duration(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
        now = datetime.now(UTC)
        period = Period(now - span, now)
    titles = {s.id: s.title for s in load_sources(config.source_paths)}
    with closing(open_reader(config)) as store:
        page = build(store, period, zone, watchlist, load_gazetteer(config.gazetteer), titles)
    if out is not None and str(out) == "-":
        sys.stdout.write(page)
        return
    target = out or Path(f"wirewatch-brief-{period.start.astimezone(zone):%Y-%m-%d}.html")
    target.write_text(page, encoding="utf-8")
    click.echo(f"brief written to {target}", err=True)
