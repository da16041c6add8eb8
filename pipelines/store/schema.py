"""The schema, as an ordered list of migrations: the only place tables are created or changed.

The schema is part of the user interface (analysts query it with SQL; the README documents
it). Change it only by adding a migration at the end. Migrations are recorded by name in
`_sqlite_migrations`, so a database made by an earlier release gets exactly those it lacks.
"""

from __future__ import annotations

import sqlite_utils

from pipelines.core.text import clean_text

MIGRATIONS = sqlite_utils.Migrations("wirewatch")


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


@MIGRATIONS(name="0003_alerts")
def _alerts(db: sqlite_utils.Database) -> None:
    """The alert outbox: one row per article, watchlist and recipient; digests gather them."""
    db.executescript(
        """
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
    )


@MIGRATIONS(name="0004_stories")
def _stories(db: sqlite_utils.Database) -> None:
    """Stories (events) and the index that groups articles into them."""
    db.executescript(
        """
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,                 -- of its first article
            first_article_id INTEGER NOT NULL REFERENCES articles(id),
            first_published TEXT,                -- earliest publication time of its articles
            last_published TEXT,                 -- latest
            outlets TEXT NOT NULL,               -- JSON list of source ids, in order of arrival
            article_count INTEGER NOT NULL
        );
        ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id);
        CREATE INDEX articles_story ON articles(story_id);
        -- LSH band keys of each article's MinHash signature: near-duplicate candidates by lookup.
        CREATE TABLE story_bands (
            key INTEGER NOT NULL,
            day INTEGER NOT NULL,                -- days since 1970-01-01 of the article's time
            article_id INTEGER NOT NULL,
            PRIMARY KEY (key, day, article_id)
        ) WITHOUT ROWID;
        -- Names (capitalised words) of each article: same-event candidates by lookup.
        CREATE TABLE story_keys (
            key INTEGER NOT NULL,
            day INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (key, day, article_id)
        ) WITHOUT ROWID;
        -- In how many stories each name occurs (key 0: how many stories there are): name rarity.
        CREATE TABLE story_names (
            key INTEGER PRIMARY KEY,
            stories INTEGER NOT NULL
        );
        CREATE TABLE story_links (
            story_id INTEGER NOT NULL,
            key INTEGER NOT NULL,
            PRIMARY KEY (story_id, key)
        ) WITHOUT ROWID;
        """
    )


@MIGRATIONS(name="0005_story_rebuild")
def _story_rebuild(db: sqlite_utils.Database) -> None:
    """Progress of a `recluster`, which regroups in short batches: while a row is here, new
    articles wait for it to reach them (they are grouped, and their alerts queued, in order)."""
    db.executescript(
        """
        CREATE TABLE story_rebuild (
            id INTEGER PRIMARY KEY CHECK (id = 1),  -- at most one rebuild at a time
            next_article_id INTEGER NOT NULL,   -- articles below this are regrouped
            first_new_id INTEGER NOT NULL,      -- articles from here on were stored during it
            started_at TEXT NOT NULL,
            cleared INTEGER NOT NULL DEFAULT 0  -- 1 once the old grouping is gone
        );
        """
    )


@MIGRATIONS(name="0006_dead_links_and_blocks")
def _dead_links_and_blocks(db: sqlite_utils.Database) -> None:
    """Article URLs that answered 404 or 410, asked again only with backoff; per source and run,
    how many there were and which bot protection blocked the source, if one did."""
    db.executescript(
        """
        CREATE TABLE dead_links (
            url TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            status INTEGER NOT NULL,            -- 404 | 410
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1,
            next_attempt_at TEXT                -- NULL: never asked again
        );
        ALTER TABLE run_sources ADD COLUMN dead_links INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE run_sources ADD COLUMN blocked TEXT;  -- the bot protection's vendor
        """
    )


@MIGRATIONS(name="0007_match_text")
def _match_text(db: sqlite_utils.Database) -> None:
    """The full-text index reads the text in normal form (no soft hyphens or zero-width
    characters, NFKC), kept beside the text as published: `match_title` and `match_text` are
    NULL when the normal form is the published one, as for most articles. Search matches
    "Chi&shy;nese" for "Chinese" and shows the snippet in normal form."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN match_title TEXT;
        ALTER TABLE articles ADD COLUMN match_text TEXT;
        DROP TRIGGER IF EXISTS articles_ai;
        DROP TRIGGER IF EXISTS articles_ad;
        DROP TRIGGER IF EXISTS articles_au;
        DROP TABLE IF EXISTS articles_fts;
        CREATE VIEW articles_match AS
            SELECT id, coalesce(match_title, title) AS title, coalesce(match_text, text) AS text
            FROM articles;
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, text, tokenize='porter', content='articles_match', content_rowid='id'
        );
        CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts (rowid, title, text) VALUES
                (new.id, coalesce(new.match_title, new.title), coalesce(new.match_text, new.text));
        END;
        CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES
                ('delete', old.id, coalesce(old.match_title, old.title), coalesce(old.match_text, old.text));
        END;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, text, match_title, match_text ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES
                ('delete', old.id, coalesce(old.match_title, old.title), coalesce(old.match_text, old.text));
            INSERT INTO articles_fts (rowid, title, text) VALUES
                (new.id, coalesce(new.match_title, new.title), coalesce(new.match_text, new.text));
        END;
        """
    )
    changed = []
    for article_id, title, text in db.execute("SELECT id, title, text FROM articles"):
        clean_title, clean_body = clean_text(title), clean_text(text)
        if clean_title != title or clean_body != text:
            changed.append((none_if(clean_title, title), none_if(clean_body, text), article_id))
    db.conn.executemany("UPDATE articles SET match_title = ?, match_text = ? WHERE id = ?", changed)
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")


def none_if(normal: str, published: str) -> str | None:
    """What a `match_` column holds: the normal form, or NULL when it is the published text."""
    return None if normal == published else normal


@MIGRATIONS(name="0008_labels")
def _labels(db: sqlite_utils.Database) -> None:
    """The desk's judgements of articles (`wirewatch label`): one per article, the latest."""
    db.executescript(
        """
        CREATE TABLE labels (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            label INTEGER NOT NULL CHECK (label IN (0, 1, 2)),  -- 2 core, 1 mention, 0 not relevant
            type TEXT,                          -- incident | measures, for labels 1 and 2
            note TEXT,
            who TEXT NOT NULL,                  -- the analyst's login
            labelled_at TEXT NOT NULL           -- ISO 8601 UTC
        );
        CREATE INDEX labels_labelled_at ON labels(labelled_at);
        """
    )


@MIGRATIONS(name="0009_reports")
def _reports(db: sqlite_utils.Database) -> None:
    """Briefs by mail: one per recipient and period, kept whole so a retry sends the same page."""
    db.executescript(
        """
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            recipient TEXT NOT NULL,
            watchlist TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            page TEXT NOT NULL,                 -- the brief's HTML, charts included
            message_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,               -- pending | sending | sent | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            created_at TEXT NOT NULL,
            claimed_at TEXT,
            claimed_by TEXT,
            UNIQUE (recipient, watchlist, period_start, period_end)
        );
        CREATE INDEX reports_due ON reports(status, next_attempt_at);
        """
    )


@MIGRATIONS(name="0010_source_health")
def _source_health(db: sqlite_utils.Database) -> None:
    """Each source's last known state, and the health emails sent when one changes."""
    db.executescript(
        """
        CREATE TABLE source_states (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL,                -- ok | failing | blocked | silent | degraded
            reason TEXT NOT NULL,
            changed_at TEXT NOT NULL
        );
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            recipient TEXT NOT NULL,
            subject TEXT NOT NULL,
            text TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,               -- pending | sending | sent | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            created_at TEXT NOT NULL,
            claimed_at TEXT,
            claimed_by TEXT
        );
        CREATE INDEX notices_due ON notices(status, next_attempt_at);
        """
    )


@MIGRATIONS(name="0011_backfill_pages")
def _backfill_pages(db: sqlite_utils.Database) -> None:
    """The walk of a backfill: sitemaps and listing pages whose stories are all handled, per
    source and window, so a stopped backfill resumes without reading them again."""
    db.executescript(
        """
        CREATE TABLE backfill_pages (
            source TEXT NOT NULL,
            since TEXT NOT NULL,                -- the window: ISO 8601 UTC
            until TEXT NOT NULL,                -- '' for a window open to the present
            url TEXT NOT NULL,                  -- a sitemap (index) or listing page
            follow TEXT NOT NULL,               -- JSON: the sitemaps or next page it leads to
            done_at TEXT NOT NULL,
            PRIMARY KEY (source, since, until, url)
        ) WITHOUT ROWID;
        """
    )


@MIGRATIONS(name="0012_article_pages")
def _article_pages(db: sqlite_utils.Database) -> None:
    """Where each article's page is kept in a web archive (WARC), for `wirewatch reextract`:
    the crawl's own archive (`[storage] archive = "warc"`) or the file it was imported from."""
    db.executescript(
        """
        CREATE TABLE article_pages (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            file TEXT NOT NULL,                 -- relative to the database's folder, or absolute
            offset INTEGER NOT NULL             -- where the page's record starts in it
        );
        """
    )


@MIGRATIONS(name="0013_extraction_modes")
def _extraction_modes(db: sqlite_utils.Database) -> None:
    """What each source's pages have shown about trafilatura's fallback (readability/jusText):
    pages extracted both ways and how often the texts differed, so a source whose stories it
    never changes skips it (pipelines/extract/modes.py), across runs."""
    db.executescript(
        """
        CREATE TABLE extraction_modes (
            source TEXT PRIMARY KEY,
            pages INTEGER NOT NULL,             -- pages extracted since learning began
            checked INTEGER NOT NULL,           -- of them, extracted both ways and compared
            disagreed INTEGER NOT NULL,         -- checks whose texts differed
            agreed_in_row INTEGER NOT NULL,     -- checks since the last that differed
            last_disagreed_url TEXT,
            last_disagreed_at TEXT,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """
    )


@MIGRATIONS(name="0014_run_kinds")
def _run_kinds(db: sqlite_utils.Database) -> None:
    """What each row of `runs` was: a crawl cycle ('run') or a backfill ('backfill'). A
    backfill's row says what it fetched and stored, but health, failing streaks and the brief
    read crawl runs only: a walk of the past never makes a source look healthy or failing."""
    db.executescript(
        """
        ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';  -- run | backfill
        CREATE INDEX runs_not_crawls ON runs(id) WHERE kind != 'run';  -- the few backfills
        """
    )


@MIGRATIONS(name="0015_article_origins")
def _article_origins(db: sqlite_utils.Database) -> None:
    """How each article came: stored by a crawl run ('run'), a backfill ('backfill') or an
    archive import ('import'). A source's health reads the runs' articles only: a backfill or
    an import stores hundreds of stories at once, fetched (or captured) lately, and made a
    silent source look alive. Articles stored before this migration count as runs'."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN origin TEXT NOT NULL DEFAULT 'run';  -- run | backfill | import
        """
    )
