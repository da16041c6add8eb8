"""`wirewatch alerts ...` (send, digest, list, retry), and sending due alerts after a run."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click
from tabulate import tabulate

from crawler.cli.common import common_options, open_reader, open_writer
from crawler.cli.errors import Group
from crawler.config.seeds import Source, load_sources
from crawler.config.wirewatch import Config, load_config
from crawler.runtime.exits import EXIT_OK, EXIT_SOURCES_FAILED
from pipelines.alerts import outbox
from pipelines.alerts.delivery import Delivery, deliver, transport_for
from pipelines.core.validation import ConfigError


def send_alerts(config: Config, digest: bool = False, extra_sources: tuple[Source, ...] = ()) -> Delivery:
    """Deliver what is due (opening digests first when asked); report on stderr."""
    try:
        titles = {s.id: s.title for s in (*load_sources(config.source_paths), *extra_sources)}
    except ConfigError:
        titles = {s.id: s.title for s in extra_sources}
    with closing(open_writer(config)) as store:
        if digest:
            outbox.open_digests(store, config.alerts)
        result = deliver(store, config.alerts, transport_for(config.alerts, Path.cwd()), titles)
    where = (
        f"SMTP {config.alerts.smtp.host}:{config.alerts.smtp.port}"
        if config.alerts.smtp.host
        else f"folder {config.alerts.outbox_dir}"
    )
    if result.sent or result.retrying or result.failed:
        click.echo(
            f"alerts: {result.sent} sent to {where}, {result.retrying} to retry, {result.failed} failed",
            err=True,
        )
    for error in result.errors[:20]:
        click.echo(f"  {error}", err=True)
    return result


def _exit_code(result: Delivery) -> int:
    """4 when an alert failed or waits for a retry, as for a source with errors."""
    return EXIT_SOURCES_FAILED if result.failed or result.retrying else EXIT_OK


@click.group(cls=Group)
def alerts() -> None:
    """Alert emails: core flags one by one, mentions in a digest, nothing twice.

    `wirewatch run` sends due alerts after each crawl; these commands act on demand.

    Example: wirewatch alerts list --failed
    """


@alerts.command()
@common_options
def send(config_path: Path | None, db: Path | None) -> int:
    """Send every due alert now (and retry those whose backoff has passed).

    Example: wirewatch alerts send --config /etc/wirewatch/wirewatch.toml
    """
    return _exit_code(send_alerts(load_config(config_path, db)))


@alerts.command()
@common_options
def digest(config_path: Path | None, db: Path | None) -> int:
    """Gather each recipient's waiting mentions into one digest email and send it.

    Run it at your cadence: from cron (e.g. daily at 08:00) or from the daemon's schedule.

    Example: wirewatch alerts digest
    """
    return _exit_code(send_alerts(load_config(config_path, db), digest=True))


@alerts.command(name="list")
@common_options
@click.option("--failed", "status", flag_value="failed", help="Only failed alerts.")
@click.option("--pending", "status", flag_value="pending", help="Only alerts waiting to be sent.")
@click.option("--sent", "status", flag_value="sent", help="Only sent alerts.")
def list_alerts(config_path: Path | None, db: Path | None, status: str | None) -> None:
    """List alerts with their status, attempts and the mail server's last reply.

    Example: wirewatch alerts list --failed
    """
    with closing(open_reader(load_config(config_path, db))) as store:
        rows = store.alert_listing(status)
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
    with closing(open_writer(load_config(config_path, db))) as store:
        count = store.retry_alerts(list(ids))
    click.echo(f"{count} alert(s) queued again")
