"""Unit tests of the pure stages: discovery parsers, extraction, watchlist, URLs, store."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import faults
import pytest
from lxml import etree
from trafilatura.metadata import extract_metadata
from trafilatura.utils import INVALID_XML_CHARS, load_html

from crawler.demo.server import DEMO_SITE, render
from crawler.discovery.links import DiscoveryError, maybe_gunzip, parse_feed, parse_listing, parse_sitemap
from pipelines import flow
from pipelines.core.records import Verdict
from pipelines.core.urls import is_private_host, normalize_url
from pipelines.extract.page import (
    _DATE_PARAMS,
    _FORBIDDEN,
    ExtractionError,
    choose_date,
    extract,
    page_metadata,
    parse_html,
)
from pipelines.store import Store, Validators

BASE = "https://news.example"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KARACHI = ZoneInfo("Asia/Karachi")


def site_file(path: str) -> str:
    return render((DEMO_SITE / path).read_text(), BASE, NOW)


def test_feed_links_and_dates():
    found = parse_feed(site_file("feed/index.xml").encode(), BASE + "/feed/", "application/rss+xml")
    assert len(found.links) >= 10
    assert all(link.url.startswith(BASE) for link in found.links)
    assert all(link.published and link.published <= NOW for link in found.links)


def test_feed_errors():
    with pytest.raises(DiscoveryError, match="not an RSS/Atom feed"):
        parse_feed(faults.NOT_XML_FEED, BASE, "text/html")


def test_sitemap_index_and_news_sitemap():
    index = parse_sitemap(site_file("sitemap_index.xml").encode())
    assert [s.url for s in index.sitemaps] == [BASE + "/post-sitemap.xml", BASE + "/news-sitemap.xml"]
    news = parse_sitemap(site_file("news-sitemap.xml").encode(), KARACHI)
    assert news.links and all(link.title and link.published for link in news.links)


def test_sitemap_bombs_and_junk():
    with pytest.raises(DiscoveryError, match="not a sitemap"):
        parse_sitemap(b"<html><body/></html>")
    with pytest.raises(DiscoveryError, match="not XML"):
        parse_sitemap(b"\x00\x01 binary junk")
    found = parse_sitemap(faults.ENTITY_BOMB)
    assert "amplification" in (found.warning or "")
    assert all(len(link.url) < 1000 for link in found.links)
    with pytest.raises(DiscoveryError, match="expands beyond"):
        maybe_gunzip(faults.gzip_bomb(5_000_000), 1_000_000)
    assert maybe_gunzip(gzip.compress(b"<urlset/>"), 1000) == b"<urlset/>"


def test_listing_teasers_dates_and_next_page():
    found = parse_listing(site_file("national/index.html"), BASE + "/national/", KARACHI)
    dated = [link for link in found.links if link.published]
    assert len(dated) >= 3
    assert found.next_page == BASE + "/national/page/2/"


def test_urls():
    assert normalize_url("HTTPS://News.Example:443/a/amp/?utm_campaign=x&b=1#frag") == BASE + "/a/?b=1"
    assert normalize_url(BASE + "/a/?fbclid=1") == BASE + "/a/"
    assert is_private_host("127.0.0.1") and is_private_host("10.1.2.3") and is_private_host("169.254.1.1")
    assert is_private_host("localhost") and is_private_host("[::1]")
    assert not is_private_host("8.8.8.8") and not is_private_host("www.app.com.pk")


def test_extract_story_with_timezone_aware_page_date():
    html = site_file("national/chinese-engineers-convoy-attacked-near-besham/index.html")
    url = BASE + "/national/chinese-engineers-convoy-attacked-near-besham/"
    story = extract(html, url, fetched_at=NOW, allowed_domains=("news.example",), timezone="Asia/Karachi")
    assert story.title.startswith("Five Chinese engineers")
    assert story.published_at == NOW - timedelta(hours=2)
    assert story.date_source == "page"
    assert story.language == "en"
    assert "Besham" in story.text and "Most read" not in story.text
    assert story.url == url


def test_extract_falls_back_to_feed_date_and_rejects_short_pages():
    html = site_file(
        "national/nationwide-anti-polio-drive-to-vaccinate-45-million-children-begins/index.html"
    )
    hint = NOW - timedelta(hours=29)
    story = extract(
        html, BASE + "/x/", fetched_at=NOW, allowed_domains=("news.example",), hint_published=hint
    )
    assert (story.published_at, story.date_source) == (hint, "feed")
    with pytest.raises(ExtractionError, match="too short|no main text"):
        extract("<html><body><p>Hi</p></body></html>", BASE, fetched_at=NOW, allowed_domains=())
    with pytest.raises(ExtractionError, match="empty page"):
        extract("  ", BASE, fetched_at=NOW, allowed_domains=())


@pytest.mark.parametrize("page", sorted(p.parent.name for p in DEMO_SITE.glob("*/*/index.html")))
def test_page_metadata_agrees_with_trafilatura(page: str):
    """wirewatch reads title, author, canonical URL and date as trafilatura's extract_metadata
    does (pipelines/extract.py leaves out the fields it does not keep)."""
    (path,) = DEMO_SITE.glob(f"*/{page}/index.html")
    html = site_file(str(path.relative_to(DEMO_SITE)))
    url = f"{BASE}/{path.parent.parent.name}/{page}/"
    ours = page_metadata(load_html(html), url)
    theirs = extract_metadata(load_html(html), url, _DATE_PARAMS)
    assert (ours.title, ours.author, ours.url, ours.date) == (
        theirs.title,
        theirs.author,
        theirs.url,
        theirs.date,
    )


ODD_PAGES = [
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/'
    'xhtml1-strict.dtd">\n<html><head><title>T</title></head><body><p>One.</p></body></html>',
    '<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>Caf\u00e9 \u2019quoted\u2019</p></body></html>',
    "<html/>\n<head><title>T</title></head><body><p>Self-closing html.</p></body>",
    "<html><body><p>Control\x00 char\x0b and\x1f others\ufffe.</p></body></html>",
    "<html><body><p>Urdu \u067e\u0627\u06a9\u0633\u062a\u0627\u0646 and a tab\tand CR\r.</p></body></html>",
    "just some words, no markup at all",
    "<p>a lone fragment</p>",
    "<div><p>one</p><p>two</p></div>",
    "<!-- a comment only -->",
    faults.ARTICLE.format(title="Hostile", published="", paragraphs="<p>" + "<b>unclosed " * 50 + "</p>"),
]


@pytest.mark.parametrize(
    "html",
    [site_file(str(p.relative_to(DEMO_SITE))) for p in sorted(DEMO_SITE.glob("**/*.html"))] + ODD_PAGES,
)
def test_parse_html_makes_trafilaturas_tree(html: str):
    """`parse_html` is trafilatura's `load_html` without its slow scan for forbidden characters:
    the same tree (or the same refusal) for every page."""
    ours, theirs = parse_html(html), load_html(html)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)


def test_parse_html_looks_for_the_characters_trafilatura_removes():
    """`parse_html` hands a page to `load_html` when it holds one of the characters trafilatura
    removes: the two lists agree (a trafilatura release that changes its list fails here)."""
    removed = {c for c in map(chr, range(0x110000)) if INVALID_XML_CHARS.match(c)}
    assert removed == set(_FORBIDDEN)


def test_choose_date_never_accepts_the_future():
    future = (NOW + timedelta(hours=3)).isoformat()
    assert choose_date(future, None, NOW, KARACHI) == (None, "none")
    hint = NOW - timedelta(hours=1)
    assert choose_date(future, hint, NOW, KARACHI) == (hint, "feed")
    day, source = choose_date("2026-11-25T00:00:00", None, NOW, KARACHI)
    assert source == "page-day" and day == datetime(2026, 11, 25, tzinfo=KARACHI)


def test_offsite_canonical_is_ignored():
    html = faults.article_html("Story", "2026-11-26T10:00:00+05:00").replace(
        "<head>", '<head><link rel="canonical" href="https://evil.example/steal/">'
    )
    story = extract(html, BASE + "/news/1/", fetched_at=NOW, allowed_domains=("news.example",))
    assert story.url == BASE + "/news/1/"


def test_store_add_alias_failure_and_validators(tmp_path: Path):
    store = Store(tmp_path / "w.db")
    html = site_file("national/chinese-engineers-convoy-attacked-near-besham/index.html")
    url = BASE + "/national/chinese-engineers-convoy-attacked-near-besham/"
    story = extract(html, url, fetched_at=NOW, allowed_domains=("news.example",))
    verdict = Verdict(True, "core", "incident", 9.0, [{"rule": "r"}])
    first = flow.keep(store, "demo", story, {"w": verdict}, NOW, url + "?utm_source=x")
    assert first is not None
    assert flow.keep(store, "demo", story, {"w": verdict}, NOW, url + "amp/") is None
    assert store.is_known(url) and store.is_known(url + "amp/") and not store.is_known(BASE + "/other/")
    store.record_failure("demo", BASE + "/gallery/", "no main text found")
    store.record_failure("demo", BASE + "/gallery/", "no main text found")
    assert store.is_known(BASE + "/gallery/")
    store.save_validators({BASE + "/sitemap.xml": Validators('"abc"', None, (BASE + "/news.xml",))})
    assert store.validators(BASE + "/sitemap.xml") == Validators('"abc"', None, (BASE + "/news.xml",))
    assert store.validators(BASE + "/other.xml") == Validators()
    assert [r["title"] for r in store.search("Besham")] == [story.title]
    assert [r["title"] for r in store.search("Besham", order="relevance")] == [story.title]
    assert store.flagged(None, "w")[0]["tier"] == "core"
    store.close()
    reopened = Store(tmp_path / "w.db")  # migrations run once; reopening is harmless
    assert reopened.db.execute("SELECT attempts FROM failures").fetchone()[0] == 2
    reopened.close()


def test_batched_store_keeps_each_story_whole_and_commits_in_time(tmp_path: Path, monkeypatch):
    from pipelines import store as storage
    from pipelines.store import connection

    store = storage.shared(tmp_path / "w.db")
    other = Store(tmp_path / "w.db")  # another process's view: sees committed stories only
    html = site_file("national/chinese-engineers-convoy-attacked-near-besham/index.html")
    url = BASE + "/national/chinese-engineers-convoy-attacked-near-besham/"
    story = extract(html, url, fetched_at=NOW, allowed_domains=("news.example",))
    assert flow.keep(store, "demo", story, {}, NOW, url) is not None
    assert store.is_known(url) and not other.is_known(url)  # in the open batch

    # A story that fails half-way rolls back alone; the batch and the stories before it stay.
    broken = Verdict(True, "core", "incident", 9.0, [{"rule": "r", "bad": object()}])  # not JSON
    second = BASE + "/national/second/"
    with pytest.raises(TypeError):
        flow.keep(store, "demo", replace(story, url=second), {"w": broken}, NOW, second)
    assert store.is_known(url) and not store.is_known(second)

    monkeypatch.setattr(connection, "BATCH_SECONDS", 0.0)
    store.commit_due()  # the crawl's timer: an idle batch does not keep other writers waiting
    assert other.is_known(url) and not other.is_known(second)
    other.record_failure("demo", BASE + "/gallery/", "no main text found")  # the write lock is free
    with pytest.raises(TypeError):  # the same failure in a store of its own: nothing left open
        flow.keep(other, "demo", replace(story, url=second), {"w": broken}, NOW, second)
    assert not other.db.conn.in_transaction and not other.is_known(second)

    monkeypatch.setattr(connection, "BATCH_SECONDS", 3600.0)
    monkeypatch.setattr(connection, "BATCH_ARTICLES", 2)
    store.record_failure("demo", BASE + "/a/", "x")
    assert not other.is_known(BASE + "/a/")
    store.record_failure("demo", BASE + "/b/", "x")  # the second write of a batch commits it
    assert other.is_known(BASE + "/b/")
    store.record_failure("demo", BASE + "/c/", "x")
    storage.close_shared()  # the end of a crawl commits what is left
    assert other.is_known(BASE + "/c/")
    other.close()


def test_relevance_ranks_the_newest_matches(tmp_path: Path, monkeypatch):
    from pipelines.core.records import Article
    from pipelines.store import articles as storage

    store = Store(tmp_path / "w.db")
    texts = ["convoy convoy convoy attacked", "a convoy passed", "the convoy was late", "no match here"]
    for i, text in enumerate(texts):
        body = f"{text}. " + "Filler words about the weather and the markets. " * 5
        story = Article(f"{BASE}/{i}/", f"Story {i}", None, NOW, "page", "en", body, str(i))
        flow.keep(store, "demo", story, {}, NOW, story.url)
    ranked = [r["title"] for r in store.search("convoy", order="relevance")]
    assert ranked[0] == "Story 0" and len(ranked) == 3  # the densest match first
    monkeypatch.setattr(storage, "RELEVANCE_POOL", 2)  # a word in more stories than the pool
    assert sorted(r["title"] for r in store.search("convoy", order="relevance")) == ["Story 1", "Story 2"]
    assert len(store.search("convoy")) == 3  # newest first: every match, no pool
    store.close()


def test_seed_boilerplate_lines_are_removed_from_the_text():
    import re

    html = faults.article_html("Story", "2026-11-26T10:00:00+05:00").replace(
        "</p><p>ISLAMABAD (APP): Paragraph 3",
        "</p><p>Copyright Business Recorder, 2026</p><p>ISLAMABAD (APP): Paragraph 3",
    )
    kept = extract(html, BASE + "/news/1/", fetched_at=NOW, allowed_domains=("news.example",))
    assert "Copyright Business Recorder" in kept.text
    cleaned = extract(
        html,
        BASE + "/news/1/",
        fetched_at=NOW,
        allowed_domains=("news.example",),
        boilerplate=(re.compile(r"^Copyright Business Recorder, \d{4}$"),),
    )
    assert "Copyright" not in cleaned.text and "Paragraph 3" in cleaned.text


def test_without_the_fallback_trafilatura_keeps_its_own_extraction():
    # A listing page is where trafilatura's own extractor finds little and its readability
    # and jusText comparison finds more; on an article page both give the same story.
    listing = site_file("national/index.html")
    kept = {
        fallback: extract(
            listing, BASE + "/national/", fetched_at=NOW, allowed_domains=("news.example",), fallback=fallback
        ).text
        for fallback in (True, False)
    }
    assert len(kept[True]) > 2 * len(kept[False])
    article = site_file("national/chinese-engineers-convoy-attacked-near-besham/index.html")
    url = BASE + "/national/chinese-engineers-convoy-attacked-near-besham/"
    assert extract(
        article, url, fetched_at=NOW, allowed_domains=("news.example",), fallback=False
    ) == extract(article, url, fetched_at=NOW, allowed_domains=("news.example",))
