"""Web archives: `wirewatch import` of WARC files, the crawl's own archive and `reextract`."""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import demo_seed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.demo.server import DEMO_SITE, DemoSite, render
from pipelines.archive import Damaged, Page, page_at, records
from pipelines.store import Store

GOOD = (  # demo-site pages: a core story, a mention-free one, and one more core story
    "/national/chinese-engineers-convoy-attacked-near-besham/",
    "/business/psx-gains-612-points-on-banking-energy-buying/",
    "/national/interior-ministry-approves-new-sops-for-security-of-chinese-nationals/",
)


MONTH_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


@pytest.fixture
def past() -> Iterator[DemoSite]:
    """The demo site as it was a month ago: its stories are history, beyond every max_age (the
    runs' reach), which an import stores without alerting."""
    with DemoSite(anchor=MONTH_AGO) as server:
        yield server


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def response(
    url: str, body: bytes, content_type: str = "text/html; charset=utf-8", status: str = "200 OK", when=None
) -> bytes:
    """One gzip member holding a WARC response record."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": stamp},
    )
    writer.write_record(record)
    return out.getvalue()


def truncated(url: str, body: bytes) -> bytes:
    """A response record cut short inside its body, gzipped whole: its Content-Length lies."""
    plain = gzip.decompress(response(url, body))
    return gzip.compress(plain[: len(plain) // 2])


def build_warc(site, path: Path) -> dict[str, int]:
    """Good pages, a non-HTML response, a truncated record and a page of an unknown site; the
    offset of each."""
    parts: list[tuple[str, bytes]] = [
        ("good0", response(site.base + GOOD[0], fetch(site.base + GOOD[0]))),
        ("image", response(site.base + "/logo.png", b"\x89PNG\r\n" + bytes(200), "image/png")),
        ("truncated", truncated(site.base + "/national/cut/", fetch(site.base + GOOD[1]))),
        ("good1", response(site.base + GOOD[1], fetch(site.base + GOOD[1]))),
        ("unknown", response("https://elsewhere.example/national/story/", fetch(site.base + GOOD[1]))),
        ("good2", response(site.base + GOOD[2], fetch(site.base + GOOD[2]))),
    ]
    offsets, data = {}, b""
    for name, member in parts:
        offsets[name] = len(data)
        data += member
    path.write_bytes(data)
    return offsets


def test_reading_names_each_record_and_goes_on_after_damage(site, tmp_path):
    warc = tmp_path / "pages.warc.gz"
    offsets = build_warc(site, warc)
    found = list(records(warc))
    assert [type(r).__name__ for r in found] == ["Page", "Other", "Damaged", "Page", "Page", "Page"]
    assert [r.offset for r in found] == list(offsets.values())
    assert isinstance(found[2], Damaged) and "truncated" in found[2].problem
    page = page_at(warc, offsets["good1"])
    assert isinstance(page, Page) and page.url == site.base + GOOD[1] and "PSX" in page.html


def test_import_stores_the_good_pages_and_names_the_others(past, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(past.base))
    warc = tmp_path / "pages.warc.gz"
    offsets = build_warc(past, warc)

    result = workspace.cli("import", str(warc))
    assert result.returncode == 4, result.stderr  # a damaged record: named, skipped, exit 4
    assert "records 6: HTML pages 4, stored 3 " in result.stdout
    assert "unknown source 1," in result.stdout and "non-HTML 1," in result.stdout
    assert "malformed 1" in result.stdout and "within max_age 0)" in result.stdout  # history
    assert f"{warc} at offset {offsets['truncated']}: truncated" in result.stderr
    assert "elsewhere.example (1)" in result.stderr and "response image/png (1)" in result.stderr

    stored = {r["url"]: r for r in workspace.query("SELECT * FROM articles")}
    assert set(stored) == {past.base + p for p in GOOD}
    pages = {
        r["article_id"]: (r["file"], r["offset"]) for r in workspace.query("SELECT * FROM article_pages")
    }
    for n, path in enumerate(GOOD):
        article = stored[past.base + path]
        assert pages[article["id"]] == (str(warc.resolve()), offsets[f"good{n}"])
        assert article["story_id"] is not None and article["date_source"] == "page"
        assert datetime.fromisoformat(article["published_at"]) < datetime.fromisoformat(article["fetched_at"])
    # Flagged like a crawl's, alerted never.
    flagged = {
        r["url"]
        for r in workspace.query("SELECT url FROM articles JOIN flags ON flags.article_id = articles.id")
    }
    assert {past.base + GOOD[0], past.base + GOOD[2]} <= flagged
    assert workspace.query("SELECT count(*) FROM alerts")[0][0] == 0

    again = workspace.cli("import", str(warc))
    assert "stored 0 " in again.stdout and "duplicates 3," in again.stdout
    assert workspace.query("SELECT count(*) FROM articles")[0][0] == 3


def test_import_with_source_forced_and_the_lock_held(past, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(past.base))
    workspace.add_seed(
        "other",
        'id = "other"\ntitle = "Other"\nallowed_domains = ["elsewhere.example"]\n'
        'feeds = ["https://elsewhere.example/feed/"]\n[articles]\nallow = ["/nothing-matches/"]\n',
    )
    warc = tmp_path / "one.warc"
    warc.write_bytes(
        gzip.decompress(response("https://elsewhere.example/national/story/", fetch(past.base + GOOD[0])))
    )

    from pipelines.store import RunLock, lock_path

    with RunLock(lock_path(workspace.db), "test"):
        locked = workspace.cli("import", str(warc))
    assert locked.returncode == 5 and "holds the lock" in locked.stderr

    unknown = workspace.cli("import", str(warc))  # an uncompressed WARC: read all the same
    assert unknown.returncode == 0 and "unknown source 1," in unknown.stdout
    forced = workspace.cli("import", str(warc), "--source", "other")
    assert forced.returncode == 0 and "stored 1 " in forced.stdout
    assert [tuple(r) for r in workspace.query("SELECT source, url FROM articles")] == [
        ("other", "https://elsewhere.example/national/story/")
    ]
    bad = workspace.cli("import", str(warc), "--source", "nope")
    assert bad.returncode == 3 and "unknown source nope" in bad.stderr


def test_a_file_cut_short_is_read_to_its_last_whole_record(past, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(past.base))
    whole = [response(past.base + p, fetch(past.base + p)) for p in GOOD]
    warc = tmp_path / "cut.warc.gz"
    warc.write_bytes(whole[0] + whole[1] + whole[2][: len(whole[2]) // 3])
    result = workspace.cli("import", str(warc))
    assert result.returncode == 4 and "stored 2 " in result.stdout
    assert re.search(rf"at offset {len(whole[0]) + len(whole[1])}: ", result.stderr)


def test_an_import_alerts_once_the_stories_the_runs_would_alert(site, past, workspace, smtp, tmp_path):
    """A story published within its source's max_age is the runs' to alert: stored silently by an
    import (a desk's own captures of today), the next run would find it known and never alert
    it. The import alerts it as a run would, and the run, finding it stored, does not alert it
    again. An older story is history: flagged, never alerted."""
    handler, controller = smtp
    workspace.config.write_text(
        workspace.config.read_text()
        + '[alerts]\nroutes = [{ watchlist = "cpec-security", to = ["desk@example.org"] }]\n'
        + f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\ntimeout = 5\n'
    )
    workspace.add_seed("demo", demo_seed(site.base))  # max_age = "3d"
    recent, old = site.base + GOOD[0], past.base + GOOD[2]  # published 2 hours and a month ago, both core
    warc = tmp_path / "captures.warc.gz"
    warc.write_bytes(response(recent, fetch(recent)) + response(old, fetch(old)))

    result = workspace.cli("import", str(warc))
    assert result.returncode == 0, result.stderr
    assert "stored 2 (flagged 2, within max_age 1)" in result.stdout
    ids = {r["url"]: r["id"] for r in workspace.query("SELECT id, url FROM articles")}
    assert {r[0] for r in workspace.query("SELECT article_id FROM alerts")} == {ids[recent]}
    title = "Five Chinese engineers among six killed as suicide bomber rams convoy near Besham"
    assert [title in r.message["Subject"] for r in handler.received] == [True]

    run = workspace.run()  # the site serves the recent story in its feed and sitemaps
    assert run.returncode == 0, run.stderr
    assert workspace.query("SELECT count(*) FROM articles WHERE url = ?", (recent,))[0][0] == 1
    assert len(handler.received) > 1  # the run alerted the site's other core stories...
    assert sum(title in r.message["Subject"] for r in handler.received) == 1  # ...and not this one again
    assert workspace.query("SELECT count(*) FROM alerts WHERE article_id = ?", (ids[old],))[0][0] == 0


def test_an_import_stores_what_a_crawl_found_dead_or_storyless(copy_site, workspace, tmp_path):
    """A URL a crawl recorded as a dead link (404) or as a page with no story holds no stored
    story: an archive's copy of the page it once was is history to keep, not a duplicate."""
    dead, storyless = GOOD[1], "/national/a-gallery-that-was-a-story/"
    shutil.rmtree(copy_site / dead.strip("/"))
    with DemoSite(copy_site) as site:
        workspace.add_seed("demo", demo_seed(site.base))
        assert workspace.run().returncode == 0
    assert [r[0] for r in workspace.query("SELECT url FROM dead_links")] == [site.base + dead]
    store = Store(workspace.db)
    store.record_failure("demo", site.base + storyless, "no story")
    store.close()

    def then(path: str, template: str) -> bytes:  # the page as it was a month ago
        text = render((DEMO_SITE / template.strip("/") / "index.html").read_text(), site.base, MONTH_AGO)
        return response(site.base + path, text.replace(template, path).encode())

    warc = tmp_path / "then.warc.gz"
    warc.write_bytes(then(dead, dead) + then(storyless, GOOD[2]))
    result = workspace.cli("import", str(warc))
    assert result.returncode == 0, result.stderr
    assert "stored 2 (" in result.stdout and "duplicates 0," in result.stdout
    stored = {r[0] for r in workspace.query("SELECT url FROM articles")}
    assert {site.base + dead, site.base + storyless} <= stored
    origins = {r[0]: r[1] for r in workspace.query("SELECT url, origin FROM articles")}
    assert origins[site.base + dead] == origins[site.base + storyless] == "import"
    assert set(origins.values()) == {"run", "import"}  # the run's own stay the runs'
    # Stories now: no longer dead links nor pages without a story.
    assert workspace.query("SELECT count(*) FROM dead_links")[0][0] == 0
    assert workspace.query("SELECT count(*) FROM failures")[0][0] == 0
    again = workspace.cli("import", str(warc))
    assert "stored 0 (" in again.stdout and "duplicates 2," in again.stdout


def test_a_crawl_archives_its_pages_and_reextract_restores_the_texts(site, workspace):
    text = workspace.config.read_text().replace(
        'database = "test.db"\n', 'database = "test.db"\narchive = "warc"\n'
    )
    workspace.config.write_text(text)
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    articles = {r["id"]: dict(r) for r in workspace.query("SELECT * FROM articles")}
    flags = [
        tuple(r)
        for r in workspace.query("SELECT article_id, watchlist, tier, score FROM flags ORDER BY 1, 2")
    ]
    pages = {
        r["article_id"]: (r["file"], r["offset"]) for r in workspace.query("SELECT * FROM article_pages")
    }
    assert articles and set(pages) == set(articles)
    files = sorted((workspace.root / "archive").glob("wirewatch-*.warc.gz"))
    assert len(files) == 1 and all(
        file == str(files[0].relative_to(workspace.root)) for file, _ in pages.values()
    )
    found = list(records(files[0]))
    kinds = {type(r).__name__ for r in found}
    assert kinds == {"Page", "Other"}  # responses, and the requests beside them
    for article_id, (file, offset) in pages.items():
        page = page_at(workspace.root / file, offset)
        assert articles[article_id]["title"] in page.html

    # Texts and titles damaged (as a worse extractor would leave them), flags gone:
    conn = sqlite3.connect(workspace.db)
    conn.execute("UPDATE articles SET text = 'blank', title = 'blank', author = NULL")
    conn.execute("DELETE FROM flags")
    conn.commit()
    conn.close()
    result = workspace.cli("reextract")
    assert result.returncode == 0, result.stderr
    assert (
        f"articles {len(articles)}: changed {len(articles)}, unchanged 0, no archived page 0" in result.stdout
    )
    assert f"{len(articles)} articles regrouped" in result.stdout
    after = {r["id"]: dict(r) for r in workspace.query("SELECT * FROM articles")}
    for article_id, before in articles.items():
        for key in ("title", "text", "published_at", "author", "content_hash"):
            assert after[article_id][key] == before[key], (article_id, key)
    assert [
        tuple(r)
        for r in workspace.query("SELECT article_id, watchlist, tier, score FROM flags ORDER BY 1, 2")
    ] == flags
    assert (
        workspace.query(
            "SELECT count(*) FROM alerts WHERE created_at > ?",
            (max(a["fetched_at"] for a in articles.values()),),
        )[0][0]
        == 0
    )
    assert {r[0] for r in workspace.query("SELECT story_id FROM articles")} != {None}

    again = workspace.cli("reextract", "--source", "demo", "--since", "30d")
    assert f"changed 0, unchanged {len(articles)}" in again.stdout


def test_reextract_names_articles_without_a_page(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0  # archive off: no pages kept
    count = workspace.query("SELECT count(*) FROM articles")[0][0]
    result = workspace.cli("reextract")
    assert result.returncode == 0
    assert f"articles {count}: changed 0, unchanged 0, no archived page {count}" in result.stdout
    assert site.base + GOOD[0] in result.stderr


KILLED_WRITER = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from pipelines.archive import Archive, Capture
archive = Archive(Path(sys.argv[1]), Path(sys.argv[1]).parent, max_bytes=1 << 30)
body = Path(sys.argv[2]).read_bytes()
n = 0
while True:
    n += 1
    archive.write(Capture(f"http://127.0.0.1/national/page-{n}/", datetime.now(UTC), 200,
                          [("Content-Type", "text/html; charset=utf-8")], body + str(n).encode() * n, []))
"""


def test_an_archive_written_by_a_killed_process_reads_to_its_last_whole_record(site, tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(fetch(site.base + GOOD[0]))
    folder = tmp_path / "archive"
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(folder), str(page)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        files = list(folder.glob("wirewatch-*.warc.gz"))
        if files and files[0].stat().st_size > 2_000_000:
            break
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    (file,) = folder.glob("wirewatch-*.warc.gz")
    found = list(records(file))
    pages = [r for r in found if isinstance(r, Page)]
    assert len(pages) > 10
    assert [r.url for r in pages] == [
        f"http://127.0.0.1/national/page-{n}/" for n in range(1, len(pages) + 1)
    ]
    assert all(not isinstance(r, Damaged) for r in found[:-1])  # at most the last one is cut
    # A new writer does not append to a file a crash left: it starts another.
    from pipelines.archive import Archive, Capture

    archive = Archive(folder, tmp_path)
    where = archive.write(Capture("http://127.0.0.1/x/", datetime.now(UTC), 200, [], b"<html></html>", []))
    archive.close()
    assert where.file != str(file.relative_to(tmp_path)) and where.offset == 0
    again = Archive(folder, tmp_path)  # closed cleanly: continued
    assert (
        again.write(Capture("http://127.0.0.1/y/", datetime.now(UTC), 200, [], b"<html></html>", [])).file
        == where.file
    )
    again.close()
