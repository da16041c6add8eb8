"""Extraction and watchlist scoring of a page, in a pool of worker processes.

Scrapy runs on one thread; trafilatura, the watchlists and spaCy are CPU work. Pages are
handed to ``workers`` processes (one per core by default) so both cores extract while the
reactor keeps downloading; Scrapy's limit on bytes in its item pipelines bounds how many
pages wait, so memory stays flat. The pool starts with the first page: a run that finds
nothing new never starts it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.watchlist import Verdict, Watchlist, load_watchlists

if TYPE_CHECKING:
    from pipelines.extract import Story

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    html: str
    url: str
    fetched_at: datetime
    allowed_domains: tuple[str, ...]
    timezone: str
    language: str
    hint_published: datetime | None = None
    hint_title: str | None = None
    favor: str = "balanced"  # the seed's [extraction] hints
    boilerplate: tuple[re.Pattern[str], ...] = ()


@dataclass
class Analysis:
    story: Story | None = None
    error: str | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    transient: bool = False  # the error is ours, not the page's: fetch it again next run
    features: Any = None  # for clustering (pipelines.cluster.Features): CPU work done here too


@dataclass(frozen=True)
class WatchlistFiles:
    """Where a worker process loads the watchlists from (compiled rules do not travel)."""

    paths: tuple[Path, ...]
    gazetteer: Path | None
    model: str


def analyse(job: Job, watchlists: list[Watchlist]) -> Analysis:
    from pipelines.extract import ExtractionError, extract  # trafilatura: loaded where pages are

    try:
        story = extract(
            job.html,
            job.url,
            fetched_at=job.fetched_at,
            allowed_domains=job.allowed_domains,
            timezone=job.timezone,
            language=job.language,
            hint_published=job.hint_published,
            hint_title=job.hint_title,
            favor=job.favor,
            boilerplate=job.boilerplate,
        )
    except ExtractionError as exc:
        return Analysis(error=str(exc))
    from pipelines.cluster import features

    verdicts = {w.name: w.classify(story.title, story.text) for w in watchlists}
    return Analysis(story, None, verdicts, features=features(story.title, story.text))


_WORKER_WATCHLISTS: list[Watchlist] = []


def _start_worker(files: WatchlistFiles) -> None:
    global _WORKER_WATCHLISTS
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _WORKER_WATCHLISTS = load_watchlists(files.paths, files.gazetteer, files.model)


def _exit_with_parent(parent: int) -> None:
    """A crawl killed with SIGKILL cannot stop its workers: they notice and leave by themselves."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _analyse_in_worker(job: Job) -> Analysis:
    return analyse(job, _WORKER_WATCHLISTS)


class Analyser:
    """Runs ``analyse`` in worker processes, or in this process when ``workers`` is 1."""

    def __init__(self, workers: int, files: WatchlistFiles, watchlists: list[Watchlist]):
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.files = files
        self.watchlists = watchlists
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            logger.info("starting %d extraction workers", self.workers)
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.files,),
            )
        return self._pool

    async def run(self, job: Job) -> Analysis:
        if self.workers == 1:
            return analyse(job, self.watchlists)
        try:
            return await asyncio.wrap_future(self._executor().submit(_analyse_in_worker, job))
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory): this page fails, the next gets a new pool.
            self._pool = None
            return Analysis(error=f"extraction worker died: {exc}", transient=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_SHARED: dict[tuple[int, WatchlistFiles], Analyser] = {}


def shared_analyser(workers: int, files: WatchlistFiles, watchlists: list[Watchlist]) -> Analyser:
    """One pool per process, shared by the crawlers of all sources."""
    key = (workers, files)
    if key not in _SHARED:
        _SHARED[key] = Analyser(workers, files, watchlists)
    return _SHARED[key]


def close_all() -> None:
    for analyser in _SHARED.values():
        analyser.close()
    _SHARED.clear()
