"""The run lock: one crawl cycle (and one regrouping) at a time per database, whoever starts
it (cron, daemon, a person).

An OS lock (``flock``) on ``<database>.lock`` in the database's folder, taken without waiting.
The kernel drops it when its process dies, however it dies, so a killed run never leaves a lock
that blocks the next one; the file itself stays (it is never deleted: unlinking a lock file races
with a process that has just opened it). While held, the file names its holder.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType

from pipelines.store.connection import now_iso


class LockHeld(Exception):
    """Another process holds the lock; ``holder`` is what it wrote in the file (may be empty)."""

    def __init__(self, path: Path, holder: str):
        self.path = path
        self.holder = holder
        who = f" ({holder})" if holder else ""
        super().__init__(f"another run holds the lock {path}{who}")


def lock_path(database: Path) -> Path:
    """The lock file of a database: beside it, named after it."""
    return database.parent / (database.name + ".lock")


def regroup_lock(database: Path, trigger: str = "recluster") -> RunLock:
    """The lock a regrouping (`recluster`) holds: apart from the run lock, so crawls go on."""
    return RunLock(database.parent / (database.name + ".recluster.lock"), trigger)


def backfill_lock(database: Path) -> RunLock:
    """The lock a backfill holds: one at a time, apart from the run lock (a backfill lasts hours;
    the runs and their alerts go on meanwhile)."""
    return RunLock(database.parent / (database.name + ".backfill.lock"), "backfill")


class RunLock:
    """``with RunLock(lock_path(db), "cli"):`` runs the block holding the lock or raises LockHeld."""

    def __init__(self, path: Path, trigger: str = "cli"):
        self.path = path
        self.trigger = trigger
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise LockHeld(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        # Ours now: say who holds it, for the message the next process prints.
        os.ftruncate(fd, 0)
        info = f"pid {os.getpid()} on {socket.gethostname()}, {self.trigger} run started {now_iso()}"
        os.pwrite(fd, info.encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # the file outlives us; an empty one names no holder
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
