"""`wirewatch sources probe` against the loopback demo site, and a source with broken URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from conftest import demo_seed
from faults import fixed

from crawler.discovery.spider import MAX_SITEMAP_DEPTH


def broken_seed(base: str) -> str:
    return f"""
id = "broken"
title = "Broken Times"
allowed_domains = ["127.0.0.1"]
feeds = ["{base}/no-such-feed/"]
sitemaps = ["{base}/national/"]
[articles]
allow = ['^http://127\\\\.0\\\\.0\\\\.1:\\\\d+/national/[a-z0-9-]+/$']
"""


def test_probe_reports_each_url_and_extracts_the_newest_stories(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    workspace.add_seed("broken", broken_seed(site.base))
    result = workspace.cli("sources", "probe")
    assert result.returncode == 4, result.stderr
    out = result.stdout
    assert "demo (Demo Press of Pakistan" in out and "broken (Broken Times)" in out
    feed = next(line for line in out.splitlines() if line.strip().endswith(f"{site.base}/feed/"))
    assert feed.lstrip().startswith("ok") and " 200 " in feed and "items, newest 20" in feed
    assert "sitemap index of 2 sitemaps" in out
    articles = [line for line in out.splitlines() if "article 200" in line]
    assert len(articles) >= 3 and all(line.lstrip().startswith("ok") for line in articles)
    assert "chars, date from page" in out
    assert "FAIL feed     HTTP 404" in out
    assert "not a sitemap (root element <html>)" in out
    assert not workspace.db.exists()  # nothing written


def test_probe_of_one_named_source(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    workspace.add_seed("broken", broken_seed(site.base))
    result = workspace.cli("sources", "probe", "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout and "0 failed" in result.stdout
    assert workspace.cli("sources", "probe", "nope").returncode == 3
    listing = workspace.cli("sources")  # the plain listing still works
    assert listing.returncode == 0 and "broken" in listing.stdout


# The probe is the run's spider: it reads the discovery URLs a run reads, and no others.

CONVOY = "/national/chinese-engineers-convoy-attacked-near-besham/"  # 2 hours old
SOPS = "/national/interior-ministry-approves-new-sops-for-security-of-chinese-nationals/"  # 5 hours
POLIO = "/national/nationwide-anti-polio-drive-to-vaccinate-45-million-children-begins/"  # 29 hours
RAILWAYS = "/national/pakistan-railways-to-add-new-coaches-to-karachi-lahore-trains/"  # 220 hours
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _stamp(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()


def _index(base: str, children: dict[str, float | None]) -> bytes:
    entries = "".join(
        f"<sitemap><loc>{base}{path}</loc>"
        + (f"<lastmod>{_stamp(hours)}</lastmod>" if hours is not None else "")
        + "</sitemap>"
        for path, hours in children.items()
    )
    return f'<sitemapindex xmlns="{SITEMAP_NS}">{entries}</sitemapindex>'.encode()


def _urlset(base: str, pages: dict[str, float]) -> bytes:
    entries = "".join(
        f"<url><loc>{base}{path}</loc><lastmod>{_stamp(hours)}</lastmod></url>"
        for path, hours in pages.items()
    )
    return f'<urlset xmlns="{SITEMAP_NS}">{entries}</urlset>'.encode()


def _feed(base: str, pages: dict[str, float]) -> bytes:
    items = "".join(
        f"<item><title>Story</title><link>{base}{path}</link>"
        f"<pubDate>{format_datetime(datetime.now(UTC) - timedelta(hours=hours))}</pubDate></item>"
        for path, hours in pages.items()
    )
    return f'<rss version="2.0"><channel><title>Test</title>{items}</channel></rss>'.encode()


def seed(
    base: str, feeds: tuple[str, ...] = (), sitemaps: tuple[str, ...] = (), listings: tuple[str, ...] = ()
) -> str:
    return (
        'id = "probed"\ntitle = "Probed"\nallowed_domains = ["127.0.0.1"]\nmax_age = "3d"\n'
        f"feeds = {json.dumps([base + p for p in feeds])}\n"
        f"sitemaps = {json.dumps([base + p for p in sitemaps])}\n"
        + "".join(f'[[listings]]\nurl = "{base}{p}"\n' for p in listings)
        + r"""[articles]
allow = ['^http://127\.0\.0\.1:\d+/(national|business|private)/[a-z0-9-]+/$']
"""
    )


def reported(out: str, url: str) -> tuple[str, str]:
    """The probe's line for a URL, and the note printed under it ("" if none)."""
    lines = out.splitlines()
    n = next(n for n, line in enumerate(lines) if line.endswith(" " + url))
    below = lines[n + 1] if n + 1 < len(lines) else ""
    note = below.strip() if below.startswith(" ") and not below.lstrip().startswith(("ok ", "FAIL ")) else ""
    return lines[n].strip(), note


def probed(out: str, kind: str) -> set[str]:
    return {line.split()[-1] for line in out.splitlines() if line.lstrip().split()[1:2] == [kind]}


def test_probe_reads_the_sub_sitemaps_a_run_reads(site, workspace):
    """Every sub-sitemap modified within max_age, undated ones and nested indexes included;
    not only the two newest of the top index (as the probe once did)."""
    base = site.base
    site.routes.update(
        {
            "/tree/index.xml": fixed(
                _index(
                    base, {"/tree/a.xml": 1, "/tree/b.xml": 2, "/tree/c.xml": None, "/tree/old.xml": 30 * 24}
                ),
                "application/xml",
            ),
            "/tree/a.xml": fixed(_urlset(base, {CONVOY: 2}), "application/xml"),
            "/tree/b.xml": fixed(_urlset(base, {SOPS: 5}), "application/xml"),
            "/tree/c.xml": fixed(_index(base, {"/tree/d.xml": None}), "application/xml"),
            "/tree/d.xml": fixed(_urlset(base, {POLIO: 29}), "application/xml"),
            "/tree/old.xml": fixed(_urlset(base, {RAILWAYS: 220}), "application/xml"),
        }
    )
    workspace.add_seed("probed", seed(base, sitemaps=("/tree/index.xml",)))
    expected = {f"/tree/{name}.xml" for name in "abcd"} | {"/tree/index.xml"}

    assert workspace.run().returncode == 0
    ran = {path for path, _ in site.log if path.startswith("/tree/")}
    assert ran == expected
    site.log.clear()

    result = workspace.cli("sources", "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert probed(result.stdout, "sitemap") == {base + path for path in expected}
    assert {path for path, _ in site.log if path.startswith("/tree/")} == expected
    line, note = reported(result.stdout, f"{base}/tree/index.xml")
    assert (
        line.startswith("ok")
        and note == "sitemap index of 4 sitemaps; 1 last modified before max_age, not read"
    )
    assert {base + path for path in (CONVOY, SOPS, POLIO)} == probed(result.stdout, "article")


def test_probe_reports_a_sitemap_index_nested_too_deep_as_a_run_does(site, workspace):
    base = site.base
    for n in range(MAX_SITEMAP_DEPTH + 1):
        site.routes[f"/deep/{n}.xml"] = fixed(_index(base, {f"/deep/{n + 1}.xml": 1}), "application/xml")
    workspace.add_seed("probed", seed(base, sitemaps=("/deep/0.xml",)))
    result = workspace.cli("sources", "probe")
    assert result.returncode == 4, result.stdout + result.stderr
    deepest = f"/deep/{MAX_SITEMAP_DEPTH}.xml"
    line, note = reported(result.stdout, base + deepest)
    assert line.startswith("FAIL sitemap") and f"nested deeper than {MAX_SITEMAP_DEPTH}" in note
    assert {path for path, _ in site.log if path.startswith("/deep/")} == {
        f"/deep/{n}.xml" for n in range(MAX_SITEMAP_DEPTH + 1)
    }


def test_probe_reports_urls_disallowed_by_robots_txt_without_fetching_them(site, workspace):
    """An article a run would skip is ok; a discovery URL a run could never read fails."""
    base = site.base
    site.routes["/robots-test/feed/"] = fixed(_feed(base, {"/private/internal-memo/": 1, CONVOY: 2}))
    workspace.add_seed("probed", seed(base, feeds=("/robots-test/feed/",), listings=("/private/",)))
    result = workspace.cli("sources", "probe")
    assert result.returncode == 4, result.stdout + result.stderr
    line, note = reported(result.stdout, f"{base}/private/internal-memo/")
    assert line.startswith("ok   article -") and note == "not fetched: forbidden by robots.txt"
    line, note = reported(result.stdout, f"{base}/private/")
    assert line.startswith("FAIL listing  -") and note == "not fetched: forbidden by robots.txt"
    assert reported(result.stdout, base + CONVOY)[0].startswith("ok   article 200")
    assert ("/robots.txt", 200) in site.log
    assert not any(path.startswith("/private/") for path, _ in site.log)


def test_probe_fetches_no_article_older_than_max_age(site, workspace):
    base = site.base
    site.routes["/age/feed/"] = fixed(_feed(base, {CONVOY: 2, RAILWAYS: 220}))
    workspace.add_seed("probed", seed(base, feeds=("/age/feed/",)))
    result = workspace.cli("sources", "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    line, note = reported(result.stdout, f"{base}/age/feed/")
    assert " 2 items" in line and note == "1 older than max_age, not fetched"
    assert probed(result.stdout, "article") == {base + CONVOY}
    assert not any(path == RAILWAYS for path, _ in site.log)


def test_probe_follows_a_listing_to_its_end_as_a_run_does(site, workspace):
    # As in test_run: the listing alone, reaching back far enough that every page has stories.
    text = demo_seed(site.base).replace('max_age = "3d"', 'max_age = "30d"')
    workspace.add_seed(
        "demo", "\n".join(line for line in text.splitlines() if not line.startswith(("feeds", "sitemaps")))
    )
    result = workspace.cli("sources", "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    pages = [f"{site.base}/national/page/{n}/" for n in (2, 3)]
    assert all(reported(result.stdout, url)[0].startswith("ok   listing  200") for url in pages)
    line, note = reported(result.stdout, f"{site.base}/national/page/4/")
    assert line.startswith("ok   listing  HTTP 404") and note == "the listing ends before this page"
