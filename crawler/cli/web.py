"""`wirewatch serve`: the database in a browser, read-only, through Datasette."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from crawler.cli.common import common_options, open_reader
from crawler.cli.errors import Command
from crawler.config.wirewatch import load_config
from pipelines.store.datasette import metadata

INSTALL = "pip install 'wirewatch[web]'"


@click.command(cls=Command)
@common_options
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default)."
)
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
def serve(config_path: Path | None, db: Path | None, host: str, port: int) -> None:
    """Browse the database in a web page (Datasette), read-only: articles, stories, flags,
    alerts and runs with their descriptions, facets, and canned queries (flagged this week,
    one story, full-text search, source health, failed alerts, the desk's labels).

    It listens on loopback only unless --host says otherwise; to share it, put it behind a
    reverse proxy that asks for a password (README "Browsing the database").

    Example: wirewatch serve --port 8001
    """
    try:
        import uvicorn
        from datasette.app import Datasette
    except ImportError:
        raise click.ClickException(f"`wirewatch serve` needs Datasette: {INSTALL}") from None
    config = load_config(config_path, db)
    with closing(open_reader(config)) as store:  # created or migrated first if need be
        tables = store.tables()
    name = config.database.stem
    datasette = Datasette(
        [str(config.database)],
        metadata=metadata(name, tables),
        settings={"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000, "allow_download": False},
    )
    click.echo(f"serving {config.database} read-only at http://{host}:{port}/{name}", err=True)
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
