"""Articles, their flags, the pages known to hold none, feed validators, and the queries on them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.core.dates import iso_utc
from pipelines.core.records import Article, Origin, Verdict
from pipelines.core.text import clean_text
from pipelines.core.urls import normalize_url
from pipelines.store.connection import Connection, now_iso
from pipelines.store.schema import none_if

RELEVANCE_POOL = 20_000  # `search --order relevance` ranks the newest this many matches


class QueryError(ValueError):
    """A full-text query FTS5 cannot run; ``query`` is the query as given."""

    def __init__(self, query: str, problem: str):
        self.query = query
        super().__init__(problem)


@dataclass(frozen=True)
class Validators:
    """What a conditional GET needs to know about a discovery URL from the last clean run."""

    etag: str | None = None
    last_modified: str | None = None
    children: tuple[str, ...] = ()  # sub-sitemaps of a sitemap index that were followed


@dataclass(frozen=True)
class StoredArticle:
    """What regrouping and rescoring read of a stored article."""

    id: int
    source: str
    title: str
    text: str
    published_at: datetime | None
    fetched_at: datetime


class Articles(Connection):
    # -- crawling -------------------------------------------------------------------------

    def is_known(self, url: str) -> bool:
        """True when the URL is a stored article, an alias of one, a page with no article, or a
        dead link not due to be asked again."""
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE url = :u UNION ALL SELECT 1 FROM url_aliases WHERE url = :u "
            "UNION ALL SELECT 1 FROM failures WHERE url = :u UNION ALL SELECT 1 FROM dead_links "
            "WHERE url = :u AND (next_attempt_at IS NULL OR next_attempt_at > :now) LIMIT 1",
            {"u": url, "now": now_iso()},
        ).fetchone()
        return row is not None

    def is_stored(self, url: str) -> bool:
        """True when the URL is a stored article or an alias of one: what an import of web
        archives skips. A dead link or a page that held no story when a crawl asked may be
        the page it once was in an archive."""
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE url = :u UNION ALL "
            "SELECT 1 FROM url_aliases WHERE url = :u LIMIT 1",
            {"u": url},
        ).fetchone()
        return row is not None

    def record_dead_link(
        self, source: str, url: str, status: int, retry_after: Callable[[int], timedelta | None]
    ) -> int:
        """Remember an article URL that answered ``status`` (404, 410); ``retry_after(attempts)``
        says when to ask again (None: never). Returns the attempts so far."""
        stamp = now_iso()
        with self.write() as db:
            row = db.execute("SELECT attempts FROM dead_links WHERE url = ?", [url]).fetchone()
            attempts = row[0] + 1 if row else 1
            wait = retry_after(attempts)
            again = iso_utc(datetime.now(UTC) + wait) if wait is not None else None
            db.execute(
                "INSERT INTO dead_links (url, source, status, first_seen, last_seen, attempts, "
                "next_attempt_at) "
                "VALUES (?,?,?,?,?,1,?) ON CONFLICT (url) DO UPDATE SET status = excluded.status, "
                "last_seen = excluded.last_seen, attempts = attempts + 1, next_attempt_at = "
                "excluded.next_attempt_at",
                [url, source, status, stamp, stamp, again],
            )
        return attempts

    def add_article(
        self, source: str, article: Article, fetched_at: datetime, requested_url: str, origin: Origin = "run"
    ) -> int | None:
        """Insert an article (in the caller's unit); the new id, or None when its canonical URL
        was stored already (the requested URL then becomes an alias, so it is not fetched again).
        ``origin``: what stored it, run, backfill or import (only runs' articles tell a source's
        health)."""
        with self.write() as db:
            existing = db.execute("SELECT id FROM articles WHERE url = ?", [article.url]).fetchone()
            article_id = existing[0] if existing else None
            if article_id is None:
                cursor = db.execute(
                    "INSERT INTO articles (url, source, title, author, published_at, date_source, "
                    "fetched_at, language, text, content_hash, match_title, match_text, origin) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        article.url,
                        source,
                        article.title,
                        article.author,
                        iso_utc(article.published_at) if article.published_at else None,
                        article.date_source,
                        iso_utc(fetched_at),
                        article.language,
                        article.text,
                        article.content_hash,
                        none_if(clean_text(article.title), article.title),
                        none_if(clean_text(article.text), article.text),
                        origin,
                    ],
                )
                if requested_url != article.url:
                    db.execute(
                        "INSERT OR IGNORE INTO url_aliases (url, article_id) VALUES (?, ?)",
                        [requested_url, cursor.lastrowid],
                    )
                # A link that was dead, or a page that held no story, and has one now (from
                # an archive) is an article like any other.
                for table in ("dead_links", "failures"):
                    db.execute(f"DELETE FROM {table} WHERE url IN (?, ?)", [requested_url, article.url])
                return cursor.lastrowid
            if requested_url != article.url:
                db.execute(
                    "INSERT OR IGNORE INTO url_aliases (url, article_id) VALUES (?, ?)",
                    [requested_url, article_id],
                )
        return None

    def set_flags(self, article_id: int, verdicts: dict[str, Verdict]) -> None:
        """Bring an article's flags in line with the verdicts (in the caller's unit)."""
        stamp = now_iso()
        with self.write() as db:
            for watchlist, verdict in verdicts.items():
                if not verdict.flagged:
                    db.execute(
                        "DELETE FROM flags WHERE article_id = ? AND watchlist = ?", [article_id, watchlist]
                    )
                    continue
                db.execute(
                    "INSERT INTO flags (article_id, watchlist, score, tier, type, reasons, flagged_at) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (article_id, watchlist) DO UPDATE SET "
                    "score = excluded.score, tier = excluded.tier, type = excluded.type, "
                    "reasons = excluded.reasons",
                    [
                        article_id,
                        watchlist,
                        verdict.score,
                        verdict.tier,
                        verdict.type,
                        json.dumps(verdict.reasons, ensure_ascii=False),
                        stamp,
                    ],
                )

    def verdicts_of(self, article_id: int) -> dict[str, Verdict]:
        """The stored flags of an article, as the verdicts that made them."""
        return {
            row["watchlist"]: Verdict(
                True, row["tier"], row["type"], row["score"], json.loads(row["reasons"])
            )
            for row in self.rows("SELECT * FROM flags WHERE article_id = ?", [article_id])
        }

    def record_failure(self, source: str, url: str, reason: str) -> None:
        stamp = now_iso()
        with self.write() as db:
            db.execute(
                "INSERT INTO failures (url, source, reason, first_seen, last_seen) VALUES (?,?,?,?,?) "
                "ON CONFLICT (url) DO UPDATE SET reason = excluded.reason, last_seen = excluded.last_seen, "
                "attempts = attempts + 1",
                [url, source, reason, stamp, stamp],
            )

    def validators(self, url: str) -> Validators:
        row = self.db.execute(
            "SELECT etag, last_modified, children FROM http_validators WHERE url = ?", [url]
        ).fetchone()
        if not row:
            return Validators()
        return Validators(row[0], row[1], tuple(json.loads(row[2] or "[]")))

    def save_validators(self, items: dict[str, Validators]) -> None:
        stamp = now_iso()
        with self.write() as db:
            for url, v in items.items():
                db.execute(
                    "INSERT INTO http_validators (url, etag, last_modified, children, updated_at) "
                    "VALUES (?,?,?,?,?) ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
                    "last_modified = excluded.last_modified, children = excluded.children, "
                    "updated_at = excluded.updated_at",
                    [url, v.etag, v.last_modified, json.dumps(list(v.children)), stamp],
                )

    # -- reading them back ----------------------------------------------------------------

    def count_articles(self, since: datetime | None = None) -> int:
        """How many articles ``stored_articles`` will give (published, else fetched, since)."""
        if since is None:
            return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])
        query = "SELECT count(*) FROM articles WHERE coalesce(published_at, fetched_at) >= ?"
        return int(self.db.execute(query, [iso_utc(since)]).fetchone()[0])

    def stored_articles(
        self, after: int = 0, since: datetime | None = None, batch: int = 200
    ) -> Iterator[list[StoredArticle]]:
        """Stored articles in id order from ``after`` on, ``batch`` at a time, each batch read
        afresh (no statement stays open across the caller's writes)."""
        where, params = (
            ("AND coalesce(published_at, fetched_at) >= ?", [iso_utc(since)]) if since else ("", [])
        )
        while True:
            rows = self.db.execute(
                f"SELECT id, source, title, text, published_at, fetched_at FROM articles WHERE id "
                f"> ? {where} "
                "ORDER BY id LIMIT ?",
                [after, *params, batch],
            ).fetchall()
            if not rows:
                return
            yield [
                StoredArticle(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    datetime.fromisoformat(r[4]) if r[4] else None,
                    datetime.fromisoformat(r[5]),
                )
                for r in rows
            ]
            after = rows[-1][0]

    def article(self, id_or_url: str) -> dict[str, Any] | None:
        """A stored article by id, by its URL, or by any URL that led to it."""
        if id_or_url.isdigit():
            rows = self.rows("SELECT * FROM articles WHERE id = ?", [int(id_or_url)])
        else:
            url = normalize_url(id_or_url)
            rows = self.rows(
                "SELECT * FROM articles WHERE url = ? OR id = (SELECT article_id FROM "
                "url_aliases WHERE url = ?)",
                [url, url],
            )
        return rows[0] if rows else None

    def flags_of(self, article_id: int) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM flags WHERE article_id = ? ORDER BY watchlist", [article_id])

    def flagged(
        self, since: datetime | None, watchlist: str | None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Flagged stories, newest first: one row per story and watchlist, shown by its first
        flagged article (``id``), with every outlet that carried the story."""
        sql = (
            "SELECT a.id, a.story_id AS story, f.watchlist, f.tier, f.type, f.score, a.published_at, "
            "a.source, a.title, a.url, f.flagged_at, s.outlets, s.article_count AS articles "
            "FROM flags f JOIN articles a ON a.id = f.article_id LEFT JOIN stories s ON s.id = a.story_id "
            "WHERE 1=1"
        )
        params: list[Any] = []
        if since is not None:
            sql += " AND coalesce(a.published_at, a.fetched_at) >= ?"
            params.append(iso_utc(since))
        if watchlist:
            sql += " AND f.watchlist = ?"
            params.append(watchlist)
        sql += " ORDER BY coalesce(a.published_at, a.fetched_at), a.id"
        stories: dict[tuple[Any, str], dict[str, Any]] = {}
        for row in self.rows(sql, params):
            key = (row["story"] or -row["id"], row["watchlist"])
            first = stories.setdefault(key, row)
            if first is not row:  # a later article: the story's flag is its strongest
                if row["tier"] == "core" and first["tier"] != "core":
                    first.update(tier="core", type=row["type"])
                first["score"] = max(first["score"], row["score"])
        rows = sorted(
            stories.values(), key=lambda r: (r["published_at"] or r["flagged_at"], r["id"]), reverse=True
        )[:limit]
        for row in rows:
            row["outlets"] = ", ".join(json.loads(row["outlets"] or "[]") or [row["source"]])
            row["articles"] = row["articles"] or 1
        return rows

    def search(self, query: str, limit: int = 50, order: str = "recent") -> list[dict[str, Any]]:
        """FTS5 search. ``recent``: newest stored first, which FTS5 answers by walking its index
        backwards and stopping at ``limit``. ``relevance``: bm25 rank among the newest
        RELEVANCE_POOL matches (all of them, for all but the commonest words): bm25 scores every
        match it is given, 0.6 s for a word in most of a million articles.

        A malformed query raises QueryError (a ValueError) naming the problem."""
        try:
            return self._search(query, limit, order)
        except Exception as exc:  # sqlite3.OperationalError: FTS5 syntax
            raise QueryError(query, str(exc)) from None

    def _search(self, query: str, limit: int, order: str) -> list[dict[str, Any]]:
        where, params = "articles_fts MATCH ?", [query]
        if order == "relevance":
            oldest = self.db.execute(
                "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC "
                "LIMIT 1 OFFSET ?",
                [query, RELEVANCE_POOL - 1],
            ).fetchone()
            if oldest:
                where, params = where + " AND articles_fts.rowid >= ?", [query, oldest[0]]
        sql = (
            "SELECT a.id, a.published_at, a.source, a.title, a.url, "
            "snippet(articles_fts, 1, '[', ']', ' ... ', 12) AS snippet "
            f"FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE {where} ORDER BY "
            + ("rank" if order == "relevance" else "articles_fts.rowid DESC")
            + " LIMIT ?"
        )
        return self.rows(sql, [*params, limit])
