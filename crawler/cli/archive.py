"""`wirewatch import`: stories from WARC and ARC files; `wirewatch reextract`: stored texts
extracted again from their archived pages."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click

from crawler.cli.alerts import send_alerts
from crawler.cli.common import common_options, parse_since, setup_logging, watchlists_of
from crawler.cli.errors import Command
from crawler.config.seeds import load_sources, select
from crawler.config.wirewatch import load_config
from crawler.runtime.exits import EXIT_INTERRUPTED, EXIT_SOURCES_FAILED
from crawler.runtime.progress import Progress
from crawler.runtime.reextract import Reextracted, reextract
from crawler.runtime.warc_import import Imported, import_archives
from pipelines.store import RunLock, lock_path

SHOWN = 20  # problems (and articles without a page) named in a summary; the log has them all


def _interrupt_on_sigterm() -> None:
    """SIGTERM stops an import or reextract as Ctrl-C does: what was stored is kept."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


@click.command(name="import", cls=Command)
@common_options
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--source", "source_name", metavar="ID", help="Store every page as this source's (default: by URL)."
)
def import_(
    config_path: Path | None, db: Path | None, files: tuple[Path, ...], source_name: str | None
) -> int:
    """Import the HTML pages of WARC or ARC files (gzipped or not) as stories.

    Each 200 HTML response goes through the crawl's own path (extract, flag, group, store)
    under the source whose domains and story patterns match its URL; pages of no source are
    counted and skipped, as are other records. The record's WARC-Date is the fetch time. Pages
    already stored are skipped, so importing a file again stores nothing twice (dead links and
    pages that held no story when crawled are not stored: they are imported). Stories
    published (else fetched) within their source's max_age are alerted as a run would alert
    them (then sent, as after a run): a run finds them stored. Older ones are history: flagged,
    never alerted. A damaged record is named by file and offset and skipped; the import goes
    on. Holds the run lock (exit 5 while a crawl runs); exits 4 when records were damaged, 6
    when interrupted (what was stored is kept).

    \b
    Example: wirewatch import CC-NEWS-20240301.warc.gz --source dawn
    """
    config = load_config(config_path, db)
    setup_logging(config.log_level)
    sources = load_sources(config.source_paths)
    forced = select(sources, (source_name,))[0] if source_name else None
    watchlists = watchlists_of(config)
    total = sum(f.stat().st_size for f in files)
    counters = ("stored", "flagged", "duplicates", "unknown source", "malformed")
    interrupted = False
    counts = Imported()
    _interrupt_on_sigterm()
    # The lock covers the import and the delivery after it, as a run's does.
    with RunLock(lock_path(config.database), "import"):
        with Progress("import", "bytes", total, counters) as bar:

            def advance(done: float, now: Imported) -> None:
                bar.counts.update(
                    {
                        "stored": now.stored,
                        "flagged": now.flagged,
                        "duplicates": now.duplicates,
                        "unknown source": now.unknown_source,
                        "malformed": now.malformed,
                    }
                )
                bar.advance(done)

            try:
                counts = import_archives(config, list(files), sources, watchlists, forced, advance, counts)
            except KeyboardInterrupt:
                interrupted = True
        _print_import(counts, interrupted)
        if counts.recent and not interrupted:
            send_alerts(config)  # what a run would have sent for them, as a run sends it
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_SOURCES_FAILED if counts.malformed else 0


def _print_import(counts: Imported, interrupted: bool) -> None:
    click.echo(
        f"records {counts.records:,}: HTML pages {counts.html:,}, stored {counts.stored:,} "
        f"(flagged {counts.flagged:,}, within max_age {counts.recent:,}), duplicates "
        f"{counts.duplicates:,}, unknown source {counts.unknown_source:,}, no story "
        f"{counts.no_story:,}, non-HTML {counts.non_html:,}, malformed {counts.malformed:,}"
        + (" (interrupted)" if interrupted else "")
    )
    if counts.recent:
        click.echo(
            f"  within max_age: {counts.recent:,} stories the runs would alert, stored as a run "
            "stores them: their flags alerted (the rest is history, never alerted)",
            err=True,
        )
    if counts.unknown_hosts:
        hosts = ", ".join(f"{h} ({n})" for h, n in counts.unknown_hosts.most_common(10))
        click.echo(f"  unknown source: {hosts}", err=True)
    if counts.other_kinds:
        kinds = ", ".join(f"{k} ({n})" for k, n in counts.other_kinds.most_common(10))
        click.echo(f"  non-HTML: {kinds}", err=True)
    for problem in counts.problems[:SHOWN]:
        click.echo(f"  malformed: {problem}", err=True)
    if len(counts.problems) > SHOWN:
        click.echo(f"  ... and {len(counts.problems) - SHOWN} more malformed records (see the log)", err=True)


def _since(value: str | None) -> datetime | None:
    """--since as a day (2024-03-01) or a duration back from now (90d)."""
    if value and value[:1].isdigit() and "-" in value:
        try:
            day = datetime.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"not a date (2024-03-01) or a duration (90d): {value!r}") from None
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    return parse_since(value)


@click.command(name="reextract", cls=Command)
@common_options
@click.option("--source", "source_name", metavar="ID", help="Only this source's articles.")
@click.option("--since", help="Only articles published since this day (2024-03-01) or this recently (90d).")
def reextract_(config_path: Path | None, db: Path | None, source_name: str | None, since: str | None) -> int:
    """Extract stored articles again from their archived pages, without the network.

    After a trafilatura upgrade or a new seed hint ([extraction] in a seed file): each
    article whose page is kept (`[storage] archive = "warc"`, or the WARC file it was
    imported from) is read back and extracted with the current code and hints; its text,
    title, author, date and language are replaced, its flags brought in line (never
    alerted), and the stories regrouped when a text changed. Articles with no kept page are
    counted and named. Holds the run lock (exit 5 while a crawl runs); exits 4 when a page
    could not be read, 6 when interrupted (what was done is kept).

    \b
    Example: wirewatch reextract --source dawn --since 2024-03-01
    """
    config = load_config(config_path, db)
    setup_logging(config.log_level)
    sources = load_sources(config.source_paths)
    if source_name:
        select(sources, (source_name,))  # a usage error when it is unknown
    start = _since(since)
    watchlists = watchlists_of(config)
    counts = Reextracted()
    interrupted = False
    _interrupt_on_sigterm()
    counters = ("changed", "unchanged", "no page", "failed")
    with (
        RunLock(lock_path(config.database), "reextract"),
        Progress("reextract", "articles", None, counters) as bar,
    ):

        def advance(done: int, now: Reextracted) -> None:
            bar.counts.update(
                {
                    "changed": now.changed,
                    "unchanged": now.unchanged,
                    "no page": now.no_page,
                    "failed": now.failed,
                }
            )
            bar.advance(done)

        try:
            reextract(config, sources, watchlists, source_name, start, advance, counts)
        except KeyboardInterrupt:
            interrupted = True
    click.echo(
        f"articles {counts.articles:,}: changed {counts.changed:,}, unchanged {counts.unchanged:,}, "
        f"no archived page {counts.no_page:,}, no story now {counts.failed:,}, "
        f"unreadable {counts.unreadable:,}"
        + (f"; {counts.regrouped:,} articles regrouped" if counts.regrouped is not None else "")
        + (" (interrupted)" if interrupted else "")
    )
    if counts.no_page_urls:
        click.echo(f"  no archived page: {', '.join(counts.no_page_urls[:SHOWN])}", err=True)
        if len(counts.no_page_urls) > SHOWN:
            click.echo(f"  ... and {len(counts.no_page_urls) - SHOWN} more without a page", err=True)
    for problem in counts.problems[:SHOWN]:
        click.echo(f"  {problem}", err=True)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_SOURCES_FAILED if counts.unreadable else 0
