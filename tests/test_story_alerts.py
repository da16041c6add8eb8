"""Alerts per story: the first flagged copy of a story is the core alert; later copies wait
for the digest, which lists their outlets as "also reported by"."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pipelines import flow
from pipelines.alerts import outbox
from pipelines.alerts.compose import compose_digest
from pipelines.alerts.policy import AlertPolicy, Route, plan
from pipelines.core.records import Article, Verdict
from pipelines.store import Store

POLICY = AlertPolicy(routes=(Route(watchlist="cpec-security", to=("desk@example.org",)),))
CORE = Verdict(True, "core", "incident", 9.0, [{"rule": "r", "score": 9.0, "terms": ["attacked"]}])
MENTION = Verdict(True, "mention", "incident", 4.0, [{"rule": "r", "score": 4.0, "terms": ["attacked"]}])
TEXT = (
    "BESHAM, Nov 26 (APP): Five Chinese engineers were killed when a suicide bomber rammed their convoy "
    "on the Karakoram Highway near Besham in Shangla district, police said.\n"
    + "\n".join(
        f"Paragraph {i}: District Police Officer Sajid Khan said the convoy was heading to the Dasu camp."
        for i in range(8)
    )
)


def copy(outlet: str, hours: float, text: str = TEXT) -> Article:
    at = datetime.now(UTC) - timedelta(hours=hours)
    return Article(
        f"https://{outlet}.example/besham/",
        f"{outlet}: convoy attacked",
        None,
        at,
        "page",
        "en",
        text,
        hashlib.sha256(text.encode()).hexdigest(),
    )


def add(store: Store, outlet: str, hours: float, verdict: Verdict, text: str = TEXT) -> int:
    article_id = flow.keep(
        store, outlet, copy(outlet, hours, text), {"cpec-security": verdict}, datetime.now(UTC), "", POLICY
    )
    assert article_id is not None
    return article_id


def test_plan_downgrades_a_core_copy_of_an_alerted_story():
    now = datetime.now(UTC)
    planned = plan(POLICY, {"cpec-security": CORE}, now, now)
    assert [a.kind for a in planned] == ["core"]
    copy_plan = plan(
        POLICY, {"cpec-security": CORE}, now, now, frozenset({("cpec-security", "desk@example.org")})
    )
    assert [a.kind for a in copy_plan] == ["digest"]


def test_one_core_alert_per_story_and_the_digest_names_the_other_outlets(tmp_path):
    store = Store(tmp_path / "w.db")
    first = add(store, "app", 3, CORE)
    add(store, "dawn", 2, CORE, TEXT.replace("BESHAM, Nov 26 (APP): ", "") + "\nCopyright Dawn.")
    add(store, "brecorder", 1, MENTION)
    kinds = store.db.execute("SELECT article_id, kind FROM alerts ORDER BY article_id").fetchall()
    assert kinds[0] == (first, "core") and [k for _, k in kinds[1:]] == ["digest", "digest"]
    assert store.db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0] == 1

    outbox.open_digests(store, POLICY)
    (digest,) = store.due_digests()
    titles = {"app": "APP", "dawn": "Dawn", "brecorder": "Business Recorder"}
    message = compose_digest(digest, POLICY, titles)
    plain = message.get_body(("plain",)).get_content()
    assert "1 flagged story" in message["Subject"]
    assert "core alert sent earlier (APP)" in plain
    assert "also reported by: Dawn, Business Recorder" in plain
    assert "https://dawn.example/besham/" in plain and "https://brecorder.example/besham/" in plain

    rows = store.flagged(None, None)
    assert len(rows) == 1
    assert rows[0]["id"] == first and rows[0]["tier"] == "core" and rows[0]["articles"] == 3
    assert rows[0]["outlets"] == "app, dawn, brecorder"
    store.close()


def test_a_mention_story_is_one_digest_entry_with_its_outlets(tmp_path):
    store = Store(tmp_path / "w.db")
    add(store, "app", 3, MENTION)
    add(store, "nation", 2, MENTION)
    assert {k for (k,) in store.db.execute("SELECT kind FROM alerts")} == {"digest"}
    outbox.open_digests(store, POLICY)
    (digest,) = store.due_digests()
    plain = compose_digest(digest, POLICY, {"nation": "The Nation"}).get_body(("plain",)).get_content()
    assert plain.count("\n1. ") == 1 and "\n2. " not in plain
    assert "also reported by: The Nation" in plain and "\n   app, " in plain
    store.close()
