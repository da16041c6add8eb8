"""Runs and their sources: who ran what, how it went; the health `wirewatch status` reports.

A row of `runs` is a crawl cycle (kind 'run') or a backfill (kind 'backfill'); what tells a
source's health (its last run, failing streaks, its history) reads crawl cycles only."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from pipelines.store.connection import Connection, now_iso

# The ids of backfills (few, in a partial index): a source's health reads the other runs.
_BACKFILLS = "(SELECT id FROM runs WHERE kind != 'run')"


class Runs(Connection):
    def start_run(self, trigger: str, sources: list[str], kind: str = "run") -> int:
        """Record a run (or a backfill: ``kind``) by this process; call it holding the lock of
        its kind, the run lock or the backfill lock (pipelines/store/lock.py)."""
        with self.write() as db:
            # One of its kind still 'running' here was killed: the lock says nobody runs it now.
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND kind = ?", [kind])
            cursor = db.execute(
                "INSERT INTO runs (started_at, status, trigger, sources, pid, host, kind) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?)",
                [now_iso(), trigger, json.dumps(sources), os.getpid(), socket.gethostname(), kind],
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(
        self, run_id: int, status: str, per_source: list[dict[str, Any]], duration: float | None = None
    ) -> None:
        """Record a run's end; ``duration`` in seconds (default: from started_at, to the second)."""
        with self.write() as db:
            for row in per_source:
                db.table("run_sources").insert(
                    {**row, "run_id": run_id, "errors": json.dumps(row["errors"], ensure_ascii=False)},
                    replace=True,
                )
            self._end(run_id, status, duration)

    def _end(self, run_id: int, status: str, duration: float | None) -> None:
        stamp = now_iso()
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, "
            "duration = round(coalesce(?, (julianday(?) - julianday(started_at)) * 86400), 1) WHERE id = ?",
            [stamp, status, duration, stamp, run_id],
        )

    def mark_timeout(self, run_id: int, message: str, duration: float | None = None) -> None:
        """A run stopped for taking too long: the run and each of its sources say so."""
        with self.write() as db:
            row = db.execute("SELECT sources FROM runs WHERE id = ?", [run_id]).fetchone()
            for source in json.loads(row[0]) if row else []:
                db.execute(
                    "INSERT INTO run_sources (run_id, source, status, requests, pages_fetched, "
                    "not_modified, new_articles, flagged, known_skipped, extraction_failures, errors) "
                    "VALUES (?, ?, 'timeout', 0, 0, 0, 0, 0, 0, 0, json_array(?)) "
                    "ON CONFLICT (run_id, source) DO UPDATE SET status = 'timeout', "
                    "errors = json_insert(errors, '$[#]', ?)",
                    [run_id, source, message, message],
                )
            self._end(run_id, "timeout", duration)

    def run_of_process(self, pid: int, since: str) -> dict[str, Any] | None:
        """The run a process of this machine started at or after ``since`` (pids get reused)."""
        rows = self.rows(
            "SELECT * FROM runs WHERE pid = ? AND host = ? AND started_at >= ? AND kind = 'run' "
            "ORDER BY id DESC LIMIT 1",
            [pid, socket.gethostname(), since],
        )
        return rows[0] if rows else None

    def run_sources_of(self, run_id: int) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM run_sources WHERE run_id = ?", [run_id])

    def failing_streaks(self) -> dict[str, int]:
        """Per source, how many of its latest runs in a row were not ok (0: the last one was).

        Each source's last ok run first, then its runs after it, read from the index on
        (source, run_id): a source failing for months costs no more than one that is not."""
        sql = (
            "SELECT s.source, count(*) FROM (SELECT source, "
            "coalesce(max(CASE WHEN status = 'ok' THEN run_id END), 0) AS ok FROM run_sources "
            f"WHERE run_id NOT IN {_BACKFILLS} GROUP BY source) s "
            "JOIN run_sources x ON x.source = s.source AND x.run_id > s.ok "
            f"WHERE x.run_id NOT IN {_BACKFILLS} GROUP BY s.source"
        )
        return {source: count for source, count in self.db.execute(sql).fetchall()}

    def running(self) -> list[dict[str, Any]]:
        """Runs and backfills recorded as running (their process may be gone)."""
        return self.rows("SELECT * FROM runs WHERE status = 'running'")

    def last_run(self) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM runs WHERE kind = 'run' ORDER BY id DESC LIMIT 1")
        return rows[0] if rows else None

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """The latest run_sources row of each source, with the run's start time."""
        sql = (
            "SELECT rs.*, r.started_at FROM (SELECT source, max(run_id) AS run_id FROM run_sources "
            f"WHERE run_id NOT IN {_BACKFILLS} GROUP BY source) m "
            "JOIN run_sources rs ON rs.source = m.source AND rs.run_id = m.run_id "
            "JOIN runs r ON r.id = rs.run_id"
        )
        return {r["source"]: r for r in self.rows(sql)}

    # -- a source's history, for its health ------------------------------------------------

    def article_history(self, source: str, limit: int) -> list[tuple[str, int, str]]:
        """(fetched_at, text length, date_source) of a source's latest ``limit`` articles stored
        by runs (a backfill's or an import's say nothing of the source today), oldest first."""
        rows = self.db.execute(
            "SELECT fetched_at, length(text), date_source FROM articles WHERE source = ? "
            "AND origin = 'run' ORDER BY fetched_at DESC LIMIT ?",
            [source, limit],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in reversed(rows)]

    def run_history(self, source: str, limit: int) -> list[tuple[int, int]]:
        """(new articles, pages that held none) of a source's latest ``limit`` runs, oldest first."""
        rows = self.db.execute(
            "SELECT new_articles, extraction_failures FROM run_sources WHERE source = ? "
            f"AND run_id NOT IN {_BACKFILLS} ORDER BY run_id DESC LIMIT ?",
            [source, limit],
        ).fetchall()
        return [(r[0], r[1]) for r in reversed(rows)]
