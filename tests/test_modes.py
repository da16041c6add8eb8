"""Per-source adaptive extraction: a source skips trafilatura's fallback once its pages show it
changes nothing, goes back when a checked page shows it matters, and a seed's hint wins."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import demo_seed
from test_warc import GOOD, response

from crawler.demo.server import DEMO_SITE, render
from pipelines.extract.modes import LEARN, SAMPLE, Evidence, Modes, describe
from pipelines.extract.page import extract_checked
from pipelines.store import Store

BASE = "http://127.0.0.1:8765"  # the demo seed's domain; nothing is fetched
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LISTING = "/national/"  # trafilatura's own extractor finds little here; readability finds more


def page(path: str) -> str:
    return render((DEMO_SITE / path.strip("/") / "index.html").read_text(), BASE, NOW)


def articles(n: int) -> list[tuple[str, str]]:
    """``n`` distinct article pages (the demo's stories under new URLs, canonical links too)."""
    out = []
    for i in range(n):
        path = GOOD[i % len(GOOD)]
        url = f"/national/story-{i}-{path.strip('/').split('/')[-1]}/"
        out.append((BASE + url, page(path).replace(path, url)))
    return out


def listings(n: int) -> list[tuple[str, str]]:
    return [(f"{BASE}/national/story-list-{i}/", page(LISTING)) for i in range(n)]


def warc(path: Path, pages: list[tuple[str, str]]) -> Path:
    path.write_bytes(b"".join(response(url, html.encode()) for url, html in pages))
    return path


def evidence(workspace) -> dict[str, object]:
    rows = workspace.query("SELECT * FROM extraction_modes WHERE source = 'demo'")
    return dict(rows[0]) if rows else {}


def test_both_extractions_compared_on_one_parse():
    url = BASE + GOOD[0]
    article, agreed = extract_checked(
        page(GOOD[0]), url, fetched_at=NOW, allowed_domains=("127.0.0.1",), check=True
    )
    assert agreed is True and "Besham" in article.text
    listing, agreed = extract_checked(
        page(LISTING), BASE + LISTING, fetched_at=NOW, allowed_domains=("127.0.0.1",), check=True
    )
    assert agreed is False
    # The kept text is the full extraction's, as without the check.
    unchecked, none = extract_checked(
        page(LISTING), BASE + LISTING, fetched_at=NOW, allowed_domains=("127.0.0.1",)
    )
    assert none is None and unchecked.text == listing.text


def test_the_policy_learns_samples_and_goes_back():
    source = Evidence("x")
    plans = [source.plan() for _ in range(LEARN)]
    assert plans == ["check"] * LEARN and source.mode == "learning"
    for _ in range(LEARN - 1):
        source.record(True, "u")
    assert source.mode == "learning"
    source.record(True, "u")
    assert source.mode == "fast"
    plans = [source.plan() for _ in range(SAMPLE)]
    assert plans.count("check") == 1 and plans.count("fast") == SAMPLE - 1
    source.record(False, "https://x.example/changed/")
    assert source.mode == "full" and source.last_disagreed_url == "https://x.example/changed/"
    plans = [source.plan() for _ in range(SAMPLE)]
    assert plans.count("check") == 1 and plans.count("full") == SAMPLE - 1
    # Back to fast only after twice the run of agreements.
    for _ in range(2 * LEARN - 1):
        source.record(True, "u")
    assert source.mode == "full"
    source.record(True, "u")
    assert source.mode == "fast"


def test_what_is_learnt_outlives_the_run(tmp_path):
    # A crawl from cron stores a few stories a run: the counts are kept in the store.
    db = tmp_path / "t.db"
    for _ in range(LEARN // 4):
        store = Store(db)
        modes = Modes(store)
        for _ in range(4):
            assert modes.plan("demo", None) == "check"
            modes.record("demo", True, "u")
        modes.save()
        store.close()
    store = Store(db)
    modes = Modes(store)
    assert modes.of("demo").mode == "fast" and modes.of("demo").pages == LEARN
    assert modes.plan("demo", True) == "full" and modes.plan("demo", False) == "fast"  # the seed wins
    store.close()
    assert (
        describe(None, Store(db, readonly=True).extraction_evidence()["demo"])
        == "fast (20 checked, 0 differed)"
    )
    assert describe(None, None) == f"learning (0 of {LEARN} checked)"
    assert describe(False, None) == "fast (seed)"


def test_an_import_learns_fast_and_a_changed_layout_sends_it_back(workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(BASE))
    first = workspace.cli("import", str(warc(tmp_path / "a.warc.gz", articles(LEARN + 5))))
    assert first.returncode == 0, first.stderr
    assert f"stored {LEARN + 5} " in first.stdout
    learnt = evidence(workspace)
    assert learnt["disagreed"] == 0 and learnt["agreed_in_row"] >= LEARN
    shown = workspace.cli("sources")
    assert f"fast ({learnt['checked']} checked, 0 differed)" in shown.stdout, shown.stdout

    # The outlet's pages change: the fallback now matters. A sampled page notices.
    second = workspace.cli("import", "--source", "demo", str(warc(tmp_path / "b.warc.gz", listings(SAMPLE))))
    assert second.returncode == 0, second.stderr
    after = evidence(workspace)
    assert after["disagreed"] == 1 and after["agreed_in_row"] == 0
    assert str(after["last_disagreed_url"]).startswith(f"{BASE}/national/story-list-")
    assert "full (" in workspace.cli("sources").stdout


def test_the_seed_hint_wins(workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(BASE) + "\n[extraction]\nfallback = true\n")
    result = workspace.cli("import", str(warc(tmp_path / "a.warc.gz", articles(LEARN + 5))))
    assert result.returncode == 0, result.stderr
    assert evidence(workspace) == {}  # nothing learnt, nothing checked
    assert "full (seed)" in workspace.cli("sources").stdout


def test_a_crawl_learns_too_and_carries_it_to_the_next_run(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    stored = workspace.query("SELECT count(*) FROM articles")[0][0]
    first = evidence(workspace)
    # Every page a crawl extracted while learning was checked both ways; the demo's articles
    # extract the same either way.
    assert 0 < stored <= first["checked"] <= first["pages"] and first["disagreed"] == 0
    assert f"learning ({first['agreed_in_row']} of {LEARN} checked)" in workspace.cli("sources").stdout
    # The next import (or crawl) goes on from these counts.
    more = [(site.base + url[len(BASE) :], html.replace(BASE, site.base)) for url, html in articles(LEARN)]
    result = workspace.cli("import", str(warc(workspace.root / "more.warc.gz", more)))
    assert result.returncode == 0, result.stderr
    after = evidence(workspace)
    assert after["pages"] == first["pages"] + LEARN and after["agreed_in_row"] >= LEARN
