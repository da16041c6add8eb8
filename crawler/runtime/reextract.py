"""`wirewatch reextract`: stored articles extracted again from their archived pages.

Each article whose page is kept (the crawl's WARC archive, or the file it was imported from)
is read back at its offset and goes through the crawl's extraction, watchlists and story
features again, in the crawl's worker processes, with its seed's current hints; its text,
title, author, date and language are replaced and its flags brought in line (`flow.refresh`),
never alerted. Grouping depends on the texts of all earlier articles, so when any text
changed the stories are regrouped afterwards (`flow.regroup`, as `recluster` does). No
network is touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from crawler.config.seeds import Source
from crawler.config.wirewatch import Config
from crawler.runtime.regroup import regroup
from pipelines import flow
from pipelines.analyse import Analyser, Analysis, Job, WatchlistFiles, fewer_collections
from pipelines.archive import ArchiveError, page_at
from pipelines.store import ArchivedArticle, Store
from pipelines.watch.watchlist import Watchlist

logger = logging.getLogger(__name__)

IN_FLIGHT = 4  # pages handed to each worker ahead of its answers


@dataclass
class Reextracted:
    articles: int = 0
    changed: int = 0
    unchanged: int = 0
    no_page: int = 0
    failed: int = 0  # the page is there but yields no story now (the stored text is kept)
    unreadable: int = 0  # the archive file or record is gone or damaged
    regrouped: int | None = None
    no_page_urls: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


Advance = Callable[[int, "Reextracted"], None]


def reextract(
    config: Config,
    sources: list[Source],
    watchlists: list[Watchlist],
    source: str | None = None,
    since: datetime | None = None,
    advance: Advance | None = None,
    counts: Reextracted | None = None,
) -> Reextracted:
    """Extract the selected stored articles again (the caller holds the run lock)."""
    counts = counts if counts is not None else Reextracted()
    store = Store(config.database)
    store.batched = True  # committed every 200 articles or second, as a crawl does
    try:
        with fewer_collections():
            asyncio.run(_reextract(config, sources, watchlists, source, since, store, counts, advance))
    finally:
        store.close()
    if counts.changed:
        counts.regrouped = regroup(config, trigger="reextract").articles
    return counts


async def _reextract(
    config: Config,
    sources: list[Source],
    watchlists: list[Watchlist],
    source: str | None,
    since: datetime | None,
    store: Store,
    counts: Reextracted,
    advance: Advance | None,
) -> None:
    files = WatchlistFiles(config.watchlist_paths, config.gazetteer, config.nlp_model)
    analyser = Analyser(config.crawl.workers, files, watchlists)
    by_id = {s.id: s for s in sources}
    folder = config.database.parent
    waiting: deque[tuple[ArchivedArticle, asyncio.Future[Analysis]]] = deque()

    async def finish_one() -> None:
        article, future = waiting.popleft()
        result = await future
        if result.article is None:
            counts.failed += 1
            counts.problems.append(f"{article.url}: no story now ({result.error}); the stored text is kept")
        elif flow.refresh(store, article.id, result.article, result.verdicts):
            counts.changed += 1
        else:
            counts.unchanged += 1
        if advance is not None:
            advance(1, counts)

    try:
        for batch in store.archived_articles(source, since):
            for article in batch:
                counts.articles += 1
                if article.file is None or article.offset is None:
                    counts.no_page += 1
                    counts.no_page_urls.append(article.url)
                    if advance is not None:
                        advance(1, counts)
                    continue
                try:
                    page = page_at(folder / article.file, article.offset, config.crawl.max_page_bytes)
                except ArchiveError as exc:
                    counts.unreadable += 1
                    counts.problems.append(f"{article.url}: {exc}")
                    if advance is not None:
                        advance(1, counts)
                    continue
                seed = by_id.get(article.source)
                job = Job(
                    page.html,
                    page.url,
                    article.fetched_at,
                    seed.allowed_domains if seed else (),
                    seed.timezone if seed else "UTC",
                    seed.language if seed else "en",
                    # What the crawl had from the feed: a date the page may lack, the title.
                    article.published_at if article.date_source == "feed" else None,
                    article.title,
                    seed.favor if seed else "balanced",
                    seed.boilerplate if seed else (),
                    seed.fallback is not False if seed else True,  # unset: the full extraction
                )
                waiting.append((article, asyncio.ensure_future(analyser.run(job))))
                while len(waiting) >= IN_FLIGHT * analyser.workers:
                    await finish_one()
        while waiting:
            await finish_one()
    finally:
        for entry in waiting:
            entry[-1].cancel()
        analyser.close()
