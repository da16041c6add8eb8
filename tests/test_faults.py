"""Bad input: each fault gives a specific message, the run goes on, and nothing is lost."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from email.utils import format_datetime

import faults
import pytest
from conftest import demo_seed

from crawler.demo.server import DemoSite


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _feed(base: str, paths: list[str]) -> bytes:
    stamp = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}{path}</link><pubDate>{stamp}</pubDate></item>"
        for i, path in enumerate(paths)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Faults</title>{items}</channel></rss>'.encode()


ARTICLE_FAULTS = {
    "/faults/articles/cp1252/": "stored",
    "/faults/articles/no-article/": "text too short",
    "/faults/articles/huge/": "larger than",
    "/faults/articles/loop/": "redirect loop",
    "/faults/articles/gone/": "HTTP 404",  # a dead link: counted, not an error
    "/faults/articles/offsite/": None,  # redirect off the source's domains: not followed
}
DISCOVERY_FAULTS = {
    "/faults/404-feed/": "HTTP 404",
    "/faults/403-feed/": "HTTP 403",
    "/faults/500-feed/": "HTTP 500",
    "/faults/html-feed/": "not an RSS/Atom feed",
    "/faults/truncated-feed/": "malformed feed",
    "/faults/slow-feed/": "timed out",
    "/faults/bomb-feed/": "malformed feed",  # entities are not expanded
    "/faults/bomb-sitemap.xml": "amplification",  # an entity bomb: refused, not expanded
    "/faults/gzip-bomb-sitemap.xml": "DOWNLOAD_MAXSIZE",
    "/faults/not-sitemap.xml": "not a sitemap",
}


@pytest.fixture
def faulty_site():
    routes: dict = {}
    with DemoSite(routes=routes) as site:
        base = site.base
        now = datetime.now(UTC).isoformat()
        routes.update(
            {
                "/faults/404-feed/": faults.status(404),
                "/faults/403-feed/": faults.status(403),
                "/faults/500-feed/": faults.status(500),
                "/faults/html-feed/": faults.fixed(faults.NOT_XML_FEED, "text/html"),
                "/faults/truncated-feed/": faults.fixed(faults.TRUNCATED_FEED),
                "/faults/slow-feed/": faults.slow(8),
                "/faults/bomb-feed/": faults.fixed(faults.ENTITY_BOMB_FEED),
                "/faults/bomb-sitemap.xml": faults.fixed(faults.ENTITY_BOMB, "application/xml"),
                "/faults/gzip-bomb-sitemap.xml": faults.fixed(
                    faults.gzip_bomb(), "application/xml", {"Content-Encoding": "gzip"}
                ),
                "/faults/not-sitemap.xml": faults.fixed(
                    b"<html><body>hello</body></html>", "application/xml"
                ),
                "/faults/good-feed/": faults.fixed(_feed(base, list(ARTICLE_FAULTS))),
                "/faults/articles/cp1252/": faults.fixed(
                    faults.article_html(faults.CP1252_TITLE, now).encode("cp1252"), "text/html"
                ),
                "/faults/articles/no-article/": faults.fixed(
                    b"<html><head><title>Gallery</title></head><body><nav>Home</nav><img src=x></body></html>",
                    "text/html",
                ),
                "/faults/articles/huge/": faults.fixed(
                    faults.article_html("Huge", now, sentences=20000).encode(), "text/html"
                ),
                "/faults/articles/loop/": faults.redirect(base + "/faults/articles/loop2/"),
                "/faults/articles/loop2/": faults.redirect(base + "/faults/articles/loop/"),
                "/faults/articles/gone/": faults.status(404),
                "/faults/articles/offsite/": faults.redirect("http://example.com/elsewhere/"),
            }
        )
        yield site


def faulty_seed(base: str) -> str:
    feeds = [f"{base}{p}" for p in DISCOVERY_FAULTS if p.endswith("/")] + [f"{base}/faults/good-feed/"]
    sitemaps = [f"{base}{p}" for p in DISCOVERY_FAULTS if p.endswith(".xml")]
    return (
        'id = "faulty"\ntitle = "Faults"\nallowed_domains = ["127.0.0.1"]\n'
        f"feeds = {json.dumps(feeds)}\nsitemaps = {json.dumps(sitemaps)}\n"
        "[articles]\nallow = ['/faults/articles/[a-z0-9-]+/$']\n"
    )


def test_every_fault_is_reported_and_the_run_goes_on(faulty_site, workspace, manifest):
    base = faulty_site.base
    workspace.add_seed("demo", demo_seed(base))
    workspace.add_seed("faulty", faulty_seed(base))
    workspace.add_seed(
        "unresolvable",
        'id = "unresolvable"\ntitle = "DNS"\nallowed_domains = ["nonexistent.invalid"]\n'
        'feeds = ["http://nonexistent.invalid/feed/"]\n[articles]\nallow = ["/"]\n',
    )
    port = _closed_port()
    workspace.add_seed(
        "refused",
        f'id = "refused"\ntitle = "Refused"\nallowed_domains = ["127.0.0.1"]\n'
        f'feeds = ["http://127.0.0.1:{port}/feed/"]\n[articles]\nallow = ["/"]\n',
    )
    result = workspace.run(timeout=180)
    assert result.returncode == 4, result.stdout + result.stderr

    by_source = {r["source"]: r for r in workspace.query("SELECT * FROM run_sources")}
    assert by_source["demo"]["status"] == "ok"
    assert by_source["demo"]["new_articles"] == sum(1 for a in manifest if a["hours_ago"] < 72)
    assert by_source["unresolvable"]["status"] == "failed"
    assert "DNS lookup failed" in by_source["unresolvable"]["errors"]
    assert by_source["refused"]["status"] == "failed"
    assert "connection refused" in by_source["refused"]["errors"]

    faulty = by_source["faulty"]
    errors = json.loads(faulty["errors"])
    assert faulty["status"] == "errors"
    for path, message in DISCOVERY_FAULTS.items():
        matching = [e for e in errors if e.startswith(base + path)]
        assert matching, f"no error reported for {path}: {errors}"
        assert message in matching[0], matching[0]
    for path in ("/faults/articles/huge/", "/faults/articles/loop/"):
        assert any(e.startswith(base + path) and ARTICLE_FAULTS[path] in e for e in errors), path
    # A dead link is counted and remembered, not an error.
    assert not any(e.startswith(base + "/faults/articles/gone/") for e in errors)
    assert faulty["dead_links"] == 1
    assert [r["url"] for r in workspace.query("SELECT url FROM dead_links")] == [
        base + "/faults/articles/gone/"
    ]
    # The messages also reach the operator on stderr, naming the source.
    assert "faulty:" in result.stderr and "HTTP 500" in result.stderr

    stored = workspace.query("SELECT * FROM articles WHERE source = 'faulty'")
    assert [r["title"] for r in stored] == [faults.CP1252_TITLE]
    assert "Café" in stored[0]["title"]
    failures = {r["url"]: r["reason"] for r in workspace.query("SELECT * FROM failures")}
    assert "text too short" in failures[base + "/faults/articles/no-article/"]
    # The redirect to another domain was not followed: no request, so no DNS error for it either.
    assert not any("example.com" in e for e in errors)


def test_private_addresses_are_refused_by_default(site, workspace):
    workspace.config.write_text(workspace.config.read_text().replace("allow_private_addresses = true", ""))
    workspace.add_seed("demo", demo_seed(site.base))
    result = workspace.run()
    assert result.returncode == 4
    row = workspace.query("SELECT * FROM run_sources")[0]
    assert row["status"] == "failed"
    assert "loopback, private or link-local" in row["errors"]
    assert site.log == []


def test_a_response_from_a_private_address_is_refused_whatever_the_name_resolved_to():
    """DNS rebinding: the name looked public when checked, the connection went to 127.0.0.1."""
    import ipaddress

    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.fetch.middlewares import AddressGuardMiddleware, RefusedRequest

    request = Request("http://news.example/story/")

    def answer(address: str) -> HtmlResponse:
        return HtmlResponse(
            request.url, body=b"<html></html>", request=request, ip_address=ipaddress.ip_address(address)
        )

    guard = AddressGuardMiddleware(allow_private=False)
    with pytest.raises(RefusedRequest, match="non-public address 127.0.0.1"):
        guard.process_response(request, answer("127.0.0.1"))
    with pytest.raises(RefusedRequest, match="10.1.2.3"):
        guard.process_response(request, answer("10.1.2.3"))
    public = answer("93.184.216.34")
    assert guard.process_response(request, public) is public
    # Test sites on loopback: allowed when the config says so.
    assert (
        AddressGuardMiddleware(allow_private=True).process_response(request, answer("127.0.0.1")) is not None
    )
