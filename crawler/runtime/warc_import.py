"""`wirewatch import`: the HTML pages of WARC and ARC files through the crawl's own path.

Each page goes to the source whose domains and story patterns match its URL (or the one
forced), is extracted, flagged and given its story features by the crawl's worker processes
(pipelines/analyse.py), and is stored, grouped and flagged by `flow.keep`. A page published
(else fetched) within its source's max_age is the runs' to alert: stored silently, the next
run would find it known and never alert it, so it goes through the alert policy as a run's
would. Older pages are history: never alerted. The record's WARC-Date is the fetch time; the
page's own date is its publication time. Stored URLs (and their aliases) are skipped before
any work; dead links and pages that held no story when a crawl asked are not stored, and an
archive may hold the story they once were. Each stored article remembers its file and
offset, so `wirewatch reextract` can read it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.config.seeds import Source, source_of
from crawler.config.wirewatch import Config
from pipelines import flow
from pipelines.alerts.policy import AlertPolicy
from pipelines.analyse import Analyser, Analysis, Job, WatchlistFiles, fewer_collections
from pipelines.archive import Damaged, Other, Page, records
from pipelines.core.urls import normalize_url
from pipelines.extract.modes import Modes
from pipelines.store import Store
from pipelines.watch.watchlist import Watchlist

logger = logging.getLogger(__name__)

# Pages handed to each worker ahead of its answers, so that neither runs dry while this process
# commits a batch (30-60 ms) or waits for the other's answer to an older page: at 4, each worker
# waited about 2 s in an import of 10,000 pages, and the cores were busy 93% of it, not 95.5%.
IN_FLIGHT = 12
# Archives larger than this (about 300 gzipped pages) start every worker at once: their start-up
# (0.8 s of CPU each) is soon repaid. Smaller ones start a second only when pages wait.
EAGER_BYTES = 10_000_000


@dataclass
class Imported:
    """What an import did, for its summary."""

    records: int = 0
    html: int = 0
    stored: int = 0
    flagged: int = 0
    recent: int = 0  # stored within their source's max_age: through the alert policy, as a run's
    duplicates: int = 0
    unknown_source: int = 0
    non_html: int = 0
    malformed: int = 0
    no_story: int = 0
    problems: list[str] = field(default_factory=list)  # "FILE at offset N: cause", malformed records
    unknown_hosts: Counter[str] = field(default_factory=Counter)
    other_kinds: Counter[str] = field(default_factory=Counter)


Advance = Callable[[float, "Imported"], None]  # (bytes read since the last call, the counts so far)


def import_archives(
    config: Config,
    files: list[Path],
    sources: list[Source],
    watchlists: list[Watchlist],
    forced: Source | None = None,
    advance: Advance | None = None,
    counts: Imported | None = None,
) -> Imported:
    """Import every HTML page of ``files`` (the caller holds the run lock), counting into
    ``counts`` (so an interrupted import's counts are the caller's to show)."""
    counts = counts if counts is not None else Imported()
    files_of = WatchlistFiles(config.watchlist_paths, config.gazetteer, config.nlp_model)
    store = Store(config.database)
    store.batched = True  # committed every 200 articles or second, as a crawl does
    try:
        with fewer_collections():
            asyncio.run(_import(config, files, sources, forced, store, files_of, watchlists, counts, advance))
    finally:
        store.close()
    return counts


async def _import(
    config: Config,
    files: list[Path],
    sources: list[Source],
    forced: Source | None,
    store: Store,
    files_of: WatchlistFiles,
    watchlists: list[Watchlist],
    counts: Imported,
    advance: Advance | None,
) -> None:
    size = sum(path.stat().st_size for path in files)
    analyser = Analyser(config.crawl.workers, files_of, watchlists, bulk=size > EAGER_BYTES)
    modes = Modes(store)  # per source: with trafilatura's fallback, without, or checking both
    waiting: deque[tuple[str, str, Page, Source, asyncio.Future[Analysis]]] = deque()
    in_flight: set[str] = set()

    async def finish_one() -> None:
        file, url, page, source, future = waiting.popleft()
        result = await future
        in_flight.discard(url)
        modes.record(source.id, result.agreed, url)
        _keep(store, counts, file, page, url, source, result, config.max_age, config.alerts)

    try:
        for path in files:
            file = str(path.resolve())
            position = 0
            for record in records(path, config.crawl.max_page_bytes):
                counts.records += 1
                done, position = record.offset - position, record.offset
                if advance is not None:
                    advance(done, counts)
                if isinstance(record, Damaged):
                    counts.malformed += 1
                    counts.problems.append(f"{path} at offset {record.offset}: {record.problem}")
                    logger.warning("%s at offset %d: %s; skipped", path, record.offset, record.problem)
                    continue
                if isinstance(record, Other):
                    counts.non_html += 1
                    counts.other_kinds[record.kind] += 1
                    continue
                counts.html += 1
                url = normalize_url(record.url)
                source = forced or source_of(sources, url)
                if source is None:
                    counts.unknown_source += 1
                    counts.unknown_hosts[_host(url)] += 1
                    continue
                if url in in_flight or store.is_stored(url):
                    counts.duplicates += 1
                    continue
                in_flight.add(url)
                plan = modes.plan(source.id, source.fallback)
                future = asyncio.ensure_future(analyser.run(_job(record, source, plan)))
                waiting.append((file, url, record, source, future))
                while len(waiting) >= IN_FLIGHT * analyser.workers:
                    await finish_one()
            while waiting:
                await finish_one()
            if advance is not None:
                advance(path.stat().st_size - position, counts)
    finally:
        for entry in waiting:
            entry[-1].cancel()
        analyser.close()
        modes.save()


def _job(page: Page, source: Source, plan: str) -> Job:
    return Job(
        page.html,
        page.url,
        page.fetched_at,
        source.allowed_domains,
        source.timezone,
        source.language,
        favor=source.favor,
        boilerplate=source.boilerplate,
        fallback=plan != "fast",
        check=plan == "check",
    )


def _keep(
    store: Store,
    counts: Imported,
    file: str,
    page: Page,
    url: str,
    source: Source,
    result: Analysis,
    max_age: timedelta,
    policy: AlertPolicy,
) -> None:
    if result.article is None:
        counts.no_story += 1
        logger.info("%s at offset %d (%s): no story: %s", file, page.offset, url, result.error)
        return
    # Within the runs' reach (as a backfill's window ends): a run would alert it; stored
    # silently, the next run would find it known and the desk would never hear of it.
    published = result.article.published_at or page.fetched_at
    recent = published >= datetime.now(UTC) - (source.max_age or max_age)
    stored = flow.keep(
        store,
        source.id,
        result.article,
        result.verdicts,
        page.fetched_at,
        url,
        policy if recent else None,  # history is flagged, never alerted
        result.features,
        (file, page.offset),
        "import",
    )
    if stored is None:
        counts.duplicates += 1
        return
    counts.stored += 1
    counts.recent += recent
    if any(v.flagged for v in result.verdicts.values()):
        counts.flagged += 1


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0] or "(no host)"
