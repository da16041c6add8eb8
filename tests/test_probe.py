"""`wirewatch sources probe` against the loopback demo site, and a source with broken URLs."""

from __future__ import annotations

from conftest import demo_seed


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
