"""The `wirewatch` command: one click group, its commands registered from one module per family.

Commands parse arguments and call the library; `errors` alone turns failures into exit codes."""

from __future__ import annotations

import click

from crawler import __version__
from crawler.cli import (
    alerts,
    archive,
    backfill,
    export,
    labels,
    queries,
    report,
    run,
    service,
    sources,
    stories,
    watch,
    web,
)
from crawler.cli.errors import Group

EXIT_CODES = """\b
Exit codes (for cron and systemd):
  0  success: every source crawled without error
  1  internal error (a bug; the traceback is printed)
  2  usage error: bad command-line arguments
  3  configuration error: a config, seed or watchlist file is invalid; nothing was crawled
  4  one or more sources had errors (unreachable, HTTP errors, broken feeds); the articles
     of the others are stored, and `wirewatch sources` shows which failed (import and
     reextract: a record or page could not be read; the rest is stored)
  5  another run holds the lock (<database>.lock); nothing was done
  6  interrupted (Ctrl-C or SIGTERM); everything stored so far is kept
  7  `wirewatch status` only: a source failed its last runs (--failing-after)
  8  `wirewatch status` only: a source is blocked by bot protection, silent (nothing new
     for much longer than usual) or degraded (its pages stopped extracting)
"""


@click.group(cls=Group, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wirewatch")
def main() -> None:
    """wirewatch: reads news sites, keeps every article in SQLite, flags what matters.

    Each run crawls the configured sources (seed files) politely, extracts every new article,
    applies the watchlists and stores the result. Start with `wirewatch demo` to see it work
    on a bundled sample site, then `wirewatch run`.
    """


for command in (
    run.run,
    run.demo,
    queries.flagged,
    queries.search,
    queries.explain,
    sources.sources,
    sources.check,
    watch.classify,
    watch.evaluate,
    watch.rescore,
    labels.label,
    labels.labels,
    alerts.alerts,
    service.daemon,
    service.schedule,
    service.status,
    stories.recluster,
    stories.stories,
    web.serve,
    report.report,
    export.export,
    backfill.backfill,
    archive.import_,
    archive.reextract_,
):
    main.add_command(command)
