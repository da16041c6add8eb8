"""A backfill: one source's stories published in a window of the past, stored, grouped and
flagged like a run's, never alerted; resumable (crawler/discovery/backfill.py). Recorded in
`runs` (kind 'backfill') with its source's row in `run_sources`, as a run is, so what it
fetched and how it ended outlive its summary; a source's health reads crawl runs only."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from crawler.config.seeds import Source
from crawler.config.wirewatch import Config
from crawler.discovery.backfill import Counts
from crawler.fetch.browser import browser_problem
from crawler.runtime.display import walk_counts
from crawler.runtime.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOURCES_FAILED
from crawler.runtime.run import SourceResult, crawl, overall, summarize
from pipelines.core.dates import Window
from pipelines.core.validation import ConfigError
from pipelines.store import Store
from pipelines.watch.watchlist import Watchlist


@dataclass
class BackfillResult:
    run_id: int  # its row in `runs` (kind 'backfill')
    result: SourceResult  # as a run's: requests, new, flagged, known, errors...
    walk: Counts
    outside: int  # stories whose own date is outside the window: not kept
    undated: int  # stories with no date at all: not kept
    finished: bool  # False: interrupted; the same command goes on where it stopped

    @property
    def exit_code(self) -> int:
        if not self.finished:
            return EXIT_INTERRUPTED
        return EXIT_OK if self.result.status == "ok" else EXIT_SOURCES_FAILED


def backfill(
    config: Config,
    source: Source,
    watchlists: list[Watchlist],
    database: Path,
    window: Window,
    open_ended: bool,
    live: bool = False,
) -> BackfillResult:
    """Walk ``source``'s sitemaps and listings back to ``window.since`` and store its stories
    published in the window (``open_ended``: no --until was given, the window ends now)."""
    problem = browser_problem(source, config.crawl)
    if problem:  # before the walk starts: exit 3, nothing fetched
        raise ConfigError([problem])
    began = time.monotonic()
    store = Store(database)  # the caller holds the backfill lock
    try:
        run_id = store.start_run("cli", [source.id], kind="backfill")
    finally:
        store.close()
    ((_, crawler),) = crawl(
        config, [source], watchlists, database, live=live, window=window, open_ended=open_ended
    )
    stats = crawler.stats.get_stats() if crawler.stats else {}
    result = summarize(source.id, stats)
    finished = stats.get("finish_reason") == "finished"
    store = Store(database)
    try:
        store.finish_run(run_id, overall([result], finished), [asdict(result)], time.monotonic() - began)
    finally:
        store.close()
    return BackfillResult(
        run_id,
        result,
        walk_counts(crawler) or Counts(),
        stats.get("wirewatch/backfill/outside", 0),
        stats.get("wirewatch/backfill/undated", 0),
        finished,
    )
