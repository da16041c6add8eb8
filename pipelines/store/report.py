"""What leaves the database for people and other tools: the brief's figures, the export."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pipelines.core.dates import iso_utc
from pipelines.store.connection import Connection


class Reports(Connection):
    def flagged_in(
        self, start: datetime, end: datetime, watchlist: str | None = None
    ) -> list[dict[str, Any]]:
        """Flagged articles published (else fetched) in [start, end), with their story's outlets."""
        sql = (
            "SELECT a.id, a.story_id, coalesce(a.published_at, a.fetched_at) AS at, "
            "a.source, a.title, a.url, "
            "a.text, f.watchlist, f.tier, f.type, f.score, f.reasons, s.outlets "
            "FROM flags f JOIN articles a ON a.id = f.article_id LEFT JOIN stories s ON s.id = a.story_id "
            "WHERE coalesce(a.published_at, a.fetched_at) >= ? AND coalesce(a.published_at, a.fetched_at) < ?"
        )
        params: list[Any] = [iso_utc(start), iso_utc(end)]
        if watchlist:
            sql += " AND f.watchlist = ?"
            params.append(watchlist)
        return self.rows(sql + " ORDER BY at, a.id", params)

    def runs_in(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Each source's runs started in [start, end): their count, how many failed or were blocked,
        new articles and dead links."""
        return self.rows(
            "SELECT rs.source, count(*) AS runs, sum(rs.status != 'ok') AS not_ok, "
            "sum(rs.status IN ('failed', 'timeout')) AS failed, sum(rs.status = 'blocked') AS blocked, "
            "group_concat(DISTINCT rs.blocked) AS blocked_by, sum(rs.new_articles) AS new_articles, "
            "sum(rs.dead_links) AS dead_links FROM run_sources rs JOIN runs r ON r.id = rs.run_id "
            "WHERE r.kind = 'run' AND r.started_at >= ? AND r.started_at < ? "
            "GROUP BY rs.source ORDER BY rs.source",
            [iso_utc(start), iso_utc(end)],
        )

    def new_article_times(self, start: datetime, end: datetime) -> dict[str, list[str]]:
        """Per source, when its articles fetched in [start, end) were fetched, in order."""
        times: dict[str, list[str]] = {}
        for source, fetched in self.db.execute(
            "SELECT source, fetched_at FROM articles WHERE fetched_at >= ? AND fetched_at < "
            "? ORDER BY fetched_at",
            [iso_utc(start), iso_utc(end)],
        ).fetchall():
            times.setdefault(source, []).append(fetched)
        return times

    def export(self, since: datetime | None = None, flagged: bool = False) -> Iterator[dict[str, Any]]:
        """Every article (published, else fetched, since ``since``; only flagged ones with
        ``flagged``) with its story and its flags, oldest first, one row at a time."""
        where, params = [], []
        if since is not None:
            where.append("coalesce(a.published_at, a.fetched_at) >= ?")
            params.append(iso_utc(since))
        if flagged:
            where.append("EXISTS (SELECT 1 FROM flags f WHERE f.article_id = a.id)")
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        cursor.execute(
            "SELECT a.id, a.url, a.source, a.title, a.author, a.published_at, a.date_source, a.fetched_at, "
            "a.language, a.story_id, s.outlets AS story_outlets, s.article_count AS story_articles, "
            "(SELECT json_group_array(json_object('watchlist', f.watchlist, 'tier', f.tier, 'type', f.type, "
            "'score', f.score, 'reasons', json(f.reasons))) FROM flags f WHERE f.article_id "
            "= a.id) AS flags, "
            "a.text FROM articles a LEFT JOIN stories s ON s.id = a.story_id "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + "ORDER BY a.id",
            params,
        )
        for row in cursor:
            yield dict(row)
