"""One connection to the SQLite file: WAL, write units in savepoints, batching, read-only readers.

Writers take the write lock with BEGIN IMMEDIATE (they queue instead of failing) and keep
each unit of work (an article with its story, flags and alerts) in a savepoint, so it is
stored whole or not at all. A crawl's `shared` store commits every BATCH_ARTICLES units or
BATCH_SECONDS, whichever comes first: committing is the costly part of a small write, and a
crawl killed mid-batch loses only articles it will fetch again (they are not known yet).

Readers open the file read-only and never take a lock: in WAL mode they read the last
committed state however long a writer holds its transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from pipelines.core.dates import iso_utc
from pipelines.store.schema import MIGRATIONS

BATCH_ARTICLES = 200
BATCH_SECONDS = 1.0  # also how long other writers (alert senders, a recluster batch) may wait


class ReadOnly(Exception):
    """A write was asked of a store opened for reading."""


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


class Connection:
    """The database file, opened for writing (migrated first) or, with ``readonly``, for reading."""

    def __init__(self, path: Path | str, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if readonly and (not self.path.exists() or _needs_migrating(self.path)):
            Connection(self.path).close()  # first use by this release: create or migrate, then read
        if readonly:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-32768")  # KiB: index pages a crawl reads again stay cached
        self.batched = False  # see `shared`
        self._depth = 0  # nested write units
        self._pending, self._batch_began = 0, 0.0
        if readonly:
            return
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # A savepoint keeps the pages it changes in a statement journal: in memory, not a temp
        # file (it was two writes per changed page, ~100 pages an article).
        conn.execute("PRAGMA temp_store=MEMORY")
        with self.write():
            MIGRATIONS.apply(self.db)

    def close(self) -> None:
        self.commit()
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One unit of writing, whole or not at all: a savepoint in a transaction taken with
        BEGIN IMMEDIATE, committed at once, or when the batch is full or old for a `shared`
        store. Units nest: an inner unit is part of the outer one."""
        if self.readonly:
            raise ReadOnly(f"{self.path} is open for reading only")
        conn = self.db.conn
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
            self._pending, self._batch_began = 0, time.monotonic()
        conn.execute("SAVEPOINT unit")
        self._depth += 1
        try:
            yield self.db
        except BaseException:
            self._depth -= 1
            if conn.in_transaction:  # some errors (a full disk) end the transaction themselves
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
                if not self._pending and not self._depth:
                    conn.execute("ROLLBACK")
            raise
        self._depth -= 1
        conn.execute("RELEASE unit")
        if self._depth:
            return
        self._pending += 1
        if self._pending >= (BATCH_ARTICLES if self.batched else 1):
            self.commit()
        else:
            self.commit_due()

    def commit_due(self) -> None:
        """Commit the open batch once it is BATCH_SECONDS old (called on a timer, too, so an
        idle crawl does not keep other writers waiting)."""
        if self._depth:
            return
        if self.db.conn.in_transaction and time.monotonic() - self._batch_began >= BATCH_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self.db.conn.in_transaction and not self._depth:
            self.db.conn.execute("COMMIT")

    def tables(self) -> set[str]:
        return set(self.db.table_names())

    def rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return [dict(r) for r in cursor.execute(sql, params).fetchall()]


def _needs_migrating(path: Path) -> bool:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return bool(MIGRATIONS.pending(sqlite_utils.Database(conn)))
    finally:
        conn.close()
