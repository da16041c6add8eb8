"""Progress of a long job: a live bar on a terminal, a log line now and then under cron or systemd.

    with Progress("import", unit="records", total=n, counters=("stored", "skipped")) as progress:
        for record in records:
            ...
            progress.advance(stored=1)

On a terminal (standard error is a TTY) rich draws one line with a bar, the counts and the time
left; elsewhere a line is logged every `every` seconds and once at the end, so a journal or a
cron mail holds the same figures without a line per item.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Self

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

logger = logging.getLogger(__name__)


def on_terminal() -> bool:
    """Whether a live display fits: standard error is a terminal that can redraw a line."""
    return sys.stderr.isatty() and os.environ.get("TERM", "") not in ("", "dumb")


def logging_through(stream: IO[str]) -> Callable[[], None]:
    """Send the log lines meant for standard error through ``stream`` (rich's proxy of it while
    a live display runs, which prints them above the display); returns what undoes it."""
    moved = [
        (handler, handler.stream)
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stderr__, sys.stderr)
    ]
    for handler, _ in moved:
        handler.setStream(stream)

    def undo() -> None:
        for handler, old in moved:
            handler.setStream(old)

    return undo


class Progress:
    """Counts of one job: `done` of `total` units (total may be unknown) and named counters."""

    def __init__(
        self,
        what: str,
        unit: str,
        total: float | None = None,
        counters: tuple[str, ...] = (),
        every: float = 30.0,
        live: bool | None = None,
    ) -> None:
        self.what, self.unit, self.total, self.every = what, unit, total, every
        self.done = 0.0
        self.counts = dict.fromkeys(counters, 0)
        self.live = on_terminal() if live is None else live
        self._bar: Bar | None = None
        self._task: TaskID | None = None
        self._undo: Callable[[], None] | None = None
        self._began = self._logged = time.monotonic()

    def __enter__(self) -> Self:
        if self.live:
            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[figures]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._undo = logging_through(sys.stderr)
            self._task = self._bar.add_task(self.what, total=self.total, figures=self.figures())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._refresh()
            self._bar.stop()
            if self._undo is not None:
                self._undo()
        logger.info("%s %s: %s", self.what, "ended" if kind is None else "stopped", self.figures())

    def advance(self, done: float = 1, **counts: int) -> None:
        """`done` more units of work, and increments of the named counters."""
        self.done += done
        for name, n in counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        now = time.monotonic()
        if self._bar is not None:
            self._refresh()
        elif now - self._logged >= self.every:
            self._logged = now
            logger.info("%s: %s", self.what, self.figures(with_time_left=True))

    def update(self, done: float, total: float | None, **counts: int) -> None:
        """The figures as they stand (a crawl's stats), rather than increments."""
        if total != self.total:
            self.set_total(total)
        self.counts.update(counts)
        self.advance(done - self.done)

    def set_total(self, total: float | None) -> None:
        """The amount of work, once known (a sitemap index read, a file's size)."""
        self.total = total
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)

    def figures(self, with_time_left: bool = False) -> str:
        """'1,200 of 10,000 records (12%), stored 1,100, skipped 100, about 3 min left'."""
        done = f"{self.done:,.0f}"
        if self.total:
            done += f" of {self.total:,.0f} {self.unit} ({self.done / self.total:.0%})"
        else:
            done += f" {self.unit}"
        parts = [done, *(f"{name} {n:,}" for name, n in self.counts.items())]
        if with_time_left and self.total and self.done:
            rate = self.done / max(time.monotonic() - self._began, 1e-9)
            parts.append(f"about {duration((self.total - self.done) / rate)} left")
        return ", ".join(parts)

    def _refresh(self) -> None:
        assert self._bar is not None and self._task is not None
        self._bar.update(self._task, completed=self.done, figures=self.figures())


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
