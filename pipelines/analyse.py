"""Extraction and watchlist scoring of a page, in a pool of worker processes.

Scrapy runs on one thread; trafilatura, the watchlists and spaCy are CPU work. Pages are
handed to up to ``workers`` processes (one per core by default) so both cores extract while
the reactor keeps downloading; Scrapy's limit on bytes in its item pipelines bounds how many
pages wait, so memory stays flat. Workers start as pages need them: a run that finds nothing
new starts none, a run with a few new articles one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
import os
import pickle
import re
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.core.records import Verdict
from pipelines.watch import Watchlist, load_watchlists

if TYPE_CHECKING:
    from pipelines.core.records import Article

logger = logging.getLogger(__name__)

GROW_AFTER = 2.0  # seconds pages wait for a busy worker before another worker starts
PIPE_BYTES = 1 << 20  # pipe buffer asked for: most pages go to a worker in one write
# Bytes asked of a worker's pipe per read: answers are about 12 KB. os.read allocates what it is
# asked for, and 1 MB per read (malloc maps it, then gives it back) cost 24 us a read against 3.
READ_BYTES = 1 << 16
# Pages make many short-lived objects and almost no reference cycles: Python's default (a
# collection of young objects every 700 allocations) took 8% of the crawling process's CPU
# and found next to nothing. Crawls and workers collect every 10,000 instead.
GC_THRESHOLD = (10_000, 20, 20)


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
    fallback: bool = True
    check: bool = False  # extract without the fallback too and say whether the texts agree


@dataclass
class Analysis:
    article: Article | None = None
    error: str | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    transient: bool = False  # the error is ours, not the page's: fetch it again next run
    features: Any = None  # for clustering (pipelines.stories.Features): CPU work done here too
    agreed: bool | None = None  # a checked page: did both extractions give the same text


@dataclass(frozen=True)
class WatchlistFiles:
    """Where a worker process loads the watchlists from (compiled rules do not travel)."""

    paths: tuple[Path, ...]
    gazetteer: Path | None
    model: str


def analyse(job: Job, watchlists: list[Watchlist]) -> Analysis:
    from pipelines.extract.page import ExtractionError, extract_checked  # trafilatura: loaded where pages are

    try:
        article, agreed = extract_checked(
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
            fallback=job.fallback,
            check=job.check,
        )
    except ExtractionError as exc:
        return Analysis(error=str(exc))
    from pipelines.stories import features

    verdicts = {w.name: w.classify(article.title, article.text) for w in watchlists}
    return Analysis(article, None, verdicts, features=features(article.title, article.text), agreed=agreed)


class WorkerDied(Exception):
    """An extraction worker ended with pages in hand."""


class _Worker:
    """One extraction process (``serve`` below), fed jobs on its stdin and answering on its
    stdout, in order. The reactor reads and writes the pipes itself when they are ready: no
    thread hands pages over (a process pool's feeder and manager threads cost the crawling
    process about 0.75 ms of CPU per page)."""

    def __init__(self, files: WatchlistFiles, bulk: bool):
        root = str(Path(__file__).resolve().parent.parent)  # wherever this copy of pipelines is
        path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from pipelines.analyse import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self.process.stdin is not None and self.process.stdout is not None, "PIPE given"
        self.stdin, self.stdout = self.process.stdin.fileno(), self.process.stdout.fileno()
        for fd in (self.stdin, self.stdout):
            os.set_blocking(fd, False)
            with contextlib.suppress(OSError):  # a page whole per write, where Linux allows it
                fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
        self.loop = asyncio.get_running_loop()
        self.waiting: deque[asyncio.Future[Analysis]] = deque()
        self.outbox = bytearray()
        self.inbox = bytearray()
        self.closed = False
        self.loop.add_reader(self.stdout, self._read)
        self._send((files, bulk))

    def analyse(self, job: Job) -> asyncio.Future[Analysis]:
        future: asyncio.Future[Analysis] = self.loop.create_future()
        if self.closed:
            future.set_exception(WorkerDied(self._why()))
            return future
        self.waiting.append(future)
        self._send(job)
        return future

    def _send(self, message: object) -> None:
        body = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        was_empty = not self.outbox
        self.outbox += len(body).to_bytes(8, "big") + body
        if was_empty:
            self._write()
            if self.outbox and not self.closed:
                self.loop.add_writer(self.stdin, self._write)

    def _write(self) -> None:
        try:
            written = os.write(self.stdin, self.outbox)
        except BlockingIOError:
            return
        except OSError:  # the worker is gone: its stdout's end tells the pages waiting
            self.outbox.clear()
            self.loop.remove_writer(self.stdin)
            return
        del self.outbox[:written]
        if not self.outbox:
            self.loop.remove_writer(self.stdin)

    def _read(self) -> None:
        try:
            chunk = os.read(self.stdout, READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self._receive(chunk)
        else:
            self._end()

    def _receive(self, chunk: bytes) -> None:
        self.inbox += chunk
        while len(self.inbox) >= 8:
            size = int.from_bytes(self.inbox[:8], "big")
            if len(self.inbox) < 8 + size:
                break
            try:
                result = pickle.loads(self.inbox[8 : 8 + size])
                future = self.waiting.popleft()
            except Exception as exc:  # not an answer to a page it was given: stop trusting it
                logger.error("extraction worker %d sent an unreadable answer: %s", self.process.pid, exc)
                self.process.kill()
                self._end()
                return
            del self.inbox[: 8 + size]
            if not future.done():
                future.set_result(result)

    def _why(self) -> str:
        code = self.process.poll()
        return f"exit code {code}" if code is not None else "its output ended"

    def _end(self) -> None:
        """The worker is gone: every page it held fails."""
        self.close(wait=False)
        error = WorkerDied(self._why())
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def close(self, wait: bool = True) -> None:
        """Stop feeding the worker: it leaves when it has read the last job (or at once)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):  # the loop may be closed already
                self.loop.remove_reader(self.stdout)
                self.loop.remove_writer(self.stdin)
            assert self.process.stdin is not None and self.process.stdout is not None, "PIPE given"
            self.process.stdin.close()
            self.process.stdout.close()
        if wait:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        else:
            self.process.poll()


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """GC_THRESHOLD while a crawl runs in this process; the previous thresholds after."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def serve() -> None:
    """A worker process: read the watchlist files (and whether it works for a bulk import),
    then jobs, from stdin; write an Analysis per job to stdout. Ends when stdin does, as when
    the crawl that started it is killed."""
    source, sink = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the answers

    def receive() -> Any:
        header = source.read(8)
        if len(header) < 8:  # the crawl is over (or gone)
            sys.stderr.flush()
            os._exit(0)  # tearing down trafilatura, spaCy and numpy costs CPU and saves nothing
        return pickle.loads(source.read(int.from_bytes(header, "big")))

    gc.set_threshold(*GC_THRESHOLD)
    files, bulk = receive()
    watchlists = load_watchlists(files.paths, files.gazetteer, files.model)
    if bulk:  # spaCy loaded at the first page needing it held that page 0.76 s: the other ran dry
        for watchlist in watchlists:
            watchlist.load()
    while True:
        job: Job = receive()
        try:
            result = analyse(job, watchlists)
        except Exception as exc:  # a bug, not the page: say so, fetch the page again next run
            logger.exception("analysing %s failed", job.url)
            result = Analysis(error=f"analysis failed: {type(exc).__name__}: {exc}", transient=True)
        body = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
        sink.write(len(body).to_bytes(8, "big") + body)
        sink.flush()


class Analyser:
    """Runs ``analyse`` in worker processes, or in this process when ``workers`` is 1.

    The first worker starts with the first page; another only once pages have waited for
    GROW_AFTER seconds: a worker costs about 0.8 s of CPU before its first answer (importing
    trafilatura and spaCy, loading the language model), more than a run with a
    few new articles needs, while a large crawl soon has every worker busy.
    """

    def __init__(
        self,
        workers: int,
        files: WatchlistFiles,
        watchlists: list[Watchlist],
        bulk: bool = False,
    ):
        """``bulk`` (a large import): every worker starts as soon as every one has a page, and
        loads all it may need before its first page (the entity pipeline), so that no page
        holds one worker long while the pages behind it wait."""
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.bulk = bulk
        self.files = files
        self.watchlists = watchlists
        self._pending: dict[_Worker, int] = {}  # each worker's pages in hand
        self._waiting_since: float | None = None  # since when every worker has had a queue

    def _worker(self) -> _Worker:
        """The least busy worker, or a new one when there is none or pages have waited long."""
        idle = [w for w, pending in self._pending.items() if pending == 0]
        if idle:
            self._waiting_since = None
            return idle[0]
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if not self._pending or (
            len(self._pending) < self.workers
            and now - self._waiting_since >= (0.0 if self.bulk else GROW_AFTER)
        ):
            logger.info("starting extraction worker %d of %d", len(self._pending) + 1, self.workers)
            worker = _Worker(self.files, self.bulk)
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
            return await worker.analyse(job)
        except WorkerDied as exc:
            # The worker died (killed, out of memory): this page fails; the next goes to another
            # worker or a new one.
            self._pending.pop(worker, None)
            return Analysis(error=f"extraction worker died: {exc}", transient=True)
        finally:
            if worker in self._pending:
                self._pending[worker] -= 1

    def close(self) -> None:
        while self._pending:
            worker, _ = self._pending.popitem()
            worker.close()


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
