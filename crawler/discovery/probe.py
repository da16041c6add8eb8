"""`wirewatch sources probe`: a live check of each source's feeds, sitemaps and listings.

A real, polite Scrapy crawl with the source's own settings (robots.txt, delays, address
guard) and no database: for every discovery URL it reports the HTTP status, how many story
links it holds and the newest date among them, and for a few of the newest links whether
extraction finds a story (title, date, length). It writes nothing, so it can be run
anywhere the internet is reachable before a seed is trusted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.config.seeds import Source
from crawler.config.wirewatch import Config
from crawler.discovery.links import (
    DiscoveryError,
    Found,
    Link,
    maybe_gunzip,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from crawler.discovery.spider import describe_failure
from crawler.fetch.settings import crawl_settings
from pipelines.core.urls import normalize_url

logger = logging.getLogger(__name__)

ARTICLES_PER_URL = 3  # newest story links of each discovery URL that are fetched and extracted
MAX_CHILD_SITEMAPS = 2  # sub-sitemaps of an index that are followed (the newest)


@dataclass
class ProbeLine:
    """What one fetched URL showed."""

    source: str
    kind: str  # feed | sitemap | listing | article
    url: str
    ok: bool
    status: str  # "200", "HTTP 404", "timed out", ...
    items: int | None = None  # story links (sub-sitemaps for a sitemap index)
    newest: datetime | None = None
    note: str = ""  # what extraction found, or what was wrong
    via: str = ""  # for an article: the discovery URL that linked it


class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(self, source: Source, max_page_bytes: int, **kwargs: Any):
        super().__init__(name=f"probe-{source.id}", **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self.tz = ZoneInfo(source.timezone)
        self.max_page_bytes = max_page_bytes

    def _request(self, url: str, kind: str, callback: Any, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.failed, meta={"kind": kind, **meta})

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.feeds:
            yield self._request(url, "feed", self.parse_discovery)
        for url in self.source.sitemaps:
            yield self._request(url, "sitemap", self.parse_discovery, depth=0)
        for listing in self.source.listings:
            yield self._request(listing.url, "listing", self.parse_discovery)

    def failed(self, failure: Failure) -> Iterator[ProbeLine]:
        request = failure.request  # type: ignore[attr-defined]
        message = describe_failure(failure)
        line = ProbeLine(self.source.id, request.meta["kind"], request.url, False, message)
        line.via = request.meta.get("via", "")
        if "robots.txt" in message:  # the site's policy, obeyed: not a fault of the seed
            line.ok, line.status, line.note = True, "-", "not fetched: forbidden by robots.txt"
        yield line

    def _found(self, response: Response) -> Found:
        kind = response.meta["kind"]
        if kind == "feed":
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            return parse_feed(response.body, response.url, content_type)
        if kind == "sitemap":
            return parse_sitemap(maybe_gunzip(response.body, self.max_page_bytes), self.tz)
        if not isinstance(response, TextResponse):
            raise DiscoveryError("listing is not an HTML page")
        return parse_listing(response.text, response.url, self.tz)

    def parse_discovery(self, response: Response) -> Iterator[Any]:
        kind, status = response.meta["kind"], str(response.status)
        try:
            found = self._found(response)
        except DiscoveryError as exc:
            yield ProbeLine(self.source.id, kind, response.url, False, status, 0, note=str(exc))
            return
        stories = [link for link in found.links if self.source.is_article(normalize_url(link.url))]
        dated = [link.published for link in stories if link.published]
        if found.sitemaps:
            newest = max((s.published for s in found.sitemaps if s.published), default=None)
            yield ProbeLine(
                self.source.id,
                kind,
                response.url,
                True,
                status,
                len(found.sitemaps),
                newest,
                f"sitemap index of {len(found.sitemaps)} sitemaps"
                + (f"; {found.warning}" if found.warning else ""),
            )
            if response.meta.get("depth", 0) < 2:
                children = sorted(found.sitemaps, key=_newest_first)[:MAX_CHILD_SITEMAPS]
                for child in children:
                    yield self._request(
                        child.url, "sitemap", self.parse_discovery, depth=response.meta["depth"] + 1
                    )
            return
        notes = [found.warning] if found.warning else []
        if not stories:
            notes.append(
                f"none of its {len(found.links)} links matches articles.allow" if found.links else "no links"
            )
        yield ProbeLine(
            self.source.id,
            kind,
            response.url,
            bool(stories),
            status,
            len(stories),
            max(dated, default=None),
            "; ".join(notes),
        )
        for link in sorted(stories, key=_newest_first)[:ARTICLES_PER_URL]:
            yield self._request(
                normalize_url(link.url),
                "article",
                self.parse_article,
                hint=link.published,
                title=link.title,
                via=response.url,
            )

    def parse_article(self, response: Response) -> Iterator[ProbeLine]:
        line = ProbeLine(self.source.id, "article", response.url, False, str(response.status))
        line.via = response.meta["via"]
        if not isinstance(response, TextResponse):
            line.note = "not an HTML page"
            yield line
            return
        from pipelines.extract.page import ExtractionError, extract

        try:
            story = extract(
                response.text,
                response.url,
                fetched_at=datetime.now(UTC),
                allowed_domains=self.source.allowed_domains,
                timezone=self.source.timezone,
                language=self.source.language,
                hint_published=response.meta.get("hint"),
                hint_title=response.meta.get("title"),
                favor=self.source.favor,
                boilerplate=self.source.boilerplate,
                fallback=self.source.fallback,
            )
        except ExtractionError as exc:
            line.note = f"no story: {exc}"
        else:
            line.ok, line.newest = True, story.published_at
            line.note = f"{story.title[:70]!r}, {len(story.text)} chars, date from {story.date_source}"
        yield line


def _newest_first(link: Link) -> tuple[bool, float]:
    return (link.published is None, -(link.published.timestamp() if link.published else 0))


def probe(config: Config, sources: list[Source]) -> list[ProbeLine]:
    """Probe every discovery URL of the sources (in parallel, each with its own politeness)."""
    lines: list[ProbeLine] = []

    def collect(item: Any) -> None:
        if isinstance(item, ProbeLine):
            lines.append(item)

    process = CrawlerProcess(
        {"LOG_LEVEL": config.log_level, "LOG_INSTALL_ROOT_HANDLER": False, "TELNETCONSOLE_ENABLED": False}
    )
    for i, source in enumerate(sources):
        settings = crawl_settings(config, source, [], config.database)
        # No database: no known-URL filter, no conditional GET, no pipelines.
        settings.update(WIREWATCH_DB="", ITEM_PIPELINES={}, SPIDER_MIDDLEWARES={})
        settings["DOWNLOADER_MIDDLEWARES"] = {
            **settings["DOWNLOADER_MIDDLEWARES"],
            "crawler.fetch.middlewares.ConditionalGetMiddleware": None,
        }
        crawler = Crawler(ProbeSpider, settings, init_reactor=i == 0)
        crawler.signals.connect(collect, signal=signals.item_scraped)
        process.crawl(crawler, source=source, max_page_bytes=config.crawl.max_page_bytes)
    process.start()
    order = {s.id: n for n, s in enumerate(sources)}
    kinds = {"feed": 0, "sitemap": 1, "listing": 2, "article": 3}
    lines.sort(key=lambda line: (order[line.source], kinds[line.kind], line.url))
    return lines
