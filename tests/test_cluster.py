"""Story clustering: normalisation, names, and grouping on a small synthetic corpus of wire
copy, reprints, own versions and distinct same-day events (bench/cluster_corpus.py)."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from pipelines import flow
from pipelines.core.records import Article
from pipelines.store import Store
from pipelines.stories import fingerprints as cluster

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from cluster_corpus import generate, relation


def story(title: str, text: str, at: datetime, url: str) -> Article:
    return Article(url, title, None, at, "page", "en", text, hashlib.sha256(text.encode()).hexdigest())


@pytest.mark.parametrize(
    "text",
    [
        "ISLAMABAD, Nov 26 (APP): Gunmen attacked a convoy.",
        "BEIJING, Nov. 26 (Xinhua) -- Gunmen attacked a convoy.",
        "KARACHI: Gunmen attacked a convoy.",
        "Gunmen attacked a convoy. (APP)",
        "  gunmen   ATTACKED a convoy",
    ],
)
def test_normalize_removes_dateline_agency_case_and_spacing(text):
    assert cluster.normalize(text) == "gunmen attacked a convoy"


def test_names_are_capitalised_words_not_sentence_starts_or_stopwords():
    found = set(
        cluster.names(
            "QUETTA, Nov 26 (APP): Militants attacked a post in Lakki Marwat on Tuesday. Police said "
            "the Counter Terrorism Department had registered a case. The militants fled to Bannu."
        ).values()
    )
    assert {"lakki", "marwat", "counter", "terrorism", "department", "bannu"} <= found
    assert not found & {"militants", "police", "tuesday", "the", "quetta", "app"}


def test_near_duplicate_needs_shared_text_and_the_same_names():
    lead = "Gunmen attacked a police checkpost in Lakki Marwat late on Tuesday, killing two policemen."
    body = " ".join(f"Sentence {i} of the report says the same thing about the checkpost." for i in range(12))
    a = cluster.features("A", f"{lead}\n{body}")
    b = cluster.features("B", f"{lead}\n{body}\nCopyright Daily Times.")
    share, common = cluster.containment(a.shingles, b.shingles)
    assert share > 0.9 and common > 50
    assert a.lead == b.lead


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    articles = generate(events_per_day=10, days=3, seed=3)
    store = Store(tmp_path_factory.mktemp("cluster") / "c.db")
    ids = []
    for n, a in enumerate(articles):
        ids.append(
            flow.keep(
                store,
                a.source,
                story(a.title, a.text, a.published, f"https://x.example/{n}/"),
                {},
                a.published,
                "",
            )
        )
    yield store, articles, ids
    store.close()


def test_reprints_join_the_wire_story_and_distinct_events_stay_apart(corpus_store):
    store, articles, ids = corpus_store
    story_of = dict(store.db.execute("SELECT id, story_id FROM articles").fetchall())
    merged: dict[str, list[bool]] = {}
    for (a, ia), (b, ib) in combinations(zip(articles, ids, strict=True), 2):
        merged.setdefault(relation(a, b), []).append(story_of[ia] == story_of[ib])
    assert all(merged["verbatim reprint"]) and all(merged["edited reprint"])
    assert sum(merged["own version"]) / len(merged["own version"]) > 0.8
    assert not any(merged["distinct, same kind and day"]) and not any(merged["distinct, other"])


def test_stories_table_counts_outlets_and_times(corpus_store):
    store, _articles, _ids = corpus_store
    rows = store.db.execute(
        "SELECT s.id, s.article_count, s.outlets, s.first_published, s.last_published, count(a.id), "
        "min(a.published_at), max(a.published_at) FROM stories s JOIN articles a ON a.story_id = s.id "
        "GROUP BY s.id"
    ).fetchall()
    assert rows
    for _, count, _outlets, first, last, members, earliest, latest in rows:
        assert count == members and (first, last) == (earliest, latest)
    biggest = max(rows, key=lambda r: r[1])
    assert biggest[1] >= 5 and len(set(json.loads(biggest[2]))) == len(json.loads(biggest[2])) >= 5


def test_incremental_and_full_reclustering_agree(corpus_store):
    store, _, _ = corpus_store
    before = store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    stories_before = store.db.execute("SELECT * FROM stories ORDER BY id").fetchall()
    counts = flow.regroup(store)
    assert counts.articles == len(before) and counts.stories == len(stories_before)
    assert store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == before
    assert store.db.execute("SELECT * FROM stories ORDER BY id").fetchall() == stories_before


def test_a_story_outside_the_time_window_starts_a_new_story(tmp_path):
    store = Store(tmp_path / "w.db")
    text = (
        "BANNU: Militants attacked the Domel police station in Bannu, killing Constable Ali Khan.\n"
        + " ".join(
            f"Detail {i} about the Domel police station attack and the search near Bannu." for i in range(10)
        )
    )
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    first = flow.keep(store, "app", story("A", text, now, "https://a.example/1/"), {}, now, "")
    again = flow.keep(
        store, "dawn", story("B", text, now + timedelta(hours=5), "https://b.example/1/"), {}, now, ""
    )
    late = now + timedelta(days=5)
    later = flow.keep(store, "dawn", story("C", text, late, "https://b.example/2/"), {}, late, "")
    rows = dict(store.db.execute("SELECT id, story_id FROM articles").fetchall())
    assert rows[first] == rows[again] != rows[later]
    outlets = store.db.execute(
        "SELECT outlets, article_count FROM stories WHERE id = ?", [rows[first]]
    ).fetchone()
    assert outlets == ('["app", "dawn"]', 2)
    store.close()
