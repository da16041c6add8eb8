"""The live display of a crawl on a terminal: one line per source, redrawn a few times a second.

Each line is read from the source's crawler while the reactor runs (a LoopingCall): its Scrapy
stats (the keys `run.summarize` reads) and its downloader (a request under way, or the delay
it waits out). A backfill's line adds its walk: pages read, stories handled of those found in
the window, a bar and the time left. Drawn with rich's Live on standard error, and only there:
`wirewatch run` shows it when standard error is a terminal, never under cron, systemd or the
daemon. Without a terminal a backfill logs the same figures every 30 s (`Progress`) instead.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from twisted.internet.task import LoopingCall

from crawler.runtime.progress import Progress, duration, logging_through

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.discovery.backfill import Counts

logger = logging.getLogger(__name__)

REFRESH = 0.25  # seconds between redraws: 4 a second, a few ms of CPU each


def state(crawler: Crawler) -> str:
    """What a source's crawler is doing: starting, fetching, waiting out its delay, done..."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if stats.get("wirewatch/blocked"):
        return "blocked"
    if "finish_reason" in stats:
        return "done" if stats["finish_reason"] == "finished" else "stopped"
    engine = crawler.engine
    if engine is None or not crawler.crawling:
        return "starting"
    slots = list(engine.downloader.slots.values())
    active = sum(len(slot.active) for slot in slots)
    if active:
        return f"fetching ({active})" if active > 1 else "fetching"
    fetched = stats.get("wirewatch/responses/article/200", 0)
    waiting = fetched - stats.get("wirewatch/extract/ok", 0) - stats.get("wirewatch/extract/failed", 0)
    if waiting > 0:
        return f"extracting ({waiting})"
    delay = max((slot.delay for slot in slots), default=0.0)
    if delay >= 0.5:
        return f"waiting (delay {delay:.0f} s)"
    return "working"


def walk_counts(crawler: Crawler) -> Counts | None:
    walk = getattr(crawler.spider, "walk", None)
    return walk.counts if walk is not None else None


class CrawlDisplay:
    """Per-source lines of a crawl under way (``live``), and/or a backfill's log lines (``log``)."""

    def __init__(
        self,
        crawlers: list[tuple[str, Crawler]],
        live: bool,
        log: bool = False,
        console: Console | None = None,
        every: float = 30.0,
    ):
        self.crawlers = crawlers
        self.began = time.monotonic()
        self._live = (
            Live(console=console or Console(stderr=True), auto_refresh=False, transient=True)
            if live
            else None
        )
        self._ticker = LoopingCall(self.refresh)
        self._logs = (
            {name: Progress(f"backfill {name}", "stories", every=every, live=False) for name, _ in crawlers}
            if log
            else {}
        )
        self._handlers: Any = None

    def start(self) -> None:
        if self._live is not None:
            self._live.start()
            self._handlers = logging_through(sys.stderr)  # log lines above the display, not through it
        self._ticker.start(REFRESH if self._live is not None else 1.0)

    def stop(self) -> None:
        if self._ticker.running:
            self._ticker.stop()
        self.refresh()
        if self._live is not None:
            self._live.stop()
            if self._handlers is not None:
                self._handlers()
        for progress in self._logs.values():
            progress.__exit__(None, None, None)

    def refresh(self) -> None:
        try:
            if self._live is not None:
                self._live.update(self.table(), refresh=True)
            for name, crawler in self.crawlers:
                counts = walk_counts(crawler)
                if name in self._logs and counts is not None:
                    stats = crawler.stats.get_stats() if crawler.stats else {}
                    self._logs[name].update(
                        counts.handled,
                        counts.found,
                        pages=counts.pages,
                        stored=stats.get("wirewatch/store/new", 0),
                        flagged=stats.get("wirewatch/store/flagged", 0),
                        errors=len(stats.get("wirewatch/errors", [])),
                    )
        except Exception:  # a display must never stop a crawl
            logger.exception("progress display failed; going on without it")
            if self._ticker.running:
                self._ticker.stop()

    def table(self) -> Table:
        walking = any(walk_counts(c) is not None for _, c in self.crawlers)
        table = Table(box=None, pad_edge=False, header_style="bold")
        for name in ("source", "status", "requests", "new", "flagged", "errors"):
            table.add_column(name, justify="left" if name in ("source", "status") else "right")
        if walking:
            for name in ("pages", "stories", "", "left"):
                table.add_column(name, justify="right")
        for name, crawler in self.crawlers:
            stats = crawler.stats.get_stats() if crawler.stats else {}
            row: list[Any] = [
                name,
                state(crawler),
                f"{stats.get('downloader/request_count', 0):,}",
                f"{stats.get('wirewatch/store/new', 0):,}",
                f"{stats.get('wirewatch/store/flagged', 0):,}",
                f"{len(stats.get('wirewatch/errors', [])):,}",
            ]
            counts = walk_counts(crawler)
            if counts is not None:
                row += [
                    f"{counts.pages:,}",
                    f"{counts.handled:,} of {counts.found:,}",
                    ProgressBar(total=max(counts.found, 1), completed=counts.handled, width=24),
                    self.left(counts),
                ]
            elif walking:
                row += ["", "", "", ""]
            table.add_row(*row)
        return table

    def left(self, counts: Counts) -> str:
        rate = counts.handled / max(time.monotonic() - self.began, 1e-9)
        if not rate or counts.found <= counts.handled:
            return ""
        return duration((counts.found - counts.handled) / rate)
