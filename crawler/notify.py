"""Sending due alerts after a run or on demand, reporting on standard error."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.config.seeds import Source, load_sources
from crawler.config.wirewatch import Config
from pipelines.alerts import outbox
from pipelines.alerts.delivery import Delivery, deliver, transport_for
from pipelines.core.validation import ConfigError
from pipelines.store import Store


def send_alerts(config: Config, digest: bool = False, extra_sources: tuple[Source, ...] = ()) -> Delivery:
    """Deliver what is due (opening digests first when asked); report on stderr."""
    try:
        titles = {s.id: s.title for s in (*load_sources(config.source_paths), *extra_sources)}
    except ConfigError:
        titles = {s.id: s.title for s in extra_sources}
    store = Store(config.database)
    try:
        if digest:
            outbox.open_digests(store, config.alerts)
        result = deliver(store, config.alerts, transport_for(config.alerts, Path.cwd()), titles)
    finally:
        store.close()
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
