"""Regrouping every article into stories (`wirewatch recluster`), one at a time per database.

A regrouping that was interrupted leaves new articles waiting (ungrouped, alerts not yet
queued) until it is finished; `wirewatch run` finishes it when nobody else is at it.
`group_week` groups a labelled week in a database of its own (`wirewatch stories evaluate`).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from crawler.config.wirewatch import Config
from pipelines import flow
from pipelines.core.records import Article
from pipelines.store import LockHeld, Store, regroup_lock
from pipelines.stories.evaluate import WeekArticle

logger = logging.getLogger(__name__)


def regroup(
    config: Config, progress: Callable[[flow.Regrouped, int], None] | None = None, trigger: str = "recluster"
) -> flow.Regrouped:
    """Regroup every stored article (or finish an interrupted regrouping); LockHeld when
    another process is at it."""
    with regroup_lock(config.database, trigger):
        store = Store(config.database)
        try:
            return flow.regroup(store, config.alerts, progress)
        finally:
            store.close()


def finish_interrupted(config: Config) -> flow.Regrouped | None:
    """Finish a regrouping that was interrupted, if there is one and nobody is at it."""
    reader = Store(config.database, readonly=True)
    try:
        pending = reader.regrouping() is not None
    finally:
        reader.close()
    if not pending:
        return None
    try:
        counts = regroup(config, trigger="run")
    except LockHeld:
        return None  # a recluster is running: it will get there
    logger.warning("finished an interrupted recluster: %d articles regrouped", counts.articles)
    return counts


def group_week(articles: list[WeekArticle]) -> dict[str, int]:
    """Store a labelled week, in the given order, in a fresh temporary database through the
    normal store-and-group path; the story of each article, by its id in the week."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "week.db")
        try:
            stored_ids = {}
            for a in articles:
                page = Article(
                    a.url,
                    a.title,
                    None,
                    a.published,
                    "page",
                    "en",
                    a.text,
                    hashlib.sha256(a.text.encode()).hexdigest(),
                )
                stored = flow.keep(store, a.source, page, {}, a.published, a.url)
                if stored is None:
                    raise ValueError(f"article {a.id}: its URL {a.url} is in the week twice")
                stored_ids[a.id] = stored
            stories = {week_id: store.story_of(row) for week_id, row in stored_ids.items()}
            return {week_id: story for week_id, story in stories.items() if story is not None}
        finally:
            store.close()
