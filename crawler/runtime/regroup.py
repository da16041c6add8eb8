"""Regrouping every article into stories (`wirewatch recluster`), one at a time per database.

A regrouping that was interrupted leaves new articles waiting (ungrouped, alerts not yet
queued) until it is finished; `wirewatch run` finishes it when nobody else is at it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from crawler.config.wirewatch import Config
from pipelines import flow
from pipelines.store import LockHeld, Store, regroup_lock

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
