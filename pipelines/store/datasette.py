"""What Datasette shows of the database (`wirewatch serve`): titles and descriptions of the
tables and columns analysts read, facets, and canned queries for the questions they ask.

Kept with the schema it describes, since the canned queries are SQL of this backend.
"""

from __future__ import annotations

from typing import Any

TABLES: dict[str, dict[str, Any]] = {
    "articles": {
        "title": "Articles",
        "description": "One page of one outlet, as extracted; url links the original.",
        "facets": ["source", "language", "date_source", "origin"],
        "sort_desc": "published_at",
        "label_column": "title",
        "columns": {
            "url": "canonical URL of the article (the original page)",
            "source": "seed id of the outlet",
            "published_at": "publication time, UTC (ISO 8601)",
            "date_source": "where the time came from: page, feed (feed, sitemap or listing), page-day, none",
            "fetched_at": "when wirewatch fetched it, UTC",
            "origin": "what stored it: run (a crawl), backfill or import (a WARC file)",
            "text": "the article's text as published",
            "content_hash": "sha256 of the whitespace-normalised text",
            "story_id": "the story (event) it belongs to",
        },
    },
    "stories": {
        "title": "Stories",
        "description": "Events: the wire copy, its reprints and other outlets' versions, grouped.",
        "sort_desc": "first_published",
        "label_column": "title",
        "columns": {
            "title": "headline of its first article",
            "first_article_id": "the first article stored",
            "first_published": "earliest publication of its articles, UTC",
            "last_published": "latest publication of its articles, UTC",
            "outlets": "JSON list of the sources that carried it, in order of arrival",
            "article_count": "how many articles (copies and versions) it holds",
        },
    },
    "flags": {
        "title": "Flags",
        "description": "Articles a watchlist flagged: core (alerted at once) or mention (digest), and why.",
        "facets": ["watchlist", "tier", "type"],
        "sort_desc": "flagged_at",
        "columns": {
            "score": "the watchlist's score",
            "tier": "core or mention",
            "type": "incident or measures",
            "reasons": "JSON: the rules that fired, their points, terms and sentences",
        },
    },
    "alerts": {
        "title": "Alerts",
        "description": "One row per article, watchlist and recipient: its email's state.",
        "facets": ["status", "kind", "recipient"],
        "sort_desc": "id",
        "columns": {
            "kind": "core (an email of its own) or digest",
            "status": "pending, sending, sent or failed",
            "last_error": "the mail server's reply or the connection error",
        },
    },
    "runs": {
        "title": "Runs",
        "description": "Each crawl cycle (kind run) and backfill: who started it, how it ended, how long.",
        "facets": ["kind", "status", "trigger"],
        "sort_desc": "id",
    },
    "run_sources": {
        "title": "Runs per source",
        "description": "Each source in each run: requests, new articles, errors, dead links, blocks.",
        "facets": ["source", "status", "blocked"],
        "sort_desc": "run_id",
        "columns": {
            "dead_links": "article links that answered 404 or 410 (not errors)",
            "blocked": "the bot protection that blocked the source, if any",
            "errors": "JSON list of 'url: message'",
        },
    },
    "failures": {"title": "Pages with no article", "facets": ["source"], "sort_desc": "last_seen"},
    "dead_links": {"title": "Dead links", "facets": ["source", "status"], "sort_desc": "last_seen"},
    "url_aliases": {"title": "Other URLs of stored articles"},
}
HIDDEN = (
    "story_bands",
    "story_keys",
    "story_names",
    "story_links",
    "story_rebuild",
    "http_validators",
    "backfill_pages",
    "digests",
    "_sqlite_migrations",
)

QUERIES: dict[str, dict[str, str]] = {
    "flagged_this_week": {
        "title": "Flagged this week",
        "description": "Flagged articles of the last 7 days, newest first, with their story's outlets.",
        "sql": (
            "SELECT a.published_at, f.tier, f.type, f.score, a.title, a.source, s.outlets, "
            "a.story_id, a.id, a.url FROM flags f JOIN articles a ON a.id = f.article_id "
            "LEFT JOIN stories s ON s.id = a.story_id "
            "WHERE coalesce(a.published_at, a.fetched_at) >= datetime('now', '-7 days') "
            "ORDER BY coalesce(a.published_at, a.fetched_at) DESC"
        ),
    },
    "story": {
        "title": "One story",
        "description": "Every article of a story (event), with its outlet and flags.",
        "sql": (
            "SELECT a.published_at, a.source, a.title, f.tier, f.score, a.id, a.url FROM articles a "
            "LEFT JOIN flags f ON f.article_id = a.id WHERE a.story_id = :story_id "
            "ORDER BY coalesce(a.published_at, a.fetched_at)"
        ),
    },
    "search": {
        "title": "Full-text search",
        "description": 'Articles matching a search (FTS5: words, "phrases", OR, NOT, prefix*), best first.',
        "sql": (
            "SELECT a.published_at, a.source, a.title, "
            "snippet(articles_fts, 1, '[', ']', ' ... ', 12) AS snippet, a.id, a.url "
            "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH :query ORDER BY rank LIMIT 100"
        ),
    },
    "source_health": {
        "title": "Source health",
        "description": "Each source's latest run: status, new articles, errors, dead links, blocks.",
        "sql": (
            "SELECT rs.source, r.started_at, rs.status, rs.blocked, rs.new_articles, rs.flagged, "
            "rs.dead_links, json_array_length(rs.errors) AS errors, rs.errors AS messages "
            "FROM run_sources rs JOIN runs r ON r.id = rs.run_id "
            "WHERE rs.run_id = (SELECT max(x.run_id) FROM run_sources x WHERE x.source = rs.source "
            "AND x.run_id NOT IN (SELECT id FROM runs WHERE kind != 'run')) "
            "ORDER BY rs.source"
        ),
    },
    "failed_alerts": {
        "title": "Failed alerts",
        "description": "Alerts that could not be sent (`wirewatch alerts retry` queues them again).",
        "sql": (
            "SELECT al.id, al.recipient, al.kind, al.attempts, al.last_error, a.title, a.url "
            "FROM alerts al JOIN articles a ON a.id = al.article_id WHERE al.status = 'failed' "
            "ORDER BY al.id DESC"
        ),
    },
}
LABELS_QUERY = {
    "title": "The desk's labels",
    "description": "Judgements recorded with `wirewatch label`, newest first.",
    "sql": (
        "SELECT l.*, a.title, a.url FROM labels l JOIN articles a ON a.id = l.article_id "
        "ORDER BY l.labelled_at DESC"
    ),
}


def metadata(database: str, tables: set[str]) -> dict[str, Any]:
    """Datasette's metadata for a wirewatch database named ``database`` that has ``tables``."""
    shown = {name: meta for name, meta in TABLES.items() if name in tables}
    hidden = {name: {"hidden": True} for name in HIDDEN if name in tables}
    queries = dict(QUERIES)
    if "labels" in tables:
        queries["labels"] = LABELS_QUERY
    return {
        "title": "wirewatch",
        "description": "News about the security of CPEC and of Chinese nationals in Pakistan, as wirewatch "
        "stored it. Read-only.",
        "databases": {database: {"tables": {**shown, **hidden}, "queries": queries}},
    }
