"""`wirewatch sources probe`: a live check of each source's feeds, sitemaps and listings.

The run's own spider (`NewsSpider`) with the run's settings (robots.txt, delays, address
guard) and no database, so it reads what a run would read: the same sub-sitemaps, listing
pages and article links. For every discovery URL it reports the HTTP status, how many article
links it holds and the newest date among them, and for a few of the newest links the run
would fetch whether extraction finds an article (title, date, length). It writes nothing, so it
can be run anywhere the internet is reachable before a seed is trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.config.seeds import Source
from crawler.config.wirewatch import Config
from crawler.discovery.links import Found
from crawler.discovery.spider import NewsSpider, describe_failure, excuse
from crawler.fetch.browser import browser_problem
from crawler.fetch.settings import crawl_settings
from pipelines.core.validation import ConfigError

logger = logging.getLogger(__name__)

ARTICLES_PER_URL = 3  # newest article links of each discovery URL that are fetched and extracted


@dataclass
class ProbeLine:
    """What one fetched URL showed."""

    source: str
    kind: str  # feed | sitemap | listing | article
    url: str
    ok: bool
    status: str  # "200", "HTTP 404", "timed out", "-" (not fetched), ...
    items: int | None = None  # article links (sub-sitemaps for a sitemap index)
    newest: datetime | None = None
    note: str = ""  # what extraction found, or what was wrong
    via: str = ""  # for an article: the discovery URL that linked it


class ProbeSpider(NewsSpider):
    """The run's spider reporting what it sees as ProbeLine items, and extracting (not storing)
    the newest ARTICLES_PER_URL articles of each discovery URL. A line is ok when the run
    would record no error for that URL and a discovery URL holds articles."""

    name = "probe"

    def failed(self, failure: Failure) -> list[Any]:
        request = failure.request  # type: ignore[attr-defined]
        message = describe_failure(failure)
        reason = excuse(request, message)
        line = ProbeLine(self.source.id, request.meta["kind"], request.url, reason is not None, message)
        line.via = request.meta.get("via", "")
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt, the address guard, a redirect off the source's domains
            text = str(failure.value) or type(failure.value).__name__
            line.status, line.note = "-", f"not fetched: {text[:1].lower()}{text[1:]}"
        elif reason:
            line.note = reason
        return [line]

    def discovered(
        self, response: Response, found: Found | None, requests: list[scrapy.Request], problems: list[str]
    ) -> Iterator[Any]:
        articles = [r for r in requests if r.meta["kind"] == "article"]
        yield self._line(response, found, len(articles), problems)
        yield from (r for r in requests if r.meta["kind"] != "article")
        yield from sorted(articles, key=_newest_first)[:ARTICLES_PER_URL]

    def _line(self, response: Response, found: Found | None, fetched: int, problems: list[str]) -> ProbeLine:
        line = ProbeLine(self.source.id, response.meta["kind"], response.url, False, str(response.status), 0)
        notes = list(problems)
        if found is not None and found.sitemaps:
            line.items = len(found.sitemaps)
            line.newest = max((s.published for s in found.sitemaps if s.published), default=None)
            followed = len(response.meta.get("children", ()))
            notes.insert(0, f"sitemap index of {len(found.sitemaps)} sitemaps")
            if followed < len(found.sitemaps) and not problems:
                notes.append(f"{len(found.sitemaps) - followed} last modified before max_age, not read")
        elif found is not None:
            articles = self.articles(found.links)
            line.items = len(articles)
            line.newest = max((s.published for s in articles if s.published), default=None)
            if not articles:
                notes.append(
                    f"none of its {len(found.links)} links matches articles.allow"
                    if found.links
                    else "no links"
                )
            elif fetched < len(articles):
                notes.append(f"{len(articles) - fetched} older than max_age, not fetched")
        line.ok = found is not None and bool(line.items) and not problems
        line.note = "; ".join(notes)
        return line

    def parse_article(self, response: Response) -> list[Any]:
        from pipelines.extract.page import ExtractionError, extract  # trafilatura: loaded where pages are

        page = self.article_page(response)
        line = ProbeLine(self.source.id, "article", page.url, False, str(response.status))
        line.via = response.meta["via"]
        if page.error:
            line.note = page.error
            return [line]
        try:
            story = extract(
                page.html,
                page.final_url,
                fetched_at=page.fetched_at,
                allowed_domains=self.source.allowed_domains,
                timezone=self.source.timezone,
                language=self.source.language,
                hint_published=page.hint_published,
                hint_title=page.hint_title,
                favor=self.source.favor,
                boilerplate=self.source.boilerplate,
                fallback=self.source.fallback is not False,
            )
        except ExtractionError as exc:
            line.note = f"no story: {exc}"
        else:
            line.ok, line.newest = True, story.published_at
            line.note = f"{story.title[:70]!r}, {len(story.text)} chars, date from {story.date_source}"
        return [line]


def _newest_first(request: scrapy.Request) -> tuple[bool, float]:
    published = request.meta["hint_published"]
    return (published is None, -(published.timestamp() if published else 0))


def probe(config: Config, sources: list[Source]) -> list[ProbeLine]:
    """Probe every discovery URL of the sources (in parallel, each with its own politeness)."""
    lines: list[ProbeLine] = []

    def collect(item: Any) -> None:
        if isinstance(item, ProbeLine):
            lines.append(item)

    process = CrawlerProcess(
        {"LOG_LEVEL": config.log_level, "LOG_INSTALL_ROOT_HANDLER": False, "TELNETCONSOLE_ENABLED": False}
    )
    problems = [p for p in (browser_problem(s, config.crawl) for s in sources) if p]
    if problems:
        raise ConfigError(problems)
    for i, source in enumerate(sources):
        settings = crawl_settings(config, source, [], config.database)
        # No database: the middlewares that need one (conditional GET, known URLs) switch
        # themselves off, and no stage runs: nothing is extracted in a worker or stored.
        settings.update(WIREWATCH_DB="", ITEM_PIPELINES={})
        crawler = Crawler(ProbeSpider, settings, init_reactor=i == 0)
        crawler.signals.connect(collect, signal=signals.item_scraped)
        process.crawl(
            crawler, source=source, max_age=config.max_age, max_page_bytes=config.crawl.max_page_bytes
        )
    process.start()
    order = {s.id: n for n, s in enumerate(sources)}
    kinds = {"feed": 0, "sitemap": 1, "listing": 2, "article": 3}
    lines.sort(key=lambda line: (order[line.source], kinds[line.kind], line.url))
    return lines
