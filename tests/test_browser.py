"""Browser mode: pages rendered by headless Chromium (scrapy-playwright) for the seeds that ask,
on loopback sites: a story only JavaScript writes, a bot check that sets a cookie and reloads,
a page that makes the browser ask a private address, and a missing Chromium."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from email.utils import format_datetime

import faults
import pytest
from conftest import demo_seed, needs_chromium

from crawler.config.seeds import parse_source_text
from crawler.config.wirewatch import load_config
from crawler.demo.server import DemoSite
from crawler.fetch.browser import browser_problem

SENTENCE = "Officials in Gwadar said the convoy reached the port under escort on Tuesday evening"
STORY = {
    "title": "Convoy reaches Gwadar under escort",
    "paragraphs": [f"{SENTENCE}, paragraph {i}, with details of the route and the escort." for i in range(8)],
}
# The story exists only after this script has run: the served HTML holds "Loading...".
JS_PAGE = """<!DOCTYPE html><html><head><title>Loading</title>
<meta property="article:published_time" content="{published}"></head>
<body><nav><a href="/">Home</a></nav><article id="story"><p>Loading...</p></article>
<script>
fetch("story.json").then(function (r) {{ return r.json(); }}).then(function (d) {{
  document.title = d.title;
  document.getElementById("story").innerHTML =
    "<h1>" + d.title + "</h1>" + d.paragraphs.map(function (p) {{ return "<p>" + p + "</p>"; }}).join("");
}});
</script></body></html>"""
# Cloudflare's basic check, in small: a script sets a cookie and reloads; with the cookie the
# server answers the real page.
CHECK = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript and cookies to continue</noscript>"
    b"<script>window._cf_chl_opt={cvId: '3'};"
    b"document.cookie = 'cf_clearance=passed; path=/';"
    b"setTimeout(function () { location.reload(); }, 200);</script></body></html>"
)
# A check no script passes (an interactive one): it stays.
HARD_CHECK = CHECK.replace(b"document.cookie", b"var nothing").replace(b"location.reload();", b"")


def _feed(base: str, paths: list[str]) -> bytes:
    stamp = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>Item {i}</title><link>{base}{p}</link><pubDate>{stamp}</pubDate></item>"
        for i, p in enumerate(paths)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()
    )


def seed(name: str, base: str, fetch: str) -> str:
    return (
        f'id = "{name}"\ntitle = "{name}"\nallowed_domains = ["127.0.0.1"]\nfetch = "{fetch}"\n'
        f'feeds = ["{base}/{name}/feed/"]\n'
        f"[articles]\nallow = ['^{base}/{name}/story-[a-z0-9-]+/$']\n"
    )


def _checked(answer, bot_check: bytes = CHECK):
    """``answer`` for a client holding the check's cookie; the check page for anyone else."""

    def route(handler) -> None:
        if "cf_clearance=passed" in (handler.headers.get("Cookie") or ""):
            answer(handler)
            return
        headers = {"Content-Type": "text/html; charset=UTF-8", "Server": "cloudflare"}
        handler.send(503, bot_check, {**headers, "cf-mitigated": "challenge"})

    return route


@pytest.fixture
def js_site():
    routes: dict = {}
    with DemoSite(routes=routes) as site:
        now = datetime.now(UTC).isoformat()
        page = faults.fixed(JS_PAGE.format(published=now).encode(), "text/html; charset=utf-8")
        json_route = faults.fixed(json.dumps(STORY).encode(), "application/json")

        def story(handler) -> None:
            site.agents.append(handler.headers.get("User-Agent"))
            json_route(handler)

        site.agents = []
        article = faults.fixed(faults.article_html("Behind the check", now).encode(), "text/html")
        for name in ("jsplain", "jsbrowser"):
            routes[f"/{name}/feed/"] = faults.fixed(_feed(site.base, [f"/{name}/story-convoy/"]))
            routes[f"/{name}/story-convoy/"] = page
            routes[f"/{name}/story-convoy/story.json"] = story
        for name in ("cfplain", "cfbrowser"):
            routes[f"/{name}/feed/"] = _checked(faults.fixed(_feed(site.base, [f"/{name}/story-checked/"])))
            routes[f"/{name}/story-checked/"] = _checked(article)
        routes["/cfhard/feed/"] = _checked(faults.fixed(_feed(site.base, [])), HARD_CHECK)
        yield site


def _browser_config(workspace, timeout: int = 20) -> None:
    # A browser page on a loaded 2-core machine can take seconds: the tests' 3 s is too short.
    text = workspace.config.read_text().replace("download_timeout = 3", f"download_timeout = {timeout}")
    workspace.config.write_text(text)


@needs_chromium
def test_a_story_written_by_javascript_is_stored_in_browser_mode_only(js_site, workspace):
    _browser_config(workspace)
    workspace.add_seed("jsplain", seed("jsplain", js_site.base, "plain"))
    workspace.add_seed("jsbrowser", seed("jsbrowser", js_site.base, "browser"))
    result = workspace.run()
    assert result.returncode == 0, result.stdout + result.stderr
    texts = {r["source"]: r["text"] for r in workspace.query("SELECT source, text FROM articles")}
    assert SENTENCE in texts.get("jsbrowser", ""), texts
    assert "jsplain" not in texts  # plain mode saw "Loading..." and stored no story
    stored = workspace.query("SELECT title FROM articles WHERE source = 'jsbrowser'")[0]
    assert stored["title"] == STORY["title"]
    # Only the browser source asked for the JSON (the page's own request).
    asked = [path for path, _ in js_site.log]
    assert "/jsbrowser/story-convoy/story.json" in asked
    assert "/jsplain/story-convoy/story.json" not in asked
    # The page's own requests carry our User-Agent too; robots.txt was read.
    assert js_site.agents and all(a.startswith("wirewatch/") for a in js_site.agents), js_site.agents
    assert "/robots.txt" in asked


@needs_chromium
def test_a_bot_check_that_reloads_passes_in_browser_mode_and_blocks_plain_mode(js_site, workspace):
    _browser_config(workspace, timeout=8)  # the check that never passes is given 8 s
    for name, fetch in (("cfplain", "plain"), ("cfbrowser", "browser"), ("cfhard", "browser")):
        workspace.add_seed(name, seed(name, js_site.base, fetch))
    result = workspace.run()
    assert result.returncode == 4, result.stdout + result.stderr
    rows = {r["source"]: r for r in workspace.query("SELECT * FROM run_sources")}
    assert (rows["cfbrowser"]["status"], rows["cfbrowser"]["new_articles"]) == ("ok", 1), dict(
        rows["cfbrowser"]
    )
    text = workspace.query("SELECT text FROM articles WHERE source = 'cfbrowser'")[0]["text"]
    assert "story about behind the check" in text
    for name in ("cfplain", "cfhard"):
        assert (rows[name]["status"], rows[name]["blocked"]) == ("blocked", "cloudflare"), dict(rows[name])
    assert not workspace.query("SELECT 1 FROM articles WHERE source IN ('cfplain', 'cfhard')")
    # The browser's first answer was the check, its second the feed: it went through the check.
    feed = [status for path, status in js_site.log if path == "/cfbrowser/feed/"]
    assert feed[:2] == [503, 200], feed
    # One Chromium for both browser sources.
    assert result.stderr.count("launching Chromium") == 1, result.stderr


@pytest.fixture
def beacon():
    """A second loopback server: anything that reaches it is a request the guard let through."""
    with DemoSite(routes={}) as server:
        yield server


def _private_site(site_routes: dict, base: str, beacon_base: str) -> None:
    now = datetime.now(UTC).isoformat()
    html = faults.article_html("A page with a beacon", now).replace(
        "</body>",
        f'<script src="{beacon_base}/beacon.js"></script>'
        f'<script>fetch("{beacon_base}/fetched"); fetch("http://169.254.169.254/latest/meta-data/");</script>'
        "</body>",
    )
    site_routes["/priv/feed/"] = faults.fixed(_feed(base, ["/priv/story-beacon/"]))
    site_routes["/priv/story-beacon/"] = faults.fixed(html.encode(), "text/html")


@needs_chromium
@pytest.mark.parametrize("allow_private", [False, True])
def test_the_browser_never_asks_a_private_address_the_guard_refuses(beacon, workspace, allow_private):
    routes: dict = {}
    with DemoSite(routes=routes) as site:
        _private_site(routes, site.base, beacon.base)
        _browser_config(workspace)
        port = site.base.rsplit(":", 1)[1]
        text = workspace.config.read_text().replace(
            "allow_private_addresses = true",
            f'allow_private_addresses = {str(allow_private).lower()}\nallow_private_hosts = ["127.0.0.1:{port}"]',
        )
        workspace.config.write_text(text)
        workspace.add_seed("priv", seed("priv", site.base, "browser"))
        result = workspace.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert workspace.query("SELECT count(*) FROM articles WHERE source = 'priv'")[0][0] == 1
    if allow_private:
        # The control: with private addresses allowed the page's script does reach the beacon,
        # so the assertions below would see a guard that let it through.
        assert "/beacon.js" in [path for path, _ in beacon.log]
        return
    assert beacon.log == []
    assert f"refused {beacon.base}/beacon.js: 127.0.0.1 is a loopback" in result.stderr
    assert "refused http://169.254.169.254/latest/meta-data/" in result.stderr


def test_a_missing_chromium_is_a_clear_error_naming_the_seed(site, workspace):
    workspace.config.write_text(workspace.config.read_text() + 'chromium = "/nowhere/chromium"\n')
    workspace.add_seed("shown", seed("shown", site.base, "browser"))
    workspace.add_seed("demo", demo_seed(site.base))
    result = workspace.run()
    assert result.returncode == 4, result.stdout + result.stderr
    rows = {r["source"]: r for r in workspace.query("SELECT * FROM run_sources")}
    assert rows["demo"]["status"] == "ok"  # the rest of the run goes on
    error = json.loads(rows["shown"]["errors"])[0]
    assert rows["shown"]["status"] == "failed"
    assert "seed shown" in error and "shown.toml" in error
    assert "apt-get install chromium" in error and "/nowhere/chromium" in error
    check = workspace.cli("check")
    assert check.returncode == 3 and "apt-get install chromium" in check.stderr


def test_a_browser_seed_without_scrapy_playwright_names_the_install_command(monkeypatch):
    source = parse_source_text(seed("needsjs", "http://127.0.0.1", "browser"), "seeds/needsjs.toml")
    config = load_config()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    problem = browser_problem(source, config.crawl)
    assert problem is not None
    assert "seed needsjs (seeds/needsjs.toml)" in problem and "pip install 'wirewatch[browser]'" in problem
