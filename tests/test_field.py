"""Sources in the field: dead links are remembered, not failures; bot protection is named and
the blocked source is not hammered."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from email.utils import format_datetime

import faults
import pytest
from conftest import demo_seed

from crawler.demo.server import DemoSite
from crawler.fetch.challenges import challenge

JUST_A_MOMENT = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript and cookies to continue</noscript>"
    b"<script>(function(){window._cf_chl_opt={cvId: '3'};})();</script></body></html>"
)
MENU = [f"/section-{i}/" for i in range(8)]  # menu links that look like articles and answer 404


def _feed(base: str, paths: list[str]) -> bytes:
    stamp = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>Item {i}</title><link>{base}{path}</link><pubDate>{stamp}</pubDate></item>"
        for i, path in enumerate(paths)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()
    )


@pytest.fixture
def field_site():
    routes: dict = {}
    with DemoSite(routes=routes) as site:
        now = datetime.now(UTC).isoformat()
        routes.update(
            {
                "/field/feed/": faults.fixed(
                    _feed(site.base, ["/field/story-a/", *(f"/field{m}" for m in MENU)]),
                    extra={"ETag": '"v1"'},
                ),
                "/field/story-a/": faults.fixed(faults.article_html("Story A", now).encode(), "text/html"),
                "/cf/feed/": _challenge,
                "/cf/sitemap.xml": _challenge,
                "/cf/latest/": _challenge,
            }
        )
        yield site


def _challenge(handler) -> None:
    handler.send(
        503,
        JUST_A_MOMENT,
        {"Content-Type": "text/html; charset=UTF-8", "Server": "cloudflare", "cf-mitigated": "challenge"},
    )


def seed(name: str, base: str, feeds: list[str], sitemaps: list[str] = (), listing: str | None = None) -> str:
    text = (
        f'id = "{name}"\ntitle = "{name}"\nallowed_domains = ["127.0.0.1"]\n'
        f"feeds = {json.dumps([base + f for f in feeds])}\nsitemaps = {json.dumps([base + s for s in sitemaps])}\n"
    )
    if listing:
        text += f'[[listings]]\nurl = "{base}{listing}"\n'
    return text + f"[articles]\nallow = ['^{base}/{name}/[a-z0-9-]+/$']\n"


def test_dead_links_are_remembered_not_failures(field_site, workspace):
    base = field_site.base
    workspace.add_seed("field", seed("field", base, ["/field/feed/"]))
    first = workspace.run()
    assert first.returncode == 0, first.stdout + first.stderr
    row = workspace.query("SELECT * FROM run_sources")[0]
    assert (row["status"], row["dead_links"], row["new_articles"]) == ("ok", len(MENU), 1)
    assert json.loads(row["errors"]) == []
    assert "run 1: ok" in first.stdout
    dead = workspace.query("SELECT * FROM dead_links ORDER BY url")
    assert [d["url"] for d in dead] == sorted(f"{base}/field{m}" for m in MENU)
    assert all(d["status"] == 404 and d["attempts"] == 1 and d["next_attempt_at"] for d in dead)
    # The feed's validators were saved (a run with dead links is a clean run): the next run asks
    # with If-None-Match... and the menu links are not asked again.
    assert workspace.query("SELECT count(*) FROM http_validators")[0][0] >= 1
    asked = len(field_site.log)
    second = workspace.run()
    assert second.returncode == 0, second.stdout + second.stderr
    later = [path for path, _ in field_site.log[asked:]]
    assert not any(path.startswith("/field/section-") for path in later), later

    # An hour on, each is asked once more when a page links it again; one answers now.
    conn = sqlite3.connect(workspace.db)
    conn.execute("UPDATE dead_links SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    field_site.routes["/field/section-0/"] = faults.fixed(
        faults.article_html("Section zero is an article now", datetime.now(UTC).isoformat()).encode(),
        "text/html",
    )
    third = workspace.run()
    assert third.returncode == 0, third.stdout + third.stderr
    dead = {d["url"]: d for d in workspace.query("SELECT * FROM dead_links")}
    assert f"{base}/field/section-0/" not in dead  # it answers now: stored like any article
    assert (
        workspace.query("SELECT count(*) FROM articles WHERE url = ?", (f"{base}/field/section-0/",))[0][0]
        == 1
    )
    assert all(d["attempts"] == 2 for d in dead.values()) and len(dead) == len(MENU) - 1
    # Asked twice, each now waits a day.
    assert all(d["next_attempt_at"] > datetime.now(UTC).isoformat() for d in dead.values())


def test_a_source_behind_a_challenge_is_named_blocked_and_not_hammered(field_site, workspace):
    base = field_site.base
    workspace.add_seed("demo", demo_seed(base))
    workspace.add_seed("cf", seed("cf", base, ["/cf/feed/"], ["/cf/sitemap.xml"], "/cf/latest/"))
    result = workspace.run()
    assert result.returncode == 4, result.stdout + result.stderr
    rows = {r["source"]: r for r in workspace.query("SELECT * FROM run_sources")}
    assert rows["demo"]["status"] == "ok"
    assert (rows["cf"]["status"], rows["cf"]["blocked"]) == ("blocked", "cloudflare")
    errors = json.loads(rows["cf"]["errors"])
    assert len(errors) == 1 and "blocked (bot protection: cloudflare)" in errors[0]
    assert "blocked (bot protection: cloudflare)" in result.stdout
    # No challenge is retried (503 is otherwise retried), and nothing is asked after the first:
    # here all three start URLs were already in flight (politeness is off in tests).
    asked = [path for path, _ in field_site.log if path.startswith("/cf/")]
    assert sorted(asked) == sorted(set(asked)) and len(asked) <= 3, asked
    assert (
        workspace.query("SELECT requests FROM run_sources WHERE source = 'cf'")[0][0] <= 4
    )  # and robots.txt

    status = workspace.cli("status")
    assert "blocked (bot protection: cloudflare)" in status.stdout
    assert status.returncode == 8 and "ATTENTION: cf is blocked" in status.stderr


@pytest.mark.parametrize(
    ("status", "headers", "body", "vendor"),
    [
        (503, {"server": "cloudflare", "cf-mitigated": "challenge"}, JUST_A_MOMENT, "cloudflare"),
        (403, {"server": "cloudflare", "cf-mitigated": "challenge"}, b"<html></html>", "cloudflare"),
        (
            200,
            {},
            b"<html><script src='/cdn-cgi/challenge-platform/h/b/orchestrate'></script></html>",
            "cloudflare",
        ),
        (403, {"server": "sucuri/cloudproxy", "x-sucuri-block": "BLK"}, b"<h1>Access Denied</h1>", "sucuri"),
        (200, {}, b"<html><script>var sucuri_cloudproxy_js='';</script></html>", "sucuri"),
        (403, {"server": "ddos-guard"}, b"<html>blocked</html>", "ddos-guard"),
        (403, {"server": "akamaighost"}, b"<html><h1>Access Denied</h1>Reference #18.1</html>", "akamai"),
        (
            403,
            {"x-iinfo": "9-1-0"},
            b"<html>Request unsuccessful. Incapsula incident ID: 1</html>",
            "imperva",
        ),
        (
            200,
            {},
            b"<html><body><script>document.cookie='x=1; path=/'; location.reload();</script></body></html>",
            "javascript challenge",
        ),
    ],
)
def test_challenges_are_told_by_their_markers(status, headers, body, vendor):
    assert challenge(status, headers, body) == vendor


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        # A real page served through Cloudflare carries its headers too.
        (200, {"server": "cloudflare", "cf-ray": "8a1"}, faults.article_html("Real", "2026-11-30").encode()),
        (503, {"server": "nginx"}, b"<html><body>Service unavailable</body></html>"),  # an outage
        (403, {"server": "apache"}, b"<html><body>Forbidden</body></html>"),  # a plain refusal
        (404, {"server": "cloudflare", "cf-mitigated": "challenge"}, JUST_A_MOMENT),  # not a block status
        # A full page that merely mentions a marker (an article about Cloudflare) is no challenge.
        (200, {}, b"<p>/cdn-cgi/challenge-platform/ explained</p>" + b"<p>text</p>" * 8000),
    ],
)
def test_real_answers_are_not_challenges(status, headers, body):
    assert challenge(status, headers, body) is None


def test_probe_names_the_block(field_site, workspace):
    workspace.add_seed("cf", seed("cf", field_site.base, ["/cf/feed/"], ["/cf/sitemap.xml"], "/cf/latest/"))
    result = workspace.cli("sources", "probe")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "blocked (bot protection: cloudflare)" in result.stdout
