"""Storage: one SQLite file (WAL), versioned migrations, each story written whole or not at all.

A crawl writes through one `shared` store per database, in batches: a transaction holds up to
BATCH_STORIES stories or BATCH_SECONDS of work, each story in its own savepoint. Committing
is the costly part of a small write, and nothing depends on a story being committed sooner:
a crawl killed mid-batch loses only stories it will fetch again (they are not known yet, and
feed validators are saved in the same transaction, after them), never one half-written.

The schema is part of the user interface (analysts query it with SQL) and is documented in
the README; change it only through a new migration at the end of MIGRATIONS.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from pipelines.alerts import outbox
from pipelines.alerts.policy import AlertPolicy, plan
from pipelines.core.dates import iso_utc
from pipelines.core.urls import normalize_url
from pipelines.stories import grouping as cluster
from pipelines.watch.watchlist import Verdict

if TYPE_CHECKING:
    from pipelines.extract.page import Story  # trafilatura is for the extraction workers, not every command

MIGRATIONS = sqlite_utils.Migrations("wirewatch")

BATCH_STORIES = 200
BATCH_SECONDS = 1.0  # also how long other writers (alert senders, a manual rescore) may wait
RELEVANCE_POOL = 20_000  # `search --order relevance` ranks the newest this many matches


@MIGRATIONS(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,          -- canonical, normalised
            source TEXT NOT NULL,              -- seed id
            title TEXT NOT NULL,
            author TEXT,
            published_at TEXT,                 -- ISO 8601 UTC, e.g. 2026-11-26T09:00:00+00:00
            date_source TEXT NOT NULL,         -- page | feed | page-day | none
            fetched_at TEXT NOT NULL,
            language TEXT,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL         -- sha256 of the whitespace-normalised text
        );
        CREATE INDEX articles_published ON articles(published_at);
        CREATE INDEX articles_source_published ON articles(source, published_at);
        CREATE INDEX articles_hash ON articles(content_hash);

        -- Other URLs that led to a stored article (feed links, AMP pages, non-canonical paths).
        CREATE TABLE url_aliases (
            url TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id)
        ) WITHOUT ROWID;

        CREATE TABLE flags (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            watchlist TEXT NOT NULL,
            score REAL NOT NULL,
            tier TEXT NOT NULL,                -- core | mention
            type TEXT,                         -- incident | measures
            reasons TEXT NOT NULL,             -- JSON list: rule, weight, terms, sentences
            flagged_at TEXT NOT NULL,
            PRIMARY KEY (article_id, watchlist)
        );
        CREATE INDEX flags_flagged_at ON flags(flagged_at);

        -- Pages that downloaded but hold no story; not fetched again.
        CREATE TABLE failures (
            url TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1
        );

        -- Conditional GET validators of feeds, sitemaps and listing pages.
        CREATE TABLE http_validators (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            children TEXT,                     -- JSON: sub-sitemaps followed, re-read on a 304
            updated_at TEXT NOT NULL
        );

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,              -- running | ok | partial | failed | interrupted
            trigger TEXT NOT NULL,             -- cli | daemon | demo | ...
            sources TEXT NOT NULL              -- JSON list of source ids in this run
        );

        CREATE TABLE run_sources (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            source TEXT NOT NULL,
            status TEXT NOT NULL,              -- ok | errors | failed
            requests INTEGER NOT NULL,
            pages_fetched INTEGER NOT NULL,    -- 2xx responses
            not_modified INTEGER NOT NULL,     -- 304 responses
            new_articles INTEGER NOT NULL,
            flagged INTEGER NOT NULL,
            known_skipped INTEGER NOT NULL,    -- links not fetched because already stored
            extraction_failures INTEGER NOT NULL,
            errors TEXT NOT NULL,              -- JSON list of "url: message"
            PRIMARY KEY (run_id, source)
        );
        """
    )
    db.table("articles").enable_fts(
        ["title", "text"], fts_version="FTS5", create_triggers=True, tokenize="porter"
    )


@dataclass(frozen=True)
class Validators:
    """What a conditional GET needs to know about a discovery URL from the last clean run."""

    etag: str | None = None
    last_modified: str | None = None
    children: tuple[str, ...] = ()  # sub-sitemaps of a sitemap index that were followed


@MIGRATIONS(name="0003_alerts")
def _alerts(db: sqlite_utils.Database) -> None:
    db.executescript(outbox.SCHEMA)


@MIGRATIONS(name="0004_stories")
def _stories(db: sqlite_utils.Database) -> None:
    db.executescript(cluster.SCHEMA)


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


class Store:
    """The wirewatch database. Open one per process (or per Scrapy crawler) and close it."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=60000")
        # A savepoint keeps the pages it changes in a statement journal: in memory, not a temp
        # file (it was two writes per changed page, ~100 pages a story). Pages a crawl reads
        # again (the clustering index, FTS segments) stay in a larger cache.
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-32768")  # KiB
        self.batched = False  # see `shared`
        self._pending, self._batch_began = 0, 0.0
        with self.write():
            MIGRATIONS.apply(self.db)

    def close(self) -> None:
        self.commit()
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One unit of writing, whole or not at all: a savepoint in a transaction taken with
        BEGIN IMMEDIATE (writers queue instead of failing), committed at once, or when the
        batch is full or old for a `shared` store."""
        conn = self.db.conn
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
            self._pending, self._batch_began = 0, time.monotonic()
        conn.execute("SAVEPOINT unit")
        try:
            yield self.db
        except BaseException:
            if conn.in_transaction:  # some errors (a full disk) end the transaction themselves
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
                if not self._pending:
                    conn.execute("ROLLBACK")
            raise
        conn.execute("RELEASE unit")
        self._pending += 1
        if self._pending >= (BATCH_STORIES if self.batched else 1):
            self.commit()
        else:
            self.commit_due()

    def commit_due(self) -> None:
        """Commit the open batch once it is BATCH_SECONDS old (called on a timer, too, so an
        idle crawl does not keep other writers waiting)."""
        if self.db.conn.in_transaction and time.monotonic() - self._batch_began >= BATCH_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self.db.conn.in_transaction:
            self.db.conn.execute("COMMIT")

    # -- crawling -------------------------------------------------------------------------

    def is_known(self, url: str) -> bool:
        """True when the URL is a stored article, an alias of one, or a page with no story."""
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE url = :u UNION ALL SELECT 1 FROM url_aliases WHERE url = :u "
            "UNION ALL SELECT 1 FROM failures WHERE url = :u LIMIT 1",
            {"u": url},
        ).fetchone()
        return row is not None

    def add_story(
        self,
        source: str,
        story: Story,
        verdicts: dict[str, Verdict],
        fetched_at: datetime,
        requested_url: str,
        policy: AlertPolicy | None = None,
        features: cluster.Features | None = None,
    ) -> int | None:
        """Store a story, its aliases and its flags in one transaction.

        Returns the new article id, or None when the canonical URL was already stored (the
        requested URL then becomes an alias of it, so it is not fetched again).
        """
        with self.write() as db:
            existing = db.execute("SELECT id FROM articles WHERE url = ?", [story.url]).fetchone()
            if existing:
                article_id = existing[0]
                new = False
            else:
                cursor = db.execute(
                    "INSERT INTO articles (url, source, title, author, published_at, date_source, "
                    "fetched_at, language, text, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        story.url,
                        source,
                        story.title,
                        story.author,
                        iso_utc(story.published_at) if story.published_at else None,
                        story.date_source,
                        iso_utc(fetched_at),
                        story.language,
                        story.text,
                        story.content_hash,
                    ],
                )
                article_id = cursor.lastrowid
                assert article_id is not None, "INSERT sets lastrowid"
                new = True
                published = iso_utc(story.published_at) if story.published_at else None
                cluster.assign(
                    db.conn,
                    article_id,
                    source,
                    story.title,
                    story.text,
                    story.published_at or fetched_at,
                    published,
                    features,
                )
                self._write_flags(article_id, verdicts, story.published_at, policy)
            if requested_url != story.url:
                db.execute(
                    "INSERT OR IGNORE INTO url_aliases (url, article_id) VALUES (?, ?)",
                    [requested_url, article_id],
                )
        return article_id if new else None

    def _write_flags(
        self,
        article_id: int,
        verdicts: dict[str, Verdict],
        published: datetime | None = None,
        policy: AlertPolicy | None = None,
    ) -> None:
        """Flags and the alerts they call for, in the caller's transaction: an alert exists
        exactly when its flag was committed."""
        stamp = now_iso()
        if policy is not None:
            alerted = outbox.story_alerted(self.db, article_id)
            planned = plan(policy, verdicts, published, datetime.now(UTC), alerted)
            outbox.queue(self.db, article_id, planned, policy)
        for watchlist, verdict in verdicts.items():
            if verdict.flagged:
                self.db.execute(
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
            else:
                self.db.execute(
                    "DELETE FROM flags WHERE article_id = ? AND watchlist = ?", [article_id, watchlist]
                )

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

    def rescore(
        self, watchlists: list[Any], since: datetime | None, policy: AlertPolicy | None = None
    ) -> dict[str, dict[str, int]]:
        """Classify stored stories again and bring their flags in line, in batches."""
        changes = {
            w.name: {"stories": 0, "new": 0, "changed": 0, "removed": 0, "unchanged": 0} for w in watchlists
        }
        where, params = (
            ("WHERE coalesce(published_at, fetched_at) >= ?", [iso_utc(since)]) if since else ("", [])
        )
        cursor = self.db.conn.execute(
            f"SELECT id, title, text, published_at FROM articles {where} ORDER BY id", params
        )
        while batch := cursor.fetchmany(500):
            with self.write():
                for article_id, title, text, published_at in batch:
                    current = {
                        row[0]: (row[1], row[2], row[3])
                        for row in self.db.execute(
                            "SELECT watchlist, tier, type, score FROM flags WHERE article_id = ?",
                            [article_id],
                        )
                    }
                    verdicts = {w.name: w.classify(title, text) for w in watchlists}
                    for name, verdict in verdicts.items():
                        counts = changes[name]
                        counts["stories"] += 1
                        before = current.get(name)
                        after = (verdict.tier, verdict.type, verdict.score) if verdict.flagged else None
                        key = (
                            "unchanged"
                            if before == after
                            else "new"
                            if before is None
                            else "removed"
                            if after is None
                            else "changed"
                        )
                        counts[key] += 1
                    published = datetime.fromisoformat(published_at) if published_at else None
                    self._write_flags(article_id, verdicts, published, policy)
        return changes

    def recluster(self) -> dict[str, int]:
        """Group every stored article into stories again, from scratch, in id order: the
        order in which incremental assignment saw them. One transaction, so a run storing
        stories meanwhile waits for it instead of joining a half-built index."""
        counts = {"articles": 0, "stories": 0, "duplicate": 0, "event": 0}
        with self.write() as db:
            cluster.clear(db.conn)
            last = 0
            while batch := db.conn.execute(
                "SELECT id, source, title, text, published_at, fetched_at FROM articles WHERE id > ? "
                "ORDER BY id LIMIT 500",
                [last],
            ).fetchall():
                for article_id, source, title, text, published, fetched in batch:
                    at = datetime.fromisoformat(published or fetched)
                    decision = cluster.assign(db.conn, article_id, source, title, text, at, published)
                    counts["articles"] += 1
                    counts["stories" if decision.new else decision.how] += 1
                last = batch[-1][0]
        return counts

    def article(self, id_or_url: str) -> dict[str, Any] | None:
        """A stored article by id, by its URL, or by any URL that led to it."""
        if id_or_url.isdigit():
            rows = self._rows("SELECT * FROM articles WHERE id = ?", [int(id_or_url)])
        else:
            url = normalize_url(id_or_url)
            rows = self._rows(
                "SELECT * FROM articles WHERE url = ? "
                "OR id = (SELECT article_id FROM url_aliases WHERE url = ?)",
                [url, url],
            )
        return dict(rows[0]) if rows else None

    def flags_of(self, article_id: int) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._rows("SELECT * FROM flags WHERE article_id = ? ORDER BY watchlist", [article_id])
        ]

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, trigger: str, sources: list[str]) -> int:
        """Record a run by this process; call it holding the run lock (crawler/lock.py)."""
        with self.write() as db:
            # A run still 'running' here was killed: the lock says nobody is running it any more.
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cursor = db.execute(
                "INSERT INTO runs (started_at, status, trigger, sources, pid, host) "
                "VALUES (?, 'running', ?, ?, ?, ?)",
                [now_iso(), trigger, json.dumps(sources), os.getpid(), socket.gethostname()],
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
        rows = self._rows(
            "SELECT * FROM runs WHERE pid = ? AND host = ? AND started_at >= ? ORDER BY id DESC LIMIT 1",
            [pid, socket.gethostname(), since],
        )
        return dict(rows[0]) if rows else None

    def run_sources_of(self, run_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows("SELECT * FROM run_sources WHERE run_id = ?", [run_id])]

    def failing_streaks(self) -> dict[str, int]:
        """Per source, how many of its latest runs in a row were not ok (0: the last one was)."""
        sql = (
            "SELECT source, count(*) FROM run_sources x WHERE run_id > coalesce("
            "(SELECT max(run_id) FROM run_sources y WHERE y.source = x.source AND y.status = 'ok'), 0) "
            "GROUP BY source"
        )
        return {source: count for source, count in self.db.execute(sql).fetchall()}

    def running(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows("SELECT * FROM runs WHERE status = 'running'", [])]

    def last_run(self) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT 1", [])
        return dict(rows[0]) if rows else None

    # -- queries --------------------------------------------------------------------------

    def flagged(
        self, since: datetime | None, watchlist: str | None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Flagged stories (events), newest first: one row per story and watchlist, shown by
        its first flagged copy (``id``), with every outlet that carried the story."""
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
        for row in map(dict, self._rows(sql, params)):
            key = (row["story"] or -row["id"], row["watchlist"])
            first = stories.setdefault(key, row)
            if first is not row:  # a later copy: the story's flag is its strongest
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
        match it is given, 0.6 s for a word in most of a million stories."""
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
        return [dict(r) for r in self._rows(sql, [*params, limit])]

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """The latest run_sources row of each source, with the run's start time."""
        sql = (
            "SELECT rs.*, r.started_at FROM run_sources rs JOIN runs r ON r.id = rs.run_id "
            "WHERE rs.run_id = (SELECT max(run_id) FROM run_sources x WHERE x.source = rs.source)"
        )
        return {r["source"]: dict(r) for r in self._rows(sql, [])}

    def _rows(self, sql: str, params: list[Any]) -> list[sqlite3.Row]:
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, params).fetchall()


_SHARED: dict[str, Store] = {}


def shared(path: Path | str) -> Store:
    """The store every crawler and middleware of this process writes through, batched (one
    connection: a second one would wait on the first's open batch from the same thread)."""
    key = str(Path(path).resolve())
    if key not in _SHARED:
        store = Store(path)
        store.batched = True
        _SHARED[key] = store
    return _SHARED[key]


def close_shared() -> None:
    """Commit and close the shared stores (at the end of a crawl, however it ended)."""
    while _SHARED:
        _SHARED.popitem()[1].close()


# -- migrations after the first, in order --------------------------------------------------


@MIGRATIONS(name="0002_runs_health")
def _runs_health(db: sqlite_utils.Database) -> None:
    """Who ran each run (process and machine) and how long it took, for `wirewatch status`.

    Statuses added with the daemon: runs.status and run_sources.status 'timeout' (a run
    stopped for exceeding schedule.run_timeout).
    """
    db.executescript(
        """
        ALTER TABLE runs ADD COLUMN pid INTEGER;       -- the process that ran it
        ALTER TABLE runs ADD COLUMN host TEXT;         -- and its machine
        ALTER TABLE runs ADD COLUMN duration REAL;     -- seconds, set when it ends
        CREATE INDEX run_sources_source ON run_sources(source, run_id);
        """
    )
