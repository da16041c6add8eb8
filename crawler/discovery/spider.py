"""The one spider: discovers article links from a source's feeds, sitemaps and listings, and
fetches each article page once."""

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
from crawler.discovery.links import (
    DiscoveryError,
    Found,
    maybe_gunzip,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from pipelines.core.urls import normalize_url
from pipelines.items import ArticlePage
from pipelines.scrapy_stages import record_error

logger = logging.getLogger(__name__)

# Sitemap indexes of big sites nest deeply; a few levels is all a news sitemap needs.
MAX_SITEMAP_DEPTH = 3


def describe_failure(failure: Failure) -> str:
    """A short operator-facing reason for a failed request."""
    exc = failure.value
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


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source: Source, max_age: timedelta, max_page_bytes: int, **kwargs: Any):
        super().__init__(name=source.id, **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self.tz = ZoneInfo(source.timezone)
        self.cutoff = datetime.now(UTC) - (source.max_age or max_age)
        self.max_page_bytes = max_page_bytes

    # -- bookkeeping ----------------------------------------------------------------------

    def _error(self, url: str, message: str, kind: str) -> None:
        record_error(self.crawler.stats, self.source.id, url, message, kind)

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get("kind", "page")
        message = describe_failure(failure)
        if kind == "article" and message in ("IgnoreRequest", "IgnoreRequest: Forbidden by robots.txt"):
            # robots.txt or an offsite redirect: policy, not a failure of the source
            self.crawler.stats.inc_value("wirewatch/article_ignored")
            logger.info("[%s] not fetched %s: %s", self.source.id, request.url, message)
            return
        if request.meta.get("next_page") and message in ("HTTP 404", "HTTP 410"):
            # A page_url template counts on past the last page: its 404 is the listing's end.
            logger.info("[%s] listing ends before %s (%s)", self.source.id, request.url, message)
            return
        self._error(request.url, message, kind)

    def _discovered(self, response: Response) -> None:
        self.crawler.stats.inc_value("wirewatch/discovery_ok")
        if response.status == 304:
            self.crawler.stats.inc_value("wirewatch/not_modified")

    # -- requests -------------------------------------------------------------------------

    def _discovery(self, url: str, kind: str, callback: Any, **meta: Any) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            meta={"kind": kind, "conditional": True, "handle_httpstatus_list": [304], **meta},
        )

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.feeds:
            yield self._discovery(url, "feed", self.parse_feed)
        for url in self.source.sitemaps:
            yield self._discovery(url, "sitemap", self.parse_sitemap, depth=0)
        for listing in self.source.listings:
            yield self._discovery(listing.url, "listing", self.parse_listing, listing=listing, page=1)

    def article_requests(self, found: Found, via: str) -> Iterator[scrapy.Request]:
        for link in found.links:
            url = normalize_url(link.url)
            if not self.source.is_article(url):
                continue
            if link.published is not None and link.published < self.cutoff:
                self.crawler.stats.inc_value("wirewatch/too_old")
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

    # -- callbacks ------------------------------------------------------------------------

    def _found(self, response: Response, parse: Any) -> Found | None:
        self._discovered(response)
        if response.status == 304:
            return None
        try:
            found: Found = parse(response)
        except DiscoveryError as exc:
            self._error(response.url, str(exc), response.meta["kind"])
            return None
        if found.warning:
            self._error(response.url, found.warning, response.meta["kind"])
        return found

    def parse_feed(self, response: Response) -> Iterator[Any]:
        found = self._found(
            response,
            lambda r: parse_feed(r.body, r.url, r.headers.get(b"Content-Type", b"").decode("latin-1")),
        )
        if found:
            yield from self.article_requests(found, response.url)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        depth = response.meta["depth"] + 1
        if response.status == 304:
            # An unchanged index: its sub-sitemaps may still have changed, so ask each of them.
            for url in response.meta.get("known_children", ()):
                yield self._discovery(url, "sitemap", self.parse_sitemap, depth=depth)
        found = self._found(
            response, lambda r: parse_sitemap(maybe_gunzip(r.body, self.max_page_bytes), self.tz)
        )
        if not found:
            return
        yield from self.article_requests(found, response.url)
        children = []
        for sub in found.sitemaps:
            if depth > MAX_SITEMAP_DEPTH:
                self._error(response.url, f"sitemap index nested deeper than {MAX_SITEMAP_DEPTH}", "sitemap")
                break
            if sub.published is not None and sub.published < self.cutoff:
                continue  # nothing in a sitemap last modified before the cutoff can be new
            children.append(normalize_url(sub.url))
            yield self._discovery(children[-1], "sitemap", self.parse_sitemap, depth=depth)
        response.meta["children"] = children

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if response.status != 304 and not isinstance(response, TextResponse):
            self._discovered(response)
            self._error(response.url, "listing is not an HTML page", "listing")
            return
        found = self._found(response, lambda r: parse_listing(r.text, r.url, self.tz))
        if not found:
            return
        listing: Listing = response.meta["listing"]
        page = response.meta["page"]
        dated = [
            link for link in found.links if link.published and self.source.is_article(normalize_url(link.url))
        ]
        if dated:
            # The dated teasers are the listing; undated article links around them are menus and
            # sidebars ("most read"), which reach back months. Feeds and sitemaps cover the rest.
            found = Found(dated, [], found.next_page)
        yield from self.article_requests(found, response.url)
        if dated and max(link.published for link in dated if link.published) < self.cutoff:
            self.crawler.stats.inc_value("wirewatch/listing/stopped_old")
            return
        if page >= listing.max_pages:
            return
        next_url = listing.page_url.format(n=page + 1) if listing.page_url else found.next_page
        if next_url:
            request = self._discovery(next_url, "listing", self.parse_listing, listing=listing, page=page + 1)
            request.meta["next_page"] = True
            yield request

    def parse_article(self, response: Response) -> list[ArticlePage]:
        # A list, not a generator: Scrapy parses a generator callback's source to warn about a
        # `return value`, and its cache (weak references to bound methods) often misses.
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
        else:
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or "unknown"
            page.error = f"not an HTML page (Content-Type {content_type})"
        return [page]
