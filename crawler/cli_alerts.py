"""`wirewatch alerts ...`: send, digest, list, retry (registered on the `wirewatch` group)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tabulate import tabulate

from crawler.cli import _config, common_options, main
from crawler.notify import send_alerts
from pipelines.store import Store


@main.group()
def alerts() -> None:
    """Alert emails: core flags one by one, mentions in a digest, nothing twice.

    `wirewatch run` sends due alerts after each crawl; these commands act on demand.

    Example: wirewatch alerts list --failed
    """


@alerts.command()
@common_options
def send(config_path: Path | None, db: Path | None) -> None:
    """Send every due alert now (and retry those whose backoff has passed).

    Example: wirewatch alerts send --config /etc/wirewatch/wirewatch.toml
    """
    result = send_alerts(_config(config_path, db))
    sys.exit(0 if not (result.failed or result.retrying) else 4)


@alerts.command()
@common_options
def digest(config_path: Path | None, db: Path | None) -> None:
    """Gather each recipient's waiting mentions into one digest email and send it.

    Run it at your cadence: from cron (e.g. daily at 08:00) or from the daemon's schedule.

    Example: wirewatch alerts digest
    """
    result = send_alerts(_config(config_path, db), digest=True)
    sys.exit(0 if not (result.failed or result.retrying) else 4)


@alerts.command(name="list")
@common_options
@click.option("--failed", "status", flag_value="failed", help="Only failed alerts.")
@click.option("--pending", "status", flag_value="pending", help="Only alerts waiting to be sent.")
@click.option("--sent", "status", flag_value="sent", help="Only sent alerts.")
def list_alerts(config_path: Path | None, db: Path | None, status: str | None) -> None:
    """List alerts with their status, attempts and the mail server's last reply.

    Example: wirewatch alerts list --failed
    """
    store = Store(_config(config_path, db).database, readonly=True)
    try:
        rows = store.alert_listing(status)
    finally:
        store.close()
    columns = [
        "id",
        "status",
        "kind",
        "recipient",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "title",
    ]
    click.echo(tabulate([[str(r.get(c) or "")[:70] for c in columns] for r in rows], headers=columns))


@alerts.command()
@common_options
@click.argument("ids", nargs=-1, type=int)
def retry(config_path: Path | None, db: Path | None, ids: tuple[int, ...]) -> None:
    """Re-queue failed alerts (the given ids, or all failed ones) for the next send.

    Example: wirewatch alerts retry 12 13
    """
    store = Store(_config(config_path, db).database)
    try:
        count = store.retry_alerts(list(ids))
    finally:
        store.close()
    click.echo(f"{count} alert(s) queued again")
