"""The alert outbox in SQLite: queued with the flag, claimed, sent, retried or failed.

`alerts` holds one row per story, watchlist and recipient (so nothing is alerted twice,
whatever reruns and rescores do); a core alert is an email of its own, a digest alert waits
for the next digest, a row of `digests`. Both kinds of email go through the same lifecycle:
pending -> sending (claimed by one sender) -> sent | pending again (temporary failure, with
backoff) | failed (permanent failure or too many attempts; `wirewatch alerts retry`).
"""

from __future__ import annotations

import os
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

import sqlite_utils

from pipelines.alerts.policy import AlertPolicy, PlannedAlert, backoff
from pipelines.core.dates import iso_utc

if TYPE_CHECKING:
    from pipelines.store.database import Store

SCHEMA = """
CREATE TABLE digests (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,               -- pending | sending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    created_at TEXT NOT NULL,
    claimed_at TEXT,
    claimed_by TEXT                     -- "host:pid" of the sender holding it
);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    watchlist TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- core (its own email) | digest
    status TEXT NOT NULL,               -- pending | sending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,                    -- the mail server's reply or the connection error
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    created_at TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,    -- kept across retries, so a resend is recognisable
    digest_id INTEGER REFERENCES digests(id),
    claimed_at TEXT,
    claimed_by TEXT,
    UNIQUE (article_id, watchlist, recipient)
);
CREATE INDEX alerts_due ON alerts(status, kind, next_attempt_at);
CREATE INDEX digests_due ON digests(status, next_attempt_at);
"""

TABLES = ("alerts", "digests")
STALE_CLAIM = timedelta(minutes=15)  # a sender that held a claim this long has died


def _now() -> str:
    return iso_utc(datetime.now(UTC))


def _domain(policy: AlertPolicy) -> str:
    address = policy.sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] or "wirewatch.localhost"


def queue(
    db: sqlite_utils.Database, article_id: int, planned: list[PlannedAlert], policy: AlertPolicy
) -> None:
    """Insert the planned alerts (in the caller's transaction). An alert that exists already
    is left alone, except that a digest alert still waiting becomes a core one when the story
    is now core."""
    stamp = _now()
    for alert in planned:
        cursor = db.execute(
            "INSERT OR IGNORE INTO alerts (article_id, watchlist, recipient, kind, status, "
            "next_attempt_at, created_at, message_id) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
            [
                article_id,
                alert.watchlist,
                alert.recipient,
                alert.kind,
                iso_utc(alert.next_attempt_at),
                stamp,
                make_msgid("alert", _domain(policy)),
            ],
        )
        if cursor.rowcount == 0 and alert.kind == "core":
            db.execute(
                "UPDATE alerts SET kind = 'core', next_attempt_at = ? WHERE article_id = ? AND watchlist = ? "
                "AND recipient = ? AND kind = 'digest' AND status = 'pending' AND digest_id IS NULL",
                [iso_utc(alert.next_attempt_at), article_id, alert.watchlist, alert.recipient],
            )


def story_alerted(db: sqlite_utils.Database, article_id: int) -> frozenset[tuple[str, str]]:
    """(watchlist, recipient) pairs with a core alert for another article of this article's
    story: one core email per story, whichever outlet carried it first."""
    rows = db.execute(
        "SELECT DISTINCT al.watchlist, al.recipient FROM alerts al JOIN articles a ON a.id = al.article_id "
        "WHERE al.kind = 'core' AND al.article_id != ? "
        "AND a.story_id = (SELECT story_id FROM articles WHERE id = ?)",
        [article_id, article_id],
    ).fetchall()
    return frozenset((w, r) for w, r in rows)


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.conn.cursor()
    cursor.row_factory = sqlite3.Row
    return [dict(r) for r in cursor.execute(sql, params).fetchall()]


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(claimer: str | None) -> bool:
    host, _, pid = (claimer or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's sender: only its age can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_stale_claims(store: Store) -> None:
    """Claims left by a sender that died (its process is gone, or it held them too long) go
    back to pending; the resend keeps the Message-ID, so a copy the server had accepted is
    recognisable."""
    cutoff = iso_utc(datetime.now(UTC) - STALE_CLAIM)
    with store.write() as db:
        for table in TABLES:
            for row_id, claimed_at, claimed_by in db.execute(
                f"SELECT id, claimed_at, claimed_by FROM {table} WHERE status = 'sending'"
            ).fetchall():
                if claimed_at < cutoff or not _alive(claimed_by):
                    db.execute(f"UPDATE {table} SET status = 'pending' WHERE id = ?", [row_id])


def due_alerts(db: sqlite_utils.Database, limit: int = 500) -> list[dict[str, Any]]:
    """Core alerts due now, with what their email shows."""
    return _rows(
        db,
        "SELECT al.*, a.title, a.url, a.source, a.published_at, a.text, f.tier, f.type, f.score, f.reasons "
        "FROM alerts al JOIN articles a ON a.id = al.article_id "
        "LEFT JOIN flags f ON f.article_id = al.article_id AND f.watchlist = al.watchlist "
        "WHERE al.kind = 'core' AND al.status = 'pending' AND al.next_attempt_at <= ? "
        "ORDER BY al.next_attempt_at, al.id LIMIT ?",
        [_now(), limit],
    )


def open_digests(store: Store, policy: AlertPolicy) -> int:
    """Gather each recipient's waiting digest alerts into a new digest; returns how many."""
    recipients = [
        r[0]
        for r in store.db.execute(
            "SELECT DISTINCT recipient FROM alerts WHERE kind = 'digest' AND status = 'pending' "
            "AND digest_id IS NULL"
        ).fetchall()
    ]
    stamp = _now()
    for recipient in recipients:
        with store.write() as db:
            cursor = db.execute(
                "INSERT INTO digests (recipient, message_id, status, next_attempt_at, created_at) "
                "VALUES (?, ?, 'pending', ?, ?)",
                [recipient, make_msgid("digest", _domain(policy)), stamp, stamp],
            )
            db.execute(
                "UPDATE alerts SET digest_id = ? WHERE recipient = ? AND kind = 'digest' "
                "AND status = 'pending' AND digest_id IS NULL",
                [cursor.lastrowid, recipient],
            )
    return len(recipients)


def due_digests(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    digests = _rows(
        db, "SELECT * FROM digests WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id", [_now()]
    )
    for digest in digests:
        digest["items"] = _rows(
            db,
            "SELECT al.id AS alert_id, al.watchlist, a.title, a.url, a.source, a.published_at, f.tier, "
            "f.type, f.score, f.reasons, a.story_id, s.title AS story_title, "
            # the outlet whose copy of this story was already sent to this recipient as a core alert
            "(SELECT a2.source FROM alerts c JOIN articles a2 ON a2.id = c.article_id "
            " WHERE a2.story_id = a.story_id AND c.recipient = al.recipient AND c.watchlist = al.watchlist "
            " AND c.kind = 'core' AND c.article_id != al.article_id ORDER BY c.id LIMIT 1) AS alerted_source "
            "FROM alerts al JOIN articles a ON a.id = al.article_id "
            "LEFT JOIN stories s ON s.id = a.story_id "
            "LEFT JOIN flags f ON f.article_id = al.article_id AND f.watchlist = al.watchlist "
            "WHERE al.digest_id = ? ORDER BY coalesce(a.published_at, a.fetched_at) DESC, al.id",
            [digest["id"]],
        )
    return digests


def claim(store: Store, table: str, row_id: int) -> bool:
    """Take a message for sending; False when another sender has it (or it is no longer due)."""
    with store.write() as db:
        cursor = db.execute(
            f"UPDATE {table} SET status = 'sending', claimed_at = ?, claimed_by = ? WHERE id = ? "
            "AND status = 'pending'",
            [_now(), _me(), row_id],
        )
    return cursor.rowcount == 1


def sent(store: Store, table: str, row_id: int) -> None:
    stamp = _now()
    with store.write() as db:
        db.execute(
            f"UPDATE {table} SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
            "WHERE id = ?",
            [stamp, row_id],
        )
        if table == "digests":
            db.execute("UPDATE alerts SET status = 'sent', sent_at = ? WHERE digest_id = ?", [stamp, row_id])


def failed(store: Store, table: str, row_id: int, error: str, temporary: bool, policy: AlertPolicy) -> str:
    """Record a failed attempt: pending again after a backoff, or failed for good. Returns the
    new status."""
    with store.write() as db:
        (attempts,) = db.execute(f"SELECT attempts + 1 FROM {table} WHERE id = ?", [row_id]).fetchone()
        status = "pending" if temporary and attempts < policy.max_attempts else "failed"
        retry_at = iso_utc(datetime.now(UTC) + backoff(policy, attempts))
        db.execute(
            f"UPDATE {table} SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            [status, attempts, error, retry_at, row_id],
        )
        if table == "digests" and status == "failed":
            db.execute(
                "UPDATE alerts SET status = 'failed', last_error = ? WHERE digest_id = ?", [error, row_id]
            )
    return status


def listing(db: sqlite_utils.Database, status: str | None) -> list[dict[str, Any]]:
    where = "WHERE al.status = ?" if status else ""
    return _rows(
        db,
        "SELECT al.id, al.status, al.kind, al.recipient, al.attempts, al.next_attempt_at, al.sent_at, "
        "al.last_error, al.watchlist, a.title FROM alerts al JOIN articles a ON a.id = al.article_id "
        f"{where} ORDER BY al.id DESC",
        [status] if status else [],
    )


def retry(store: Store, ids: list[int]) -> int:
    """Re-queue failed alerts (all of them when ``ids`` is empty), with their digests."""
    stamp = _now()
    with store.write() as db:
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
