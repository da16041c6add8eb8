"""`wirewatch report`: a period's brief as one self-contained HTML page with charts."""

from __future__ import annotations

import sys
from contextlib import closing
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from crawler.cli.alerts import send_alerts
from crawler.cli.common import common_options, open_reader, open_writer
from crawler.cli.errors import Command
from crawler.config.seeds import load_sources
from crawler.config.wirewatch import Config, load_config
from crawler.runtime.exits import EXIT_OK, EXIT_SOURCES_FAILED
from pipelines.alerts import outbox
from pipelines.core.validation import parse_duration
from pipelines.report import Period, build
from pipelines.watch.entities import Gazetteer, load_gazetteer


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
@click.option(
    "--send",
    is_flag=True,
    help="Mail it to the routes whose tiers list 'report' (once per period), instead of writing a file.",
)
def report(
    config_path: Path | None,
    db: Path | None,
    since: str,
    start: str | None,
    end: str | None,
    watchlist: str | None,
    out: Path | None,
    send: bool,
) -> int | None:
    """Write the brief of a period: core and mention stories per day by type, by place and
    outlet (charts), against the previous period, every core story with its outlets and the
    sentences that flagged it, and the sources' health. One HTML file that opens offline.

    --send mails it instead (by default the seven whole days before today), charts as inline
    images, through the alerts outbox (once per recipient and period, retried; .eml files when
    no SMTP server is configured); the daemon does this on `[schedule] report`.

    Example: wirewatch report --from 2026-11-23 --to 2026-11-29 --out brief.html
    """
    config = load_config(config_path, db)
    zone = config.alerts.zone
    if send and not (start or end):  # whole days, so a second send the same day sends nothing new
        end = (datetime.now(zone) - timedelta(days=1)).strftime("%Y-%m-%d")
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
    gazetteer = load_gazetteer(config.gazetteer)
    if send:
        return _send(config, period, zone, gazetteer, titles)
    with closing(open_reader(config)) as store:
        page = build(store, period, zone, watchlist, gazetteer, titles)
    if out is not None and str(out) == "-":
        sys.stdout.write(page)
        return None
    target = out or Path(f"wirewatch-brief-{period.start.astimezone(zone):%Y-%m-%d}.html")
    target.write_text(page, encoding="utf-8")
    click.echo(f"brief written to {target}", err=True)
    return None


def _send(
    config: Config, period: Period, zone: ZoneInfo, gazetteer: Gazetteer, titles: dict[str, str]
) -> int:
    """Queue the brief for the routes that want it and deliver what is due."""
    if not any("report" in route.tiers for route in config.alerts.routes):
        raise click.ClickException(
            'no route lists the "report" tier in [alerts] routes: nobody to send it to'
        )
    with closing(open_writer(config)) as store:
        queued, again = outbox.queue_reports(
            store,
            config.alerts,
            period.start,
            period.end,
            lambda watchlist: build(store, period, zone, watchlist, gazetteer, titles),
        )
    if again:
        click.echo(f"brief: {again} recipient(s) already had this period's brief queued", err=True)
    click.echo(f"brief: queued for {queued} recipient(s)", err=True)
    result = send_alerts(config)
    return EXIT_SOURCES_FAILED if result.failed or result.retrying else EXIT_OK
