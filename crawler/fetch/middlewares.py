"""Scrapy middlewares: address guard, conditional GET, retry with backoff, known-URL filter."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Iterable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from pipelines import store as storage
from pipelines.core.urls import is_private_host
from pipelines.scrapy_stages import record_error
from pipelines.store import Validators

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

logger = logging.getLogger(__name__)


class RefusedRequest(IgnoreRequest):
    """A request the crawler will not make (scheme or address not allowed)."""


class AddressPolicy:
    """Which hosts may be fetched: never loopback, private or link-local addresses unless
    allowed, either all of them (test sites) or the listed ``host`` / ``host:port`` ones.

    Host names are resolved once per crawl and every address they resolve to is checked, so a
    public-looking name pointing at 127.0.0.1 is refused as well. Used for Scrapy's requests
    (AddressGuardMiddleware) and for every request a browser page makes (crawler/fetch/browser.py).
    """

    def __init__(self, allow_private: bool, allowed: Iterable[str] = ()):
        self.allow_private = allow_private
        self.allowed = frozenset(a.lower() for a in allowed)
        self.verdicts: dict[str, str | None] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        return cls(
            settings.getbool("WIREWATCH_ALLOW_PRIVATE"), settings.getlist("WIREWATCH_ALLOW_PRIVATE_HOSTS")
        )

    def allows_any(self, host: str, port: int | None) -> bool:
        """True when no check is needed: private addresses allowed, or this host listed."""
        host = host.lower()
        return self.allow_private or host in self.allowed or f"{host}:{port}" in self.allowed

    async def refusal(self, url: str) -> str | None:
        """Why ``url`` must not be fetched, or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"refused {url}: only http and https URLs are fetched"
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return f"refused {url}: not a valid port"
        if self.allows_any(host, port):
            return None
        if host not in self.verdicts:
            self.verdicts[host] = await self._check(host)
        if self.verdicts[host]:
            return (
                f"refused {url}: {self.verdicts[host]} "
                "(set crawl.allow_private_addresses = true only for test sites)"
            )
        return None

    def allows_connection(self, host: str, port: int | None, address: IPAddress | None) -> bool:
        """False when a connection went to a non-public address the policy does not allow."""
        return address is None or address.is_global or self.allows_any(host, port)

    @staticmethod
    async def _check(host: str) -> str | None:
        if is_private_host(host):
            return f"{host} is a loopback, private or link-local address"
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return None  # let the downloader report the DNS failure in its own words
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                return f"{host} resolves to the non-public address {address}"
        return None


class AddressGuardMiddleware:
    """Fetch only http(s), and never loopback, private or link-local addresses unless allowed
    (AddressPolicy).

    The downloader resolves the name again when it connects, and an answer can change in
    between (DNS rebinding), so the address each response actually came from is checked too,
    and a non-public one is refused.
    """

    def __init__(self, allow_private: bool, allowed: Iterable[str] = ()):
        self.policy = AddressPolicy(allow_private, allowed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        policy = AddressPolicy.from_settings(crawler.settings)
        return cls(policy.allow_private, policy.allowed)

    async def process_request(self, request: Request) -> None:
        reason = await self.policy.refusal(request.url)
        if reason:
            raise RefusedRequest(reason)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        parts = urlparse_cached(request)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.policy.allows_connection(parts.hostname or "", port, response.ip_address):
            return response
        raise RefusedRequest(
            f"refused {request.url}: the connection went to the non-public address {response.ip_address}, "
            "though the name resolved to public ones when checked (DNS rebinding?)"
        )


class ConditionalGetMiddleware:
    """If-None-Match / If-Modified-Since for feeds, sitemaps and listings (meta ``conditional``).

    New validators are kept in memory and saved when the crawl finishes cleanly with no failed
    article download: a crawl that was killed, or that could not fetch an article it discovered,
    reads the whole feed again next time instead of being told "304, nothing new".
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = storage.shared(crawler.settings["WIREWATCH_DB"])
        self.pending: dict[str, tuple[str | None, str | None, dict[str, Any]]] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        if not crawler.settings.get("WIREWATCH_DB"):
            raise NotConfigured  # no database (`sources probe`): off, and silently
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get("conditional"):
            known = self.store.validators(request.url)
            if known.etag:
                request.headers.setdefault(b"If-None-Match", known.etag)
            if known.last_modified:
                request.headers.setdefault(b"If-Modified-Since", known.last_modified)
            # On a 304 for a sitemap index, the spider re-reads the sub-sitemaps it followed.
            request.meta["known_children"] = known.children
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        kind = request.meta.get("kind", "other")
        self.stats.inc_value(f"wirewatch/responses/{kind}/{response.status}")
        if request.meta.get("conditional") and response.status == 200:
            etag = response.headers.get(b"ETag")
            last_modified = response.headers.get(b"Last-Modified")
            if etag or last_modified:
                # The meta dict is the request's own: the spider adds "children" to it while
                # parsing a sitemap index, before the crawl closes and this is saved.
                self.pending[request.url] = (
                    etag.decode("latin-1") if etag else None,
                    last_modified.decode("latin-1") if last_modified else None,
                    request.meta,
                )
        return response

    def spider_closed(self, reason: str) -> None:
        if reason == "finished" and not self.stats.get_value("wirewatch/article_errors"):
            self.store.save_validators(
                {
                    url: Validators(etag, modified, tuple(meta.get("children", ())))
                    for url, (etag, modified, meta) in self.pending.items()
                }
            )
        elif self.pending:
            logger.info(
                "not saving %d feed validators: crawl %s with article errors", len(self.pending), reason
            )


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting ``backoff * 2**(n-1)`` seconds (or Retry-After) before retry n."""

    MAX_WAIT = 300.0
    backoff: float = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.backoff = crawler.settings.getfloat("WIREWATCH_RETRY_BACKOFF")
        return mw

    async def _wait(self, retry: Request | None, response: Response | None = None) -> None:
        if retry is None or self.backoff <= 0:
            return
        wait = self.backoff * 2 ** (retry.meta.get("retry_times", 1) - 1)
        header = response.headers.get(b"Retry-After") if response is not None else None
        if header:
            wait = max(wait, _retry_after_seconds(header.decode("latin-1")))
        await asyncio.sleep(min(wait, self.MAX_WAIT))

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, response)
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result)
        return result


def _retry_after_seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return 0.0


class KnownUrlsMiddleware:
    """Drops requests for articles already stored, and stops a listing's pagination when a page
    links no article that is not stored yet (not in a backfill: it walks on past what a run stored)."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.store = storage.shared(crawler.settings["WIREWATCH_DB"])
        self.stop_at_known = crawler.settings.get("WIREWATCH_WINDOW") is None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownUrlsMiddleware:
        if not crawler.settings.get("WIREWATCH_DB"):
            raise NotConfigured  # no database (`sources probe`): off, and silently
        return cls(crawler)

    def _filter(self, response: Response | None, result: list[Any]) -> list[Any]:
        kept, new_articles, next_pages = [], 0, []
        for obj in result:
            if isinstance(obj, Request) and obj.meta.get("kind") == "article":
                if self.store.is_known(obj.url):
                    self.stats.inc_value("wirewatch/known_skipped")
                    continue
                new_articles += 1
            if isinstance(obj, Request) and obj.meta.get("next_page"):
                next_pages.append(obj)
                continue
            kept.append(obj)
        if next_pages and new_articles == 0 and self.stop_at_known:
            self.stats.inc_value("wirewatch/listing/stopped_known")
            logger.debug("%s: no new article on this page, not following the next page", response)
            return kept
        return kept + next_pages

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        return self._filter(response, list(result))

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        for obj in self._filter(response, [o async for o in result]):
            yield obj


class LoopAwareDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, which also reports a redirect loop (A -> B -> A) instead of
    silently dropping the request that closes it."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LoopAwareDupeFilter:
        dupefilter = super().from_crawler(crawler)
        dupefilter.crawler = crawler
        return dupefilter

    def log(self, request: Request, spider: Any) -> None:
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain and self.crawler.stats is not None:
            record_error(
                self.crawler.stats,
                self.crawler.spider.name if self.crawler.spider else "?",
                chain[0],
                f"redirect loop: {' -> '.join([*chain, request.url])}",
                request.meta.get("kind", "page"),
            )
        super().log(request, spider)
