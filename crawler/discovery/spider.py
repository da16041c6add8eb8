"""The one spider: discovers article links from a source's feeds, sitemaps and listings, and
fetches each article page once.

Given a `window`, it backfills instead: no feeds (they hold only the latest stories), sitemaps
and listings walked back to the window's start whatever their `max_pages`, only story links
dated in the window (or undated) fetched, and the walk recorded as it goes (`backfill.Walk`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.config.seeds import Listing, Source
from crawler.discovery.backfill import Spec, Walk
from crawler.discovery.links import (
    DiscoveryError,
    Found,
    Link,
    maybe_gunzip,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from crawler.fetch.challenges import Blocked
from pipelines.archive import Capture
from pipelines.core.dates import Window
from pipelines.core.urls import normalize_url
from pipelines.items import ArticlePage, DeadLink
from pipelines.scrapy_stages import record_error

logger = logging.getLogger(__name__)

# Sitemap indexes of big sites nest deeply; a few levels is all a news sitemap needs.
MAX_SITEMAP_DEPTH = 3
# A backfill follows a listing back to the window's start, up to this many pages.
BACKFILL_MAX_PAGES = 10_000


def describe_failure(failure: Failure) -> str:
    """A short operator-facing reason for a failed request."""
    exc = failure.value
    if isinstance(exc, Blocked):
        return str(exc)
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    name = type(exc).__name__
    text = str(exc).strip()
    friendly = {
        "CannotResolveHostError": "DNS lookup failed",
        "DNSLookupError": "DNS lookup failed",
        "DownloadConnectionRefusedError": "connection refused",
        "ConnectionRefusedError": "connection refused",
        "DownloadTimeoutError": "timed out",
        "TimeoutError": "timed out",
        "ResponseDataLossError": "connection closed before the whole response arrived",
        "ResponseNeverReceived": "connection failed before a response arrived",
    }.get(name)
    if friendly:
        return f"{friendly} ({text})" if text and len(text) < 200 else friendly
    return f"{name}: {text}" if text else name


def excuse(request: scrapy.Request, message: str) -> str | None:
    """Why a failed request is no fault of the source (then it is logged, not counted), or None."""
    if request.meta.get("kind") == "article" and message in (
        "IgnoreRequest",
        "IgnoreRequest: Forbidden by robots.txt",
    ):
        return "not fetched"  # robots.txt or a redirect off the source's domains: policy
    if request.meta.get("next_page") and message in ("HTTP 404", "HTTP 410"):
        # A page_url template counts on past the last page: its 404 is the listing's end.
        return "the listing ends before this page"
    return None


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


class NewsSpider(scrapy.Spider):
    """Discovery (`parse_discovery`) and article pages (`parse_article`) for one source.

    `sources probe` subclasses it (crawler/discovery/probe.py) and overrides what a probe
    reports: `discovered`, `failed` and `parse_article`.
    """

    name = "news"

    def __init__(
        self,
        source: Source,
        max_age: timedelta,
        max_page_bytes: int,
        window: Window | None = None,
        open_ended: bool = False,
        **kwargs: Any,
    ):
        super().__init__(name=source.id, **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self.tz = ZoneInfo(source.timezone)
        self.window = window
        self.open_ended = open_ended  # a backfill window with no --until: its end is now
        self.cutoff = window.since if window else datetime.now(UTC) - (source.max_age or max_age)
        self.max_page_bytes = max_page_bytes
        self.walk: Walk | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        if spider.window is not None and crawler.settings.get("WIREWATCH_DB"):
            spider.walk = Walk.from_crawler(crawler, spider.source.id, spider.window, spider.open_ended)
        return spider

    def _error(self, url: str, message: str, kind: str) -> None:
        record_error(self.crawler.stats, self.source.id, url, message, kind)

    def failed(self, failure: Failure) -> list[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get("kind", "page")
        message = describe_failure(failure)
        if isinstance(failure.value, Blocked):  # reported once, where the block was seen
            self.crawler.stats.inc_value("wirewatch/blocked_skipped")
            return []
        dead = kind == "article" and message in ("HTTP 404", "HTTP 410")
        if self.walk is not None and kind == "article" and not dead:
            # Refused by robots.txt or off the source's domains: handled for good; else for now.
            self.walk.settle(request.meta.get("walk_url", ""), ok=excuse(request, message) is not None)
        if dead:
            # A dead link (often a menu or "most read" link): remembered and asked again only
            # with backoff; counted, but nothing an operator must act on.
            self.crawler.stats.inc_value("wirewatch/dead_links")
            logger.info("[%s] dead link %s: %s", self.source.id, request.url, message)
            return [DeadLink(self.source.id, request.url, int(message[5:]))]
        reason = excuse(request, message)
        if reason is None:
            self._error(request.url, message, kind)
            return []
        if kind == "article":
            self.crawler.stats.inc_value("wirewatch/article_ignored")
        logger.info("[%s] %s %s: %s (%s)", self.source.id, kind, request.url, reason, message)
        return []

    # -- requests -------------------------------------------------------------------------

    def _discovery(self, url: str, kind: str, **meta: Any) -> scrapy.Request:
        # A backfill reads every page whole: a 304 would say "nothing new since the last run".
        conditional = self.window is None
        return scrapy.Request(
            url,
            callback=self.parse_discovery,
            errback=self.failed,
            meta={"kind": kind, "conditional": conditional, "handle_httpstatus_list": [304], **meta},
        )

    def roots(self) -> list[Spec]:
        """Where a backfill starts: the sitemaps and the first page of each listing."""
        sitemaps = [{"url": url, "kind": "sitemap", "depth": 0} for url in self.source.sitemaps]
        listings = [
            {"url": ls.url, "kind": "listing", "listing": ls.url, "page": 1} for ls in self.source.listings
        ]
        return sitemaps + listings

    def spec(self, request: scrapy.Request) -> Spec:
        """A discovery request as the walk records it."""
        meta = request.meta
        if meta["kind"] == "listing":
            return {
                "url": request.url,
                "kind": "listing",
                "listing": meta["listing"].url,
                "page": meta["page"],
            }
        return {"url": request.url, "kind": meta["kind"], "depth": meta.get("depth", 0)}

    def request_for(self, spec: Spec) -> scrapy.Request | None:
        if spec["kind"] != "listing":
            return self._discovery(spec["url"], spec["kind"], depth=spec.get("depth", 0))
        listing = next((ls for ls in self.source.listings if ls.url == spec["listing"]), None)
        if listing is None:
            return None  # the seed no longer has this listing
        page = spec["page"]
        return self._discovery(spec["url"], "listing", listing=listing, page=page, next_page=page > 1)

    async def start(self) -> AsyncIterator[Any]:
        if self.walk is not None:
            for spec in self.walk.resume(self.roots()):
                request = self.request_for(spec)
                if request is not None:
                    yield request
            return
        for url in self.source.feeds:
            yield self._discovery(url, "feed")
        for url in self.source.sitemaps:
            yield self._discovery(url, "sitemap", depth=0)
        for listing in self.source.listings:
            yield self._discovery(listing.url, "listing", listing=listing, page=1)

    def articles(self, links: list[Link]) -> list[Link]:
        """The links that match the seed's article patterns."""
        return [link for link in links if self.source.is_article(normalize_url(link.url))]

    def article_requests(self, found: Found, via: str) -> Iterator[scrapy.Request]:
        for link in found.links:
            url = normalize_url(link.url)
            if not self.source.is_article(url):
                continue
            if link.published is not None and link.published < self.cutoff:
                self.crawler.stats.inc_value("wirewatch/too_old")
                continue
            if self.window is not None and link.published is not None and link.published >= self.window.until:
                self.crawler.stats.inc_value("wirewatch/backfill/too_new")
                continue
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.failed,
                meta={
                    "kind": "article",
                    "hint_published": link.published,
                    "hint_title": link.title,
                    "via": via,
                },
            )

    def sub_sitemaps(self, response: Response, found: Found, problems: list[str]) -> list[scrapy.Request]:
        depth = response.meta["depth"] + 1
        if found.sitemaps and depth > MAX_SITEMAP_DEPTH:
            problems.append(f"sitemap index nested deeper than {MAX_SITEMAP_DEPTH}")
            return []
        children = [
            normalize_url(sub.url)
            for sub in found.sitemaps
            # nothing in a sitemap last modified before the cutoff can be new
            if sub.published is None or sub.published >= self.cutoff
        ]
        # Kept with the request (ConditionalGetMiddleware saves it): on a 304 for this index,
        # these are asked again.
        response.meta["children"] = children
        return [self._discovery(url, "sitemap", depth=depth) for url in children]

    def next_page(self, response: Response, found: Found) -> list[scrapy.Request]:
        listing: Listing = response.meta["listing"]
        page = response.meta["page"]
        dated = [link.published for link in self.articles(found.links) if link.published]
        if dated and max(dated) < self.cutoff:
            self.crawler.stats.inc_value("wirewatch/listing/stopped_old")
            return []
        if page >= (listing.max_pages if self.window is None else BACKFILL_MAX_PAGES):
            return []
        if self.window is not None and not self.articles(found.links):
            return []  # past the last page of stories
        next_url = listing.page_url.format(n=page + 1) if listing.page_url else found.next_page
        if not next_url:
            return []
        return [self._discovery(next_url, "listing", listing=listing, page=page + 1, next_page=True)]

    # -- callbacks ------------------------------------------------------------------------

    def read(self, response: Response) -> Found:
        """The links of a feed, sitemap or listing; DiscoveryError when it has none to read."""
        kind = response.meta["kind"]
        if kind == "feed":
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            return parse_feed(response.body, response.url, content_type)
        if kind == "sitemap":
            return parse_sitemap(maybe_gunzip(response.body, self.max_page_bytes), self.tz)
        if not isinstance(response, TextResponse):
            raise DiscoveryError("listing is not an HTML page")
        found = parse_listing(response.text, response.url, self.tz)
        dated = [link for link in self.articles(found.links) if link.published]
        if dated:
            # The dated teasers are the listing; undated article links around them are menus and
            # sidebars ("most read"), which reach back months. Feeds and sitemaps cover the rest.
            return Found(dated, [], found.next_page)
        return found

    def parse_discovery(self, response: Response) -> Iterator[Any]:
        """A feed, sitemap or listing: its article links, sub-sitemaps and next listing page."""
        self.crawler.stats.inc_value("wirewatch/discovery_ok")
        if response.status == 304:
            self.crawler.stats.inc_value("wirewatch/not_modified")
            # An unchanged index: its sub-sitemaps may still have changed, so ask each of them.
            for url in response.meta.get("known_children", ()):
                yield self._discovery(url, "sitemap", depth=response.meta["depth"] + 1)
            return
        kind = response.meta["kind"]
        try:
            found = self.read(response)
        except DiscoveryError as exc:
            yield from self.discovered(response, None, [], [str(exc)])
            return
        problems = [found.warning] if found.warning else []
        requests = list(self.article_requests(found, response.url))
        follow = []
        if kind == "sitemap":
            follow = self.sub_sitemaps(response, found, problems)
        elif kind == "listing":
            follow = self.next_page(response, found)
        if self.walk is not None:
            requests = self.walked(response, requests, follow)
        yield from self.discovered(response, found, requests + follow, problems)

    def walked(
        self, response: Response, requests: list[scrapy.Request], follow: list[scrapy.Request]
    ) -> list[scrapy.Request]:
        """A backfill's story requests of a page, each once, told to the walk."""
        assert self.walk is not None
        page = response.meta.get("redirect_urls", [response.url])[0]
        new, known = [], []
        for request in requests:
            if self.walk.store.is_known(request.url):
                known.append(request.url)
            else:
                new.append(request)
        self.crawler.stats.inc_value("wirewatch/known_skipped", len(known))
        wanted = set(self.walk.read(page, [r.url for r in new], known, [self.spec(r) for r in follow]))
        kept = []
        for request in new:
            if request.url in wanted:
                wanted.discard(request.url)
                request.meta["walk_url"] = request.url
                kept.append(request)
        # The pages it leads to that are done already: not read again, but where they led is.
        follow[:] = [r for r in map(self.request_for, self.walk.resume([self.spec(r) for r in follow])) if r]
        return kept

    def discovered(
        self, response: Response, found: Found | None, requests: list[scrapy.Request], problems: list[str]
    ) -> Iterator[Any]:
        """What a read discovery URL yields: in a run, its requests; its problems are errors."""
        for problem in problems:
            self._error(response.url, problem, response.meta["kind"])
        yield from requests

    def article_page(self, response: Response) -> ArticlePage:
        """A fetched article page with the hints its discovery URL gave."""
        requested = response.meta.get("redirect_urls", [response.url])[0]
        page = ArticlePage(
            source=self.source.id,
            url=requested,
            final_url=response.url,
            html="",
            fetched_at=datetime.now(UTC),
            hint_published=response.meta.get("hint_published"),
            hint_title=response.meta.get("hint_title"),
        )
        if isinstance(response, TextResponse):
            page.html = response.text
            if self.crawler.settings.get("WIREWATCH_ARCHIVE"):  # [storage] archive: keep the page
                page.capture = Capture(
                    response.url,
                    page.fetched_at,
                    response.status,
                    _header_pairs(response.headers),
                    response.body,
                    _header_pairs(response.request.headers) if response.request else [],
                )
        else:
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or "unknown"
            page.error = f"not an HTML page (Content-Type {content_type})"
        return page

    def parse_article(self, response: Response) -> list[Any]:
        # A list, not a generator: Scrapy parses a generator callback's source to warn about a
        # `return value`, and its cache (weak references to bound methods) often misses.
        return [self.article_page(response)]
