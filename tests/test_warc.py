"""Web archives: `wirewatch import` of WARC files, the crawl's own archive and `reextract`."""

from __future__ import annotations

import gzip
import io
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from conftest import demo_seed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.archive import Damaged, Page, page_at, records

GOOD = (  # demo-site pages: a core story, a mention-free one, and one more core story
    "/national/chinese-engineers-convoy-attacked-near-besham/",
    "/business/psx-gains-612-points-on-banking-energy-buying/",
    "/national/interior-ministry-approves-new-sops-for-security-of-chinese-nationals/",
)


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


def test_import_stores_the_good_pages_and_names_the_others(site, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(site.base))
    warc = tmp_path / "pages.warc.gz"
    offsets = build_warc(site, warc)

    result = workspace.cli("import", str(warc))
    assert result.returncode == 4, result.stderr  # a damaged record: named, skipped, exit 4
    assert "records 6: HTML pages 4, stored 3 " in result.stdout
    assert "unknown source 1," in result.stdout and "non-HTML 1," in result.stdout
    assert "malformed 1" in result.stdout
    assert f"{warc} at offset {offsets['truncated']}: truncated" in result.stderr
    assert "elsewhere.example (1)" in result.stderr and "response image/png (1)" in result.stderr

    stored = {r["url"]: r for r in workspace.query("SELECT * FROM articles")}
    assert set(stored) == {site.base + p for p in GOOD}
    pages = {
        r["article_id"]: (r["file"], r["offset"]) for r in workspace.query("SELECT * FROM article_pages")
    }
    for n, path in enumerate(GOOD):
        article = stored[site.base + path]
        assert pages[article["id"]] == (str(warc.resolve()), offsets[f"good{n}"])
        assert article["story_id"] is not None and article["date_source"] == "page"
        assert datetime.fromisoformat(article["published_at"]) < datetime.fromisoformat(article["fetched_at"])
    # Flagged like a crawl's, alerted never.
    flagged = {
        r["url"]
        for r in workspace.query("SELECT url FROM articles JOIN flags ON flags.article_id = articles.id")
    }
    assert {site.base + GOOD[0], site.base + GOOD[2]} <= flagged
    assert workspace.query("SELECT count(*) FROM alerts")[0][0] == 0

    again = workspace.cli("import", str(warc))
    assert "stored 0 " in again.stdout and "duplicates 3," in again.stdout
    assert workspace.query("SELECT count(*) FROM articles")[0][0] == 3


def test_import_with_source_forced_and_the_lock_held(site, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(site.base))
    workspace.add_seed(
        "other",
        'id = "other"\ntitle = "Other"\nallowed_domains = ["elsewhere.example"]\n'
        'feeds = ["https://elsewhere.example/feed/"]\n[articles]\nallow = ["/nothing-matches/"]\n',
    )
    warc = tmp_path / "one.warc"
    warc.write_bytes(
        gzip.decompress(response("https://elsewhere.example/national/story/", fetch(site.base + GOOD[0])))
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


def test_a_file_cut_short_is_read_to_its_last_whole_record(site, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(site.base))
    whole = [response(site.base + p, fetch(site.base + p)) for p in GOOD]
    warc = tmp_path / "cut.warc.gz"
    warc.write_bytes(whole[0] + whole[1] + whole[2][: len(whole[2]) // 3])
    result = workspace.cli("import", str(warc))
    assert result.returncode == 4 and "stored 2 " in result.stdout
    assert re.search(rf"at offset {len(whole[0]) + len(whole[1])}: ", result.stderr)
