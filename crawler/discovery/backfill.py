"""The walk of a backfill: which sitemaps and listing pages are done, kept in the database.

A discovery page (a sitemap, a sitemap index, a listing page) is *done* once every story it
links in the window is handled: stored, known already, or settled for good (a dead link, a
page with no story, one published outside the window). Only then is it recorded, through the
crawl's batched store, after those stories: a backfill killed at any moment has recorded no
page whose stories it had not stored. Started again on the same window, it skips the done
pages (following the sitemaps and next pages they led to from what was recorded) and reads
the others again; their stored stories are skipped by the known-URL check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals

from pipelines import store as storage
from pipelines.core.dates import Window, iso_utc
from pipelines.items import ArticlePage

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# A discovery page as recorded: {"url", "kind", "depth"} for a sitemap, {"url", "kind",
# "listing", "page"} for a listing page (listing: the URL of its first page).
Spec = dict[str, Any]


def window_key(window: Window, open_ended: bool) -> tuple[str, str]:
    """How a window is named in `backfill_pages`; an open window ('' until) stays the same one
    from one start to the next, though its end (now) moves."""
    return iso_utc(window.since), "" if open_ended else iso_utc(window.until)


@dataclass
class Counts:
    """What the progress display shows of a walk."""

    found: int = 0  # story links in the window, read so far
    handled: int = 0  # of those, stored, known or settled
    pages: int = 0  # discovery pages read
    done: int = 0  # discovery pages done (this time or before)
    skipped: int = 0  # done before: not read again


@dataclass
class Walk:
    """The state of one source's backfill walk (see the module's docstring)."""

    source: str
    since: str
    until: str
    store: storage.Store
    done: dict[str, list[Spec]]
    counts: Counts = field(default_factory=Counts)
    waiting: dict[str, set[str]] = field(default_factory=dict)  # page -> its stories in flight
    follow: dict[str, list[Spec]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)  # pages with a story that failed for now
    owner: dict[str, str] = field(default_factory=dict)  # story URL -> page that asked for it
    seen: set[str] = field(default_factory=set)  # story URLs in the window read so far

    @classmethod
    def from_crawler(cls, crawler: Crawler, source: str, window: Window, open_ended: bool) -> Walk:
        store = storage.shared(crawler.settings["WIREWATCH_DB"])
        since, until = window_key(window, open_ended)
        walk = cls(source, since, until, store, store.backfill_done(source, since, until))
        crawler.signals.connect(walk.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(walk.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(walk.item_error, signal=signals.item_error)
        crawler.signals.connect(walk.request_dropped, signal=signals.request_dropped)
        return walk

    def resume(self, roots: list[Spec]) -> Iterator[Spec]:
        """The pages to read: the roots, with each done page replaced by where it led."""
        stack, seen = list(reversed(roots)), set()
        while stack:
            spec = stack.pop()
            if spec["url"] in seen:
                continue
            seen.add(spec["url"])
            if spec["url"] in self.done:
                self.counts.skipped += 1
                self.counts.done += 1
                stack.extend(reversed(self.done[spec["url"]]))
            else:
                yield spec

    def read(self, page: str, stories: list[str], known: list[str], follow: list[Spec]) -> list[str]:
        """A page was read: ``stories`` (in the window, not known) to fetch, ``known`` ones (in
        the window, handled already) and the pages it leads to. Returns the stories to request:
        those no other page of this walk asked for already."""
        self.counts.pages += 1
        fresh = [url for url in dict.fromkeys(stories + known) if url not in self.seen]
        self.seen.update(fresh)
        self.counts.found += len(fresh)
        self.counts.handled += len(set(fresh) & set(known))
        mine = [url for url in dict.fromkeys(stories) if url not in self.owner]
        self.follow[page] = follow
        self.waiting[page] = set(mine)
        for url in mine:
            self.owner[url] = page
        if not mine:
            self._finish(page)
        return mine

    def settle(self, url: str, ok: bool) -> None:
        """A story's request ended: handled for good (``ok``), or to be fetched again next time."""
        page = self.owner.pop(url, None)
        if page is None:
            return
        self.counts.handled = min(self.counts.handled + 1, self.counts.found)
        if not ok:
            self.failed.add(page)
        waiting = self.waiting[page]
        waiting.discard(url)
        if not waiting:
            self._finish(page)

    def _finish(self, page: str) -> None:
        del self.waiting[page]
        if page in self.failed:
            logger.info("[%s] %s: a story failed, the page is read again next time", self.source, page)
            return
        self.store.backfill_page_done(self.source, self.since, self.until, page, self.follow.pop(page))
        self.counts.done += 1

    # -- Scrapy signals: how each story's request ended -------------------------------------

    def item_scraped(self, item: Any, response: Any, **_: Any) -> None:
        self.settle(_walk_url(response), ok=True)

    def item_dropped(self, item: Any, response: Any, **_: Any) -> None:
        url = _walk_url(response)
        # Extracted (a duplicate, or published outside the window) or now known (a page with no
        # story, a dead link): handled. A page that failed for a reason of ours is not.
        extracted = isinstance(item, ArticlePage) and item.article is not None
        self.settle(url, ok=extracted or (bool(url) and self.store.is_known(url)))

    def item_error(self, item: Any, response: Any, **_: Any) -> None:
        self.settle(_walk_url(response), ok=False)

    def request_dropped(self, request: Request, **_: Any) -> None:
        # The scheduler's duplicate filter: a redirect to a story this walk fetches anyway.
        self.settle(request.meta.get("walk_url", ""), ok=True)


def _walk_url(response: Any) -> str:
    """The story URL a response (or, for an errback's item, a failure) was asked for."""
    request = getattr(response, "request", None)
    meta = request.meta if isinstance(request, Request) else {}
    return str(meta.get("walk_url", ""))
