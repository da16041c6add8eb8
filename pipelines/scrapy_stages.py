"""The only Scrapy-aware part of pipelines: item pipelines that call the stages in flow order.

ArchiveStage (50): with [storage] archive = "warc", the page as fetched into the WARC archive.
AnalyseStage (100): extract, flag and story features, in worker processes (`analyse`).
KeepStage (300): store, group into a story, flag, queue alerts (`flow.keep`); in a backfill
(setting WIREWATCH_WINDOW), only stories published in the window, and no alerts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured
from twisted.internet.task import LoopingCall

from pipelines import flow
from pipelines import store as storage
from pipelines.analyse import Job, shared_analyser
from pipelines.archive import shared_archive
from pipelines.core.dates import Window
from pipelines.extract.modes import Modes, shared_modes
from pipelines.items import ArticlePage, DeadLink

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def record_error(stats: StatsCollector, source: str, url: str, message: str, kind: str) -> None:
    """Count and keep an error for the run's summary, and log it naming the source."""
    errors = stats.get_value("wirewatch/errors") or []
    errors.append(f"{url}: {message}")
    stats.set_value("wirewatch/errors", errors)
    stats.inc_value("wirewatch/article_errors" if kind == "article" else "wirewatch/discovery_errors")
    logger.error("[%s] %s %s: %s", source, kind, url, message)


class ArchiveStage:
    """Writes each fetched article page into the crawl's WARC files (one writer per process,
    shared by the crawlers of all sources), before it goes to a worker: the page's bytes stay
    in this process."""

    def __init__(self, crawler: Crawler):
        folder = crawler.settings.get("WIREWATCH_ARCHIVE")
        if not folder:
            raise NotConfigured("[storage] archive is off")
        self.stats = crawler.stats
        self.archive = shared_archive(Path(folder), crawler.settings.getint("WIREWATCH_ARCHIVE_BYTES"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveStage:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage) and item.capture is not None:
            where = self.archive.write(item.capture)
            item.archived, item.capture = (where.file, where.offset), None
            self.stats.inc_value("wirewatch/archived")
        return item


class AnalyseStage:
    """Extraction and watchlists, in the worker pool (pipelines/analyse.py)."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.stats = crawler.stats
        self.source = settings["WIREWATCH_SOURCE"]
        self.path = settings["WIREWATCH_DB"]
        self.modes: Modes | None = None
        self.analyser = shared_analyser(
            settings.getint("WIREWATCH_WORKERS"),
            settings["WIREWATCH_WATCHLIST_FILES"],
            settings["WIREWATCH_WATCHLISTS"] or [],
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AnalyseStage:
        return cls(crawler)

    def open_spider(self) -> None:
        # What each source has shown about trafilatura's fallback, learnt across runs.
        self.modes = shared_modes(storage.shared(self.path))

    def close_spider(self) -> None:
        if self.modes is not None:
            self.modes.save()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage) or item.error:
            return item
        assert self.modes is not None, "opened in open_spider"
        plan = self.modes.plan(self.source.id, self.source.fallback)
        job = Job(
            item.html,
            item.final_url,
            item.fetched_at,
            self.source.allowed_domains,
            self.source.timezone,
            self.source.language,
            item.hint_published,
            item.hint_title,
            self.source.favor,
            self.source.boilerplate,
            plan != "fast",
            plan == "check",
        )
        item.html = ""  # the page goes to a worker; do not carry it further
        result = await self.analyser.run(job)
        item.article, item.error, item.verdicts = result.article, result.error, result.verdicts
        item.features = result.features
        item.transient = result.transient
        self.modes.record(self.source.id, result.agreed, item.final_url)
        self.stats.inc_value("wirewatch/extract/failed" if result.error else "wirewatch/extract/ok")
        return item


class KeepStage:
    """Keeps each article whole with its story, flags and alerts (batched: pipelines/store), or
    records why there is none."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.source = crawler.settings["WIREWATCH_SOURCE"]
        self.path = crawler.settings["WIREWATCH_DB"]
        self.window: Window | None = crawler.settings.get("WIREWATCH_WINDOW")
        # A backfill stores, groups and flags the past, but never alerts about it.
        self.alerts = None if self.window is not None else crawler.settings["WIREWATCH_ALERTS"]
        self.store: storage.Store | None = None
        self.committer: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KeepStage:
        return cls(crawler)

    def open_spider(self) -> None:
        self.store = storage.shared(self.path)
        self.committer = LoopingCall(self.store.commit_due)
        self.committer.start(storage.BATCH_SECONDS / 2, now=False)

    def close_spider(self) -> None:
        if self.committer is not None and self.committer.running:
            self.committer.stop()
        if self.store is not None:
            self.store.commit()

    def process_item(self, item: Any) -> Any:
        assert self.store is not None, "store opened in open_spider"
        if isinstance(item, DeadLink):
            flow.dead_link(self.store, item.source, item.url, item.status)
            raise DropItem(f"{item.url}: HTTP {item.status}, asked again later", log_level="DEBUG")
        if not isinstance(item, ArticlePage):
            return item
        if item.article is None and item.transient:
            record_error(self.stats, self.source.id, item.url, item.error or "failed", "article")
            raise DropItem(f"{item.url}: {item.error}; it will be fetched again")
        if item.article is None:
            self.store.record_failure(self.source.id, item.url, item.error or "no story")
            self.stats.inc_value("wirewatch/store/failures")
            raise DropItem(f"extraction failed for {item.url}: {item.error}")
        if self.window is not None and not self.window.holds(item.article.published_at):
            why = "undated" if item.article.published_at is None else "outside"
            self.stats.inc_value(f"wirewatch/backfill/{why}")
            raise DropItem(f"{item.url}: published {why} the backfill window, not kept", log_level="INFO")
        article_id = flow.keep(
            self.store,
            self.source.id,
            item.article,
            item.verdicts,
            item.fetched_at,
            item.url,
            self.alerts,
            item.features,
            item.archived,
            "run" if self.window is None else "backfill",
        )
        if article_id is None:
            self.stats.inc_value("wirewatch/store/duplicates")
            raise DropItem(f"{item.url}: already stored as {item.article.url}", log_level="INFO")
        self.stats.inc_value("wirewatch/store/new")
        if any(v.flagged for v in item.verdicts.values()):
            self.stats.inc_value("wirewatch/store/flagged")
        return item
