"""The Store: every storage operation the stages and commands use, on one SQLite connection."""

from __future__ import annotations

from pathlib import Path

from pipelines.store.articles import Articles
from pipelines.store.backfill import Backfills
from pipelines.store.labels import Labels
from pipelines.store.modes import Modes
from pipelines.store.outbox import Outbox
from pipelines.store.pages import Pages
from pipelines.store.report import Reports
from pipelines.store.runs import Runs
from pipelines.store.stories import Stories


class Store(Articles, Stories, Outbox, Runs, Reports, Labels, Backfills, Pages, Modes):
    """The wirewatch database. Open one per process (or use `shared` in a crawl) and close it;
    ``readonly=True`` for commands that only read: they never wait for a writer."""


_SHARED: dict[str, Store] = {}


def shared(path: Path | str) -> Store:
    """The store every crawler and middleware of this process writes through, batched (one
    connection: a second one would wait on the first's open batch from the same thread)."""
    key = str(Path(path).resolve())
    if key not in _SHARED:
        store = Store(path)
        store.batched = True
        _SHARED[key] = store
    return _SHARED[key]


def close_shared() -> None:
    """Commit and close the shared stores (at the end of a crawl, however it ended)."""
    while _SHARED:
        _SHARED.popitem()[1].close()
