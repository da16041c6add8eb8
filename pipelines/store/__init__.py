"""Storage: the one place that knows the database (SQLite in WAL mode), behind the `Store` class.

Schema and migrations in order (`schema`); writers batch in savepoints; readers never wait; the run lock."""

from pipelines.store.articles import QueryError, StoredArticle, Validators
from pipelines.store.connection import BATCH_SECONDS, ReadOnly, now_iso
from pipelines.store.database import Store, close_shared, shared
from pipelines.store.lock import LockHeld, RunLock, backfill_lock, lock_path, regroup_lock
from pipelines.store.pages import ArchivedArticle

__all__ = [
    "BATCH_SECONDS",
    "ArchivedArticle",
    "LockHeld",
    "QueryError",
    "ReadOnly",
    "RunLock",
    "Store",
    "StoredArticle",
    "Validators",
    "backfill_lock",
    "close_shared",
    "lock_path",
    "now_iso",
    "regroup_lock",
    "shared",
]
