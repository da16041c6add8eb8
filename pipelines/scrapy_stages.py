"""Thin Scrapy item pipelines over the pure stages: extract (100) -> watchlists (200) -> store (300)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from pipelines.extract import ExtractionError, extract
from pipelines.items import ArticlePage
from pipelines.store import Store

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ExtractStage:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.source = crawler.settings["WIREWATCH_SOURCE"]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractStage:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage) or item.error:
            return item
        try:
            item.story = extract(
                item.html,
                item.final_url,
                fetched_at=item.fetched_at,
                allowed_domains=self.source.allowed_domains,
                timezone=self.source.timezone,
                language=self.source.language,
                hint_published=item.hint_published,
                hint_title=item.hint_title,
                favor=self.source.favor,
                boilerplate=self.source.boilerplate,
            )
        except ExtractionError as exc:
            item.error = str(exc)
            self.stats.inc_value("wirewatch/extract/failed")
        else:
            self.stats.inc_value("wirewatch/extract/ok")
        item.html = ""  # the text is extracted; do not carry the page further
        return item


class WatchlistStage:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.watchlists = crawler.settings["WIREWATCH_WATCHLISTS"] or []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WatchlistStage:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage) and item.story is not None:
            for watchlist in self.watchlists:
                item.verdicts[watchlist.name] = watchlist.classify(item.story.title, item.story.text)
        return item


class StoreStage:
    """Writes each story with its flags in one transaction, or records why there is none."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.source = crawler.settings["WIREWATCH_SOURCE"]
        self.path = crawler.settings["WIREWATCH_DB"]
        self.alerts = crawler.settings["WIREWATCH_ALERTS"]
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreStage:
        return cls(crawler)

    def open_spider(self) -> None:
        self.store = Store(self.path)

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        assert self.store is not None, "store opened in open_spider"
        if item.story is None:
            self.store.record_failure(self.source.id, item.url, item.error or "no story")
            self.stats.inc_value("wirewatch/store/failures")
            raise DropItem(f"extraction failed for {item.url}: {item.error}")
        article_id = self.store.add_story(
            self.source.id, item.story, item.verdicts, item.fetched_at, item.url, self.alerts
        )
        if article_id is None:
            self.stats.inc_value("wirewatch/store/duplicates")
            raise DropItem(f"{item.url}: already stored as {item.story.url}", log_level="INFO")
        self.stats.inc_value("wirewatch/store/new")
        if any(v.flagged for v in item.verdicts.values()):
            self.stats.inc_value("wirewatch/store/flagged")
        return item
