"""One crawl cycle: every selected source crawled once, results recorded in `runs`.

A Twisted reactor cannot be restarted, so `run_once` can be called once per process; the
CLI, the daemon and the tests each give it a process of its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from crawler.config.seeds import Source
from crawler.config.wirewatch import Config
from crawler.discovery.spider import NewsSpider
from crawler.fetch.browser import browser_problem
from crawler.fetch.settings import crawl_settings
from crawler.runtime.display import CrawlDisplay
from crawler.runtime.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOURCES_FAILED
from pipelines.analyse import close_all, fewer_collections
from pipelines.archive import close_archives
from pipelines.core.dates import Window
from pipelines.store import Store, close_shared
from pipelines.watch.watchlist import Watchlist

logger = logging.getLogger(__name__)


@dataclass
class SourceResult:
    source: str
    status: str  # ok | errors | failed | blocked
    requests: int = 0
    pages_fetched: int = 0
    not_modified: int = 0
    new_articles: int = 0
    flagged: int = 0
    known_skipped: int = 0
    extraction_failures: int = 0
    dead_links: int = 0  # article links that answered 404 or 410: counted, not errors
    blocked: str | None = None  # the bot protection that stopped the source (cloudflare, ...)
    errors: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    run_id: int
    status: str  # ok | partial | failed | interrupted
    sources: list[SourceResult]

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        return EXIT_OK if self.status == "ok" else EXIT_SOURCES_FAILED


def summarize(source: str, stats: dict[str, Any]) -> SourceResult:
    """Turn one crawler's Scrapy stats into the row stored in `run_sources`."""
    errors = list(stats.get("wirewatch/errors", []))
    crashes = stats.get("spider_exceptions/count", 0)
    if crashes:
        errors.append(f"{crashes} unexpected exception(s) while parsing; see the log for tracebacks")
    blocked = stats.get("wirewatch/blocked")
    if blocked:
        status = "blocked"
    elif not stats.get("wirewatch/discovery_ok") and stats.get("wirewatch/discovery_errors"):
        status = "failed"
    else:
        status = "errors" if errors else "ok"
    return SourceResult(
        source=source,
        status=status,
        requests=stats.get("downloader/request_count", 0),
        pages_fetched=sum(v for k, v in stats.items() if k.startswith("downloader/response_status_count/2")),
        not_modified=stats.get("wirewatch/not_modified", 0),
        new_articles=stats.get("wirewatch/store/new", 0),
        flagged=stats.get("wirewatch/store/flagged", 0),
        known_skipped=stats.get("wirewatch/known_skipped", 0),
        extraction_failures=stats.get("wirewatch/store/failures", 0),
        dead_links=stats.get("wirewatch/dead_links", 0),
        blocked=blocked,
        errors=errors,
    )


def overall(results: list[SourceResult], finished: bool) -> str:
    """A run's status from its sources': ok, partial, failed, or interrupted."""
    if not finished:
        return "interrupted"
    if all(r.status == "ok" for r in results):
        return "ok"
    if all(r.status == "failed" for r in results):
        return "failed"
    return "partial"


def run_once(
    config: Config,
    sources: list[Source],
    watchlists: list[Watchlist],
    database: Path,
    trigger: str = "cli",
    live: bool = False,
) -> RunResult:
    """Crawl each source once (all in parallel, each with its own politeness) and record it;
    ``live``: show each source's progress on standard error meanwhile."""
    began = time.monotonic()
    store = Store(database)
    try:
        run_id = store.start_run(trigger, [s.id for s in sources])
    finally:
        store.close()
    logger.info("run %d started (%s): %s", run_id, trigger, ", ".join(s.id for s in sources))
    unfit: dict[str, str] = {}  # sources that cannot be fetched as their seed asks, and why
    for source in sources:
        problem = browser_problem(source, config.crawl)
        if problem:
            logger.error("%s", problem)
            unfit[source.id] = problem
    fit = [s for s in sources if s.id not in unfit]
    crawlers = crawl(config, fit, watchlists, database, live=live) if fit else []
    done = {
        source.id: summarize(source.id, crawler.stats.get_stats() if crawler.stats else {})
        for source, crawler in crawlers
    }
    results = [
        done[s.id] if s.id in done else SourceResult(s.id, "failed", errors=[unfit[s.id]]) for s in sources
    ]
    reasons = {crawler.stats.get_value("finish_reason") for _, crawler in crawlers if crawler.stats}
    status = overall(results, finished=not reasons - {"finished"})
    store = Store(database)
    try:
        store.finish_run(run_id, status, [asdict(r) for r in results], time.monotonic() - began)
    finally:
        store.close()
    logger.info("run %d ended: %s", run_id, status)
    return RunResult(run_id, status, results)


def crawl(
    config: Config,
    sources: list[Source],
    watchlists: list[Watchlist],
    database: Path,
    live: bool = False,
    window: Window | None = None,
    open_ended: bool = False,
) -> list[tuple[Source, Crawler]]:
    """One crawler per source, all in parallel, each with its own politeness, until every one
    is done or the process is interrupted; returns them, stats and all. With a ``window``, each
    backfills it (crawler/discovery/spider.py) and never alerts. ``live``: per-source lines on
    standard error while it runs (crawler/runtime/display.py)."""
    level = logging.getLogger().level
    process = CrawlerProcess(
        {"LOG_LEVEL": config.log_level, "LOG_INSTALL_ROOT_HANDLER": False, "TELNETCONSOLE_ENABLED": False}
    )
    # Scrapy lowers the root logger to NOTSET: every request's debug lines would be built, then
    # dropped by the handler. Keep the level logging was set up with.
    logging.getLogger().setLevel(level)
    crawlers = []
    for i, source in enumerate(sources):
        settings = crawl_settings(config, source, watchlists, database)
        if window is not None:
            settings["WIREWATCH_WINDOW"] = window
        # The first crawler installs the (asyncio) reactor; a process gets exactly one.
        crawler = Crawler(NewsSpider, settings, init_reactor=i == 0)
        process.crawl(
            crawler,
            source=source,
            max_age=config.max_age,
            max_page_bytes=config.crawl.max_page_bytes,
            window=window,
            open_ended=open_ended,
        )
        crawlers.append((source, crawler))
    display = None
    if live or window is not None:
        from twisted.internet import reactor

        display = CrawlDisplay(
            [(s.id, c) for s, c in crawlers], live=live, log=window is not None and not live
        )
        reactor.callWhenRunning(display.start)  # type: ignore[attr-defined]
    try:
        with fewer_collections():
            process.start()
    finally:
        if display is not None:
            display.stop()
        close_all()
        close_shared()
        close_archives()
    return crawlers
