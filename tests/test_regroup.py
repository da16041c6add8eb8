"""Regrouping (`recluster`) in short transactions: writers get in between, an interrupted one
carries on, and articles stored meanwhile are grouped and alerted once, when it reaches them."""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines import flow
from pipelines.alerts.policy import AlertPolicy, Route
from pipelines.core.records import Article, Verdict
from pipelines.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from cluster_corpus import generate

POLICY = AlertPolicy(routes=(Route(watchlist="w", to=("desk@example.org",)),))
CORE = Verdict(True, "core", "incident", 9.0, [{"rule": "r", "score": 9.0, "terms": ["attacked"]}])


def article(a, n: int) -> Article:
    return Article(f"https://x.example/{n}/", a.title, None, a.published, "page", "en", a.text, str(n))


@pytest.fixture
def corpus(tmp_path: Path):
    """A database of grouped articles, the grouping they got one by one, and what is left."""
    articles = generate(events_per_day=6, days=2, seed=5)
    store = Store(tmp_path / "w.db")
    for n, a in enumerate(articles[:-3]):
        flow.keep(store, a.source, article(a, n), {}, a.published, "")
    grouping = store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    yield store, grouping, articles[-3:], len(articles) - 3
    store.close()


def test_a_writer_gets_in_between_batches(corpus, monkeypatch):
    store, grouping, _, _ = corpus
    monkeypatch.setattr(flow, "BATCH_SECONDS", 0.0)  # one article per transaction
    writer = sqlite3.connect(store.path, timeout=0, isolation_level=None)  # fails at once if locked
    writes = []

    def progress(counts: flow.Regrouped, left: int) -> None:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO failures (url, source, reason, first_seen, last_seen) VALUES (?,?,?,?,?)",
            [f"https://x.example/bad/{left}/", "x", "no story", "t", "t"],
        )
        writer.execute("COMMIT")
        writes.append(left)

    counts = flow.regroup(store, progress=progress)
    assert counts.articles == len(grouping) and len(writes) >= len(grouping)
    assert store.regrouping() is None
    assert store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == grouping


def test_an_interrupted_regrouping_carries_on_and_articles_stored_meanwhile_wait_for_it(corpus, monkeypatch):
    store, grouping, later, next_n = corpus
    monkeypatch.setattr(flow, "BATCH_SECONDS", 0.0)
    calls = []

    def interrupt(counts: flow.Regrouped, left: int) -> None:
        calls.append(left)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        flow.regroup(store, POLICY, interrupt)
    state = store.regrouping()
    assert state is not None and state["next_article_id"] > 1

    # A crawl meanwhile: the new articles are stored and flagged, but wait to be grouped and alerted.
    now = datetime.now(UTC)
    new_ids = []
    for n, a in enumerate(later, next_n):
        fresh = Article(
            f"https://x.example/{n}/", a.title, None, now - timedelta(minutes=n), "page", "en", a.text, str(n)
        )
        new_ids.append(flow.keep(store, a.source, fresh, {"w": CORE}, now, "", POLICY))
    waiting = store.db.execute(
        f"SELECT count(*) FROM articles WHERE story_id IS NULL AND id IN ({','.join('?' * len(new_ids))})",
        new_ids,
    ).fetchone()[0]
    assert waiting == len(new_ids)
    assert store.db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
    assert store.db.execute("SELECT count(*) FROM flags").fetchone()[0] == len(new_ids)

    counts = flow.regroup(store, POLICY)  # run again: it carries on
    assert store.regrouping() is None
    rows = store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    assert rows[: len(grouping)] == grouping and all(story for _, story in rows)
    # One core alert per story among the new articles, queued now, and never twice.
    stories = {story for article_id, story in rows if article_id in new_ids}
    core = store.db.execute("SELECT count(*) FROM alerts WHERE kind = 'core'").fetchone()[0]
    assert core == len(stories) and counts.alerted == len(new_ids)
    flow.regroup(store, POLICY)
    assert store.db.execute("SELECT count(*) FROM alerts").fetchone()[0] == len(new_ids)


def test_readers_answer_while_a_writer_holds_its_transaction(corpus):
    store, grouping, _, _ = corpus
    store.db.conn.execute("BEGIN IMMEDIATE")
    store.db.conn.execute("DELETE FROM flags")
    reader = Store(store.path, readonly=True)
    try:
        assert len(reader.search("the", limit=1000)) == len(grouping)  # the last committed state
        with pytest.raises(Exception, match="reading only"):
            reader.record_failure("x", "https://x.example/y/", "no story")
    finally:
        reader.close()
        store.db.conn.execute("ROLLBACK")
