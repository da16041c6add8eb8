"""The alert outbox: alerts queued with their flags, digests, and each message's sending state.

`alerts` holds one row per article, watchlist and recipient (so nothing is alerted twice,
whatever reruns and rescores do). Both alerts and digests go pending -> sending (claimed by
one sender) -> sent | pending again (temporary failure, with backoff) | failed. What to queue
and when to retry is decided by pipelines/alerts; these methods record it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.core.dates import iso_utc
from pipelines.store.connection import Connection, now_iso

MESSAGES = ("alerts", "digests", "reports", "notices")


def _table(name: str) -> str:
    if name not in MESSAGES:
        raise ValueError(f"not an outbox table: {name!r}")
    return name


class Outbox(Connection):
    def story_alerted(self, article_id: int) -> frozenset[tuple[str, str]]:
        """(watchlist, recipient) pairs with a core alert for another article of this
        article's story: one core email per story, whichever outlet carried it first."""
        rows = self.db.execute(
            "SELECT DISTINCT al.watchlist, al.recipient FROM alerts al JOIN articles a ON "
            "a.id = al.article_id "
            "WHERE al.kind = 'core' AND al.article_id != ? "
            "AND a.story_id = (SELECT story_id FROM articles WHERE id = ?)",
            [article_id, article_id],
        ).fetchall()
        return frozenset((w, r) for w, r in rows)

    def queue_alert(
        self, article_id: int, watchlist: str, recipient: str, kind: str, due: datetime, message_id: str
    ) -> None:
        """Queue an alert (in the caller's unit). One that exists already is left alone, except
        that a digest alert still waiting becomes a core one when the article is now core."""
        with self.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO alerts (article_id, watchlist, recipient, kind, status, "
                "next_attempt_at, created_at, message_id) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                [article_id, watchlist, recipient, kind, iso_utc(due), now_iso(), message_id],
            )
            if cursor.rowcount == 0 and kind == "core":
                db.execute(
                    "UPDATE alerts SET kind = 'core', next_attempt_at = ? WHERE article_id = ? AND "
                    "watchlist = ? "
                    "AND recipient = ? AND kind = 'digest' AND status = 'pending' AND digest_id IS NULL",
                    [iso_utc(due), article_id, watchlist, recipient],
                )

    def release_claims(self, stale: Callable[[str, str | None], bool]) -> None:
        """Claims whose holder ``stale(claimed_at, claimed_by)`` judges gone go back to pending."""
        with self.write() as db:
            for table in MESSAGES:
                for row_id, claimed_at, claimed_by in db.execute(
                    f"SELECT id, claimed_at, claimed_by FROM {table} WHERE status = 'sending'"
                ).fetchall():
                    if stale(claimed_at, claimed_by):
                        db.execute(f"UPDATE {table} SET status = 'pending' WHERE id = ?", [row_id])

    def due_alerts(self, limit: int = 500) -> list[dict[str, Any]]:
        """Core alerts due now, with what their email shows."""
        return self.rows(
            "SELECT al.*, a.title, a.url, a.source, a.published_at, a.text, a.story_id, s.outlets, f.tier, "
            "f.type, f.score, f.reasons "
            "FROM alerts al JOIN articles a ON a.id = al.article_id LEFT JOIN stories s ON s.id = a.story_id "
            "LEFT JOIN flags f ON f.article_id = al.article_id AND f.watchlist = al.watchlist "
            "WHERE al.kind = 'core' AND al.status = 'pending' AND al.next_attempt_at <= ? "
            "ORDER BY al.next_attempt_at, al.id LIMIT ?",
            [now_iso(), limit],
        )

    def digest_recipients(self) -> list[str]:
        """Recipients with digest alerts waiting for a digest."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT recipient FROM alerts WHERE kind = 'digest' AND status = 'pending' "
                "AND digest_id IS NULL"
            ).fetchall()
        ]

    def open_digest(self, recipient: str, message_id: str) -> None:
        """Gather a recipient's waiting digest alerts into a new digest."""
        stamp = now_iso()
        with self.write() as db:
            cursor = db.execute(
                "INSERT INTO digests (recipient, message_id, status, next_attempt_at, created_at) "
                "VALUES (?, ?, 'pending', ?, ?)",
                [recipient, message_id, stamp, stamp],
            )
            db.execute(
                "UPDATE alerts SET digest_id = ? WHERE recipient = ? AND kind = 'digest' "
                "AND status = 'pending' AND digest_id IS NULL",
                [cursor.lastrowid, recipient],
            )

    def due_digests(self) -> list[dict[str, Any]]:
        digests = self.rows(
            "SELECT * FROM digests WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id", [now_iso()]
        )
        for digest in digests:
            digest["items"] = self.rows(
                "SELECT al.id AS alert_id, al.article_id, al.watchlist, a.title, a.url, a.source, "
                "a.published_at, f.tier, f.type, f.score, f.reasons, a.story_id, s.title AS story_title, "
                # the outlet whose article of this story was already sent to this recipient as a core alert
                "(SELECT a2.source FROM alerts c JOIN articles a2 ON a2.id = c.article_id "
                ""
                ""
                " WHERE a2.story_id = a.story_id AND c.recipient = al.recipient AND c.watchlist "
                "= al.watchlist "
                " AND c.kind = 'core' AND c.article_id != al.article_id ORDER BY c.id LIMIT 1) "
                "AS alerted_source "
                "FROM alerts al JOIN articles a ON a.id = al.article_id "
                "LEFT JOIN stories s ON s.id = a.story_id "
                "LEFT JOIN flags f ON f.article_id = al.article_id AND f.watchlist = al.watchlist "
                "WHERE al.digest_id = ? ORDER BY coalesce(a.published_at, a.fetched_at) DESC, al.id",
                [digest["id"]],
            )
        return digests

    def queue_report(
        self, recipient: str, watchlist: str, start: str, end: str, page: str, message_id: str
    ) -> bool:
        """Queue a brief for a recipient; False when that period's brief was queued already."""
        stamp = now_iso()
        with self.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO reports (recipient, watchlist, period_start, period_end, page, "
                "message_id, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                [recipient, watchlist, start, end, page, message_id, stamp, stamp],
            )
        return cursor.rowcount == 1

    def due_reports(self) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT * FROM reports WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id", [now_iso()]
        )

    def source_states(self) -> dict[str, tuple[str, str]]:
        """Each source's last known (state, reason)."""
        return {
            r[0]: (r[1], r[2]) for r in self.db.execute("SELECT source, state, reason FROM source_states")
        }

    def change_source_states(
        self, changes: dict[str, tuple[str, str]], notices: list[tuple[str, str, str, str]]
    ) -> None:
        """Record new states and queue the notices about them (recipient, subject, text,
        message id), together: a change is noticed exactly when it is recorded."""
        stamp = now_iso()
        with self.write() as db:
            for source, (state, reason) in changes.items():
                db.execute(
                    "INSERT INTO source_states (source, state, reason, changed_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (source) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
                    "changed_at = excluded.changed_at",
                    [source, state, reason, stamp],
                )
            for recipient, subject, text, message_id in notices:
                db.execute(
                    "INSERT INTO notices (recipient, subject, text, message_id, status, next_attempt_at, "
                    "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                    [recipient, subject, text, message_id, stamp, stamp],
                )

    def due_notices(self) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT * FROM notices WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id", [now_iso()]
        )

    def claim(self, table: str, row_id: int, claimer: str) -> bool:
        """Take a message for sending; False when another sender has it (or it is no longer due)."""
        with self.write() as db:
            cursor = db.execute(
                f"UPDATE {_table(table)} SET status = 'sending', claimed_at = ?, claimed_by = ? WHERE id = ? "
                "AND status = 'pending'",
                [now_iso(), claimer, row_id],
            )
        return cursor.rowcount == 1

    def mark_sent(self, table: str, row_id: int) -> None:
        stamp = now_iso()
        with self.write() as db:
            db.execute(
                f"UPDATE {_table(table)} SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                [stamp, row_id],
            )
            if table == "digests":
                db.execute(
                    "UPDATE alerts SET status = 'sent', sent_at = ? WHERE digest_id = ?", [stamp, row_id]
                )

    def mark_failed(
        self, table: str, row_id: int, error: str, decide: Callable[[int], tuple[str, timedelta]]
    ) -> str:
        """Record a failed attempt; ``decide(attempts)`` gives the new status ("pending" or
        "failed") and the wait before the next attempt. Returns the new status."""
        with self.write() as db:
            (attempts,) = db.execute(
                f"SELECT attempts + 1 FROM {_table(table)} WHERE id = ?", [row_id]
            ).fetchone()
            status, wait = decide(attempts)
            db.execute(
                f"UPDATE {table} SET status = ?, attempts = ?, last_error = ?, next_attempt_at = "
                f"? WHERE id = ?",
                [status, attempts, error, iso_utc(datetime.now(UTC) + wait), row_id],
            )
            if table == "digests" and status == "failed":
                db.execute(
                    "UPDATE alerts SET status = 'failed', last_error = ? WHERE digest_id = ?", [error, row_id]
                )
        return status

    def alert_listing(self, status: str | None) -> list[dict[str, Any]]:
        where = "WHERE al.status = ?" if status else ""
        return self.rows(
            "SELECT al.id, al.status, al.kind, al.recipient, al.attempts, al.next_attempt_at, al.sent_at, "
            "al.last_error, al.watchlist, a.title FROM alerts al JOIN articles a ON a.id = al.article_id "
            f"{where} ORDER BY al.id DESC",
            [status] if status else [],
        )

    def retry_alerts(self, ids: list[int]) -> int:
        """Re-queue failed alerts (all of them when ``ids`` is empty), with their digests."""
        stamp = now_iso()
        with self.write() as db:
            where = f"AND id IN ({','.join('?' * len(ids))})" if ids else ""
            cursor = db.execute(
                "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ? "
                f"WHERE status = 'failed' {where}",
                [stamp, *ids],
            )
            db.execute(
                "UPDATE digests SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE status = 'failed' AND id IN "
                "(SELECT digest_id FROM alerts WHERE status = 'pending' AND digest_id IS NOT NULL)",
                [stamp],
            )
        return cursor.rowcount
