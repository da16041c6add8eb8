"""Text in normal form for matching, grouping and search, while the stored text stays as published."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from test_watchlist import watchlist

from pipelines.core.records import Article
from pipelines.core.text import clean_text, headline
from pipelines.store import Store
from pipelines.stories.fingerprints import features

SHY = "\u00ad"
PLAIN = "Gunmen attacked Chinese engineers near Dasu. Police said two guards were hurt."
SOFT = f"Gunmen at{SHY}tacked Chi{SHY}nese en{SHY}gineers near Da\u200bsu. Police said two guards were hurt."


def test_clean_text_drops_invisible_characters_and_folds_compatibility_forms():
    assert clean_text(SOFT) == PLAIN
    assert clean_text("ﬁrst\u00a0step, ＣＰＥＣ\ufeff") == "first step, CPEC"
    assert clean_text(PLAIN) is PLAIN  # ASCII: untouched, no copy


def test_headline_drops_the_outlets_section_and_site_only():
    assert headline("Chinese engineers attacked - Pakistan - DAWN.COM") == "Chinese engineers attacked"
    assert (
        headline("Relief attempts fall short — again - Newspaper - DAWN.COM")
        == "Relief attempts fall short — again"
    )
    assert headline("Convoy attacked | Pakistan | The Express Tribune") == "Convoy attacked"
    assert headline("Attack foiled - dawn.com") == "Attack foiled"
    assert headline("Karachi - a city of lights") == "Karachi - a city of lights"
    assert headline("No deal, says PML-N") == "No deal, says PML-N"


def test_watchlist_matches_through_soft_hyphens_and_ignores_the_site_suffix():
    w = watchlist({"name": "r", "all": ["@who", "@harm"], "weight": 4})
    assert w.classify("", SOFT).score == w.classify("", PLAIN).score == 4
    assert w.classify("", SOFT).reasons[0]["terms"] == ["attacked", "Chinese engineers"]
    titled = watchlist({"name": "r", "all": ["Pakistan"], "scope": "title", "weight": 4})
    assert not titled.classify("Storm hits coast - Pakistan - DAWN.COM", "").flagged
    assert titled.classify("Storm hits Pakistan - World - DAWN.COM", "").flagged


def test_grouping_sees_the_same_words_with_or_without_invisible_characters():
    assert features("Attack", SOFT) == features("Attack", PLAIN)


def test_search_finds_the_normal_form_and_the_store_keeps_the_published_text(tmp_path: Path):
    store = Store(tmp_path / "w.db")
    now = datetime(2025, 3, 1, tzinfo=UTC)
    for i, text in enumerate((SOFT, "Nothing of interest here today.")):
        article = Article(f"https://x.example/{i}", f"Story {i}", None, now, "page", "en", text, str(i))
        store.add_article("x", article, now, article.url)
    found = store.search('"Chinese engineers"')
    assert [r["title"] for r in found] == ["Story 0"] and "attacked [Chinese engineers] near" in found[0][
        "snippet"
    ]
    store.db.execute("UPDATE articles SET language = ? WHERE id = 1", ["en-GB"])  # not a change of text
    store.db.execute("UPDATE articles SET text = ?, match_text = NULL WHERE id = 1", [PLAIN + " Dasu dam."])
    store.db.execute("DELETE FROM articles WHERE id = 2")
    assert [r["title"] for r in store.search("dam")] == ["Story 0"] and not store.search("interest")
    store.close()
    raw = sqlite3.connect(tmp_path / "w.db")
    assert raw.execute("SELECT text FROM articles").fetchone()[0] == PLAIN + " Dasu dam."
    raw.close()


def test_stored_text_stays_as_published(tmp_path: Path):
    store = Store(tmp_path / "w.db")
    now = datetime(2025, 3, 1, tzinfo=UTC)
    article = Article("https://x.example/1", f"Chi{SHY}nese", None, now, "page", "en", SOFT, "h")
    store.add_article("x", article, now, article.url)
    store.close()
    raw = sqlite3.connect(tmp_path / "w.db")
    assert raw.execute("SELECT title, text FROM articles").fetchone() == (f"Chi{SHY}nese", SOFT)
    raw.close()
