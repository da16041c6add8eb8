"""Storage: the one place that knows the database (SQLite in WAL mode), behind the `Store` class.

Schema and migrations in order (`schema`); writers batch in savepoints; readers open read-only and never wait.
"""

from pipelines.store.articles import QueryError, StoredArticle, Validators
from pipelines.store.connection import BATCH_SECONDS, ReadOnly, now_iso
from pipelines.store.database import Store, close_shared, shared

__all__ = [
    "BATCH_SECONDS",
    "QueryError",
    "ReadOnly",
    "Store",
    "StoredArticle",
    "Validators",
    "close_shared",
    "now_iso",
    "shared",
]
