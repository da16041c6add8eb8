"""The walk of a backfill: which discovery pages are done, per source and window."""

from __future__ import annotations

import json
from typing import Any

from pipelines.store.connection import Connection, now_iso


class Backfills(Connection):
    def backfill_done(self, source: str, since: str, until: str) -> dict[str, list[dict[str, Any]]]:
        """The done pages of a backfill window (``until`` '' when open): URL -> where it leads."""
        rows = self.db.execute(
            "SELECT url, follow FROM backfill_pages WHERE source = ? AND since = ? AND until = ?",
            [source, since, until],
        ).fetchall()
        return {url: json.loads(follow) for url, follow in rows}

    def backfill_page_done(
        self, source: str, since: str, until: str, url: str, follow: list[dict[str, Any]]
    ) -> None:
        """Record a page whose stories are all stored (or known); in the write batch of those
        stories, so it is never committed before them."""
        with self.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO backfill_pages (source, since, until, url, follow, done_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [source, since, until, url, json.dumps(follow), now_iso()],
            )
