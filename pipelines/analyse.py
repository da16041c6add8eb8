"""Extraction and watchlist scoring of a page, in a pool of worker processes.

Scrapy runs on one thread; trafilatura, the watchlists and spaCy are CPU work. Pages are
handed to up to ``workers`` processes (one per core by default) so both cores extract while
the reactor keeps downloading; Scrapy's limit on bytes in its item pipelines bounds how many
pages wait, so memory stays flat. Workers start as pages need them: a run that finds nothing
new starts none, a run with a few new stories one.
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

GROW_AFTER = 2.0  # seconds pages wait for a busy worker before another worker starts


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
    """Runs ``analyse`` in worker processes, or in this process when ``workers`` is 1.

    Each worker is a pool of one process. The first starts with the first page; another only
    once pages have waited for GROW_AFTER seconds: starting a worker costs about 1.3 s of CPU
    (trafilatura, spaCy, the gazetteer), more than a run with a few new stories needs, while
    a large crawl soon has every worker busy.
    """

    def __init__(self, workers: int, files: WatchlistFiles, watchlists: list[Watchlist]):
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.files = files
        self.watchlists = watchlists
        self._pending: dict[ProcessPoolExecutor, int] = {}  # each worker's pages in hand
        self._waiting_since: float | None = None  # since when every worker has had a queue

    def _worker(self) -> ProcessPoolExecutor:
        """The least busy worker, or a new one when there is none or pages have waited long."""
        idle = [w for w, pending in self._pending.items() if pending == 0]
        if idle:
            self._waiting_since = None
            return idle[0]
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if not self._pending or (
            len(self._pending) < self.workers and now - self._waiting_since >= GROW_AFTER
        ):
            logger.info("starting extraction worker %d of %d", len(self._pending) + 1, self.workers)
            worker = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.files,),
            )
            self._pending[worker] = 0
            self._waiting_since = None
            return worker
        return min(self._pending, key=self._pending.__getitem__)

    async def run(self, job: Job) -> Analysis:
        if self.workers == 1:
            return analyse(job, self.watchlists)
        worker = self._worker()
        self._pending[worker] += 1
        try:
            return await asyncio.wrap_future(worker.submit(_analyse_in_worker, job))
        except BrokenProcessPool as exc:
            # The worker died (killed, out of memory): this page fails; the next goes to another
            # worker or a new one.
            if self._pending.pop(worker, None) is not None:
                worker.shutdown(wait=False, cancel_futures=True)
            return Analysis(error=f"extraction worker died: {exc}", transient=True)
        finally:
            if worker in self._pending:
                self._pending[worker] -= 1

    def close(self) -> None:
        while self._pending:
            worker, _ = self._pending.popitem()
            worker.shutdown(wait=True, cancel_futures=True)


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
