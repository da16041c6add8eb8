"""End to end: `wirewatch run` against the loopback demo site, asserting on the SQLite file."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import WIREWATCH, demo_seed

from crawler.config.wirewatch import load_config
from crawler.demo.server import DEMO_SITE, DemoSite, render
from pipelines.core.urls import normalize_url

RECENT = 72  # hours: the demo seed's max_age is 3 days


def recent(manifest):
    return [a for a in manifest if a["hours_ago"] < RECENT]


def test_first_run_stores_every_recent_story_once(site, workspace, manifest):
    workspace.add_seed("demo", demo_seed(site.base))
    result = workspace.run()
    assert result.returncode == 0, result.stderr

    rows = {r["url"]: r for r in workspace.query("SELECT * FROM articles")}
    assert len(rows) == len(recent(manifest))
    for article in recent(manifest):
        row = rows[site.base + article["canonical_path"]]
        assert row["title"] == article["title"]
        assert row["source"] == "demo"
        expected = site.anchor - timedelta(hours=article["hours_ago"])
        published = datetime.fromisoformat(row["published_at"])
        assert published.tzinfo is not None
        assert abs(published - expected) <= timedelta(seconds=1), article["path"]
        assert row["date_source"] == ("page" if article["has_page_date"] else "feed")
        assert len(row["text"]) > 300
    old = [a for a in manifest if a["hours_ago"] >= RECENT]
    assert old and not any(site.base + a["path"] in rows for a in old)


@pytest.mark.parametrize("workers", [1, 2])
def test_flags_match_the_manifest(site, workspace, manifest, workers):
    """The same flags whether pages are analysed in this process or in a pool of two."""
    workspace.config.write_text(workspace.config.read_text().replace("workers = 1", f"workers = {workers}"))
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    flagged = {
        r["url"]: r
        for r in workspace.query(
            "SELECT a.url, f.tier, f.type, f.reasons FROM flags f JOIN articles a ON a.id = f.article_id"
        )
    }
    for article in recent(manifest):
        url = site.base + article["canonical_path"]
        if article["expect"] == "none":
            assert url not in flagged, article["title"]
        else:
            assert url in flagged, article["title"]
            assert '"sentences"' in flagged[url]["reasons"]
        if article["expect"] == "core":
            assert flagged[url]["tier"] == "core"
            assert flagged[url]["type"] == article["type"]


def test_urls_are_normalised_and_canonical(site, workspace, manifest):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    urls = {r["url"] for r in workspace.query("SELECT url FROM articles")}
    assert not any("utm_" in u or u.endswith("/amp/") for u in urls)
    moved = [a for a in manifest if a["path"] != a["canonical_path"]]
    assert moved
    for article in moved:
        assert site.base + article["canonical_path"] in urls
        aliases = workspace.query("SELECT url FROM url_aliases")
        assert site.base + article["path"] in {r["url"] for r in aliases}


def test_robots_txt_is_obeyed(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    assert ("/robots.txt", 200) in site.log
    assert not any(path.startswith("/private/") for path, _ in site.log)


def test_second_run_downloads_no_article_and_gets_304s(site, workspace, manifest):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    first = list(site.log)
    site.log.clear()
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    second = list(site.log)

    article_paths = {a["path"] for a in manifest}
    assert sum(1 for p, s in first if p in article_paths and s == 200) == len(recent(manifest))
    assert not [p for p, _ in second if p in article_paths]
    discovery = [
        "/feed/",
        "/category/national/feed/",
        "/sitemap_index.xml",
        "/post-sitemap.xml",
        "/news-sitemap.xml",
        "/national/",
        "/business/",
    ]
    for path in discovery:
        assert (path, 304) in second, path
    assert not any(p.startswith("/national/page/") for p, _ in second)
    row = workspace.query("SELECT * FROM run_sources ORDER BY run_id DESC LIMIT 1")[0]
    assert row["new_articles"] == 0 and row["not_modified"] >= len(discovery)
    assert workspace.query("SELECT count(*) FROM articles")[0][0] == len(recent(manifest))


def test_a_story_added_between_runs_is_the_only_page_fetched(copy_site, workspace, manifest):
    """The sitemap index is unchanged (304), but the news sitemap it points to has a new story."""
    with DemoSite(root=copy_site) as site:
        workspace.add_seed("demo", demo_seed(site.base))
        assert workspace.run().returncode == 0
        template = copy_site / "national/chinese-engineers-convoy-attacked-near-besham/index.html"
        new_page = copy_site / "national/gwadar-port-security-reviewed/index.html"
        new_page.parent.mkdir()
        new_page.write_text(
            template.read_text()
            .replace("chinese-engineers-convoy-attacked-near-besham", "gwadar-port-security-reviewed")
            .replace(
                "Five Chinese engineers among six killed as suicide bomber rams convoy near Besham",
                "Security of Gwadar port and Chinese staff reviewed",
            )
            .replace("{{ISO:-2}}", "{{ISO:-0}}")
        )
        news = copy_site / "news-sitemap.xml"
        entry = (
            "<url><loc>{{BASE}}/national/gwadar-port-security-reviewed/</loc><news:news><news:publication>"
            "<news:name>Demo</news:name><news:language>en</news:language></news:publication>"
            "<news:publication_date>{{ISO:-0}}</news:publication_date>"
            "<news:title>Security of Gwadar port and Chinese staff reviewed</news:title></news:news></url>"
        )
        news.write_text(news.read_text().replace("</urlset>", entry + "</urlset>"))
        site.log.clear()
        result = workspace.run()
        assert result.returncode == 0, result.stderr
        article_paths = {a["path"] for a in manifest} | {"/national/gwadar-port-security-reviewed/"}
        fetched = [p for p, s in site.log if p in article_paths]
        assert fetched == ["/national/gwadar-port-security-reviewed/"]
        assert ("/sitemap_index.xml", 304) in site.log and ("/news-sitemap.xml", 200) in site.log
    titles = [r["title"] for r in workspace.query("SELECT title FROM articles")]
    assert "Security of Gwadar port and Chinese staff reviewed" in titles
    assert len(titles) == len(recent(manifest)) + 1


def start_run(workspace) -> subprocess.Popen[bytes]:
    """`wirewatch run` in the background, in the workspace's folder."""
    return subprocess.Popen(
        [*WIREWATCH, "run", "--config", str(workspace.config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workspace.root,
    )


def wait_until_stored(workspace, count: int, timeout: float = 60) -> None:
    """Let a background run store ``count`` stories (or give up after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and stored(workspace) < count:
        time.sleep(0.2)


def test_killed_run_is_resumed_without_loss_or_duplicates(workspace, manifest):
    # Slow pages: the run must still be fetching when it is killed, however slowly its
    # extraction worker starts on a loaded machine.
    # (the slow lane serves one page at a time: a queue of them must not time out)
    workspace.config.write_text(
        workspace.config.read_text().replace("download_timeout = 3", "download_timeout = 60")
    )
    with DemoSite(page_delay=1.0) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        process = start_run(workspace)
        wait_until_stored(workspace, 3)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert 3 <= stored(workspace) < len(recent(manifest))

        slow.page_delay = 0
        result = workspace.run()
        assert result.returncode == 0, result.stderr
    urls = [r["url"] for r in workspace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == len(recent(manifest))
    statuses = [r["status"] for r in workspace.query("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["interrupted", "ok"]


def stored(workspace) -> int:
    """Articles stored so far by a run in progress (0 while it is still creating the schema)."""
    try:
        return workspace.query("SELECT count(*) FROM articles")[0][0] if workspace.db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def test_sigterm_stops_gracefully_and_keeps_what_was_stored(workspace):
    with DemoSite(page_delay=0.5) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        log = workspace.root / "run.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [*WIREWATCH, "run", "--config", str(workspace.config)],
                stdout=output,
                stderr=output,
                cwd=workspace.root,
            )
            wait_until_stored(workspace, 2)
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 6, log.read_text()
    assert workspace.query("SELECT status FROM runs")[0]["status"] == "interrupted"
    assert workspace.query("SELECT count(*) FROM articles")[0][0] >= 2


def test_normalised_url_of_amp_and_tracking_variants(site):
    assert normalize_url(site.base + "/x/amp/") == site.base + "/x/"
    assert normalize_url(site.base + "/x/?utm_source=rss&id=2#top") == site.base + "/x/?id=2"
    assert datetime.now(UTC) > site.anchor


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_workers_leave_when_the_run_is_killed(workspace):
    workspace.config.write_text(workspace.config.read_text().replace("workers = 1", "workers = 2"))
    with DemoSite(page_delay=0.5) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        process = start_run(workspace)
        # The first worker starts with the first article page (a second only once pages wait
        # 2 s). Wait for it rather than for stories: on a loaded machine the pages can all be
        # fetched while the worker starts, and the run ends soon after the first ones are stored.
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and process.poll() is None and not workers:
            workers = [pid for pid in children(process.pid) if b"pipelines.analyse" in cmdline(pid)]
            time.sleep(0.1)
        assert workers, "no extraction worker seen while the run ran"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_a_listing_template_past_the_last_page_is_its_end_not_an_error(site, workspace):
    # The listing alone (no feed or sitemap makes its stories known first), reaching back far
    # enough that every page has stories to fetch: the template is followed to page 4.
    seed = demo_seed(site.base).replace('max_age = "3d"', 'max_age = "30d"')
    seed = "\n".join(line for line in seed.splitlines() if not line.startswith(("feeds", "sitemaps")))
    workspace.add_seed("demo", seed)
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    assert ("/national/page/4/", 404) in site.log
    row = workspace.query("SELECT status, errors FROM run_sources")[0]
    assert (row["status"], row["errors"]) == ("ok", "[]")


def worker_job():
    """The bundled watchlist files and the demo's convoy story as a job for extraction workers."""
    from pipelines import analyse

    config = load_config()
    files = analyse.WatchlistFiles(config.watchlist_paths, config.gazetteer, config.nlp_model)
    path = "national/chinese-engineers-convoy-attacked-near-besham/"
    html = render((DEMO_SITE / path / "index.html").read_text(), "https://news.example", datetime.now(UTC))
    return files, analyse.Job(
        html, f"https://news.example/{path}", datetime.now(UTC), ("news.example",), "UTC", "en"
    )


def slow_copy(job):
    """The same story padded with 20,000 paragraphs: a page a worker holds for a while."""
    filler = "<p>Filler sentence of a long page.</p>" * 20000
    return replace(job, html=job.html.replace("</article>", filler + "</article>"))


def test_workers_start_as_pages_wait(caplog, monkeypatch):
    """A few pages start one worker; another starts once pages have waited GROW_AFTER."""
    from pipelines import analyse

    files, job = worker_job()

    def analyse_pages(count: int) -> list[analyse.Analysis]:
        analyser = analyse.Analyser(2, files, [])

        async def pages() -> list[analyse.Analysis]:
            return await asyncio.gather(*(analyser.run(job) for _ in range(count)))

        try:
            return asyncio.run(pages())
        finally:
            analyser.close()

    caplog.set_level(logging.INFO, logger="pipelines.analyse")
    assert all(result.article for result in analyse_pages(5))
    assert caplog.text.count("starting extraction worker") == 1
    caplog.clear()
    monkeypatch.setattr(analyse, "GROW_AFTER", 0.0)
    assert all(result.article for result in analyse_pages(5))
    assert "starting extraction worker 2 of 2" in caplog.text


def test_a_bulk_analyser_starts_every_worker_with_the_first_pages(caplog):
    """A large import (bulk) does not wait GROW_AFTER for its second worker."""
    from pipelines import analyse

    files, job = worker_job()
    analyser = analyse.Analyser(2, files, [], bulk=True)

    async def pages() -> list[analyse.Analysis]:
        return await asyncio.gather(*(analyser.run(job) for _ in range(2)))

    caplog.set_level(logging.INFO, logger="pipelines.analyse")
    try:
        results = asyncio.run(pages())
    finally:
        analyser.close()
    assert all(result.article for result in results)
    assert "starting extraction worker 2 of 2" in caplog.text


def test_a_dead_worker_fails_its_page_for_next_time_and_the_next_page_is_analysed():
    from pipelines import analyse

    files, job = worker_job()
    slow = slow_copy(job)
    analyser = analyse.Analyser(2, files, [])

    async def scenario() -> tuple[analyse.Analysis, analyse.Analysis, analyse.Analysis]:
        first = await analyser.run(job)  # starts a worker
        (worker,) = analyser._pending
        dying = asyncio.ensure_future(analyser.run(slow))
        await asyncio.sleep(0.3)  # the page is in the worker's hands
        worker.process.kill()
        return first, await dying, await analyser.run(job)

    try:
        first, dead, after = asyncio.run(scenario())
    finally:
        analyser.close()
    assert first.article is not None
    assert dead.article is None and dead.transient and "worker died" in (dead.error or "")
    assert after.article is not None and after.article.title == first.article.title


def test_a_page_that_trips_a_bug_in_a_worker_fails_alone_and_the_worker_goes_on():
    from pipelines import analyse

    files, job = worker_job()
    broken = replace(job, timezone="Nowhere/Atlantis")  # the seed loader would refuse it
    analyser = analyse.Analyser(2, files, [])

    async def scenario() -> tuple[analyse.Analysis, analyse.Analysis]:
        return await analyser.run(broken), await analyser.run(job)

    try:
        failed, after = asyncio.run(scenario())
        assert len(analyser._pending) == 1  # the same worker answered both
    finally:
        analyser.close()
    assert failed.article is None and failed.transient
    assert "analysis failed: ZoneInfoNotFoundError" in (failed.error or "")
    assert after.article is not None


def test_pages_larger_than_the_pipe_reach_the_worker_whole_and_answers_keep_their_order():
    from pipelines import analyse

    files, job = worker_job()
    # 3 MB of comment after the story: more than a pipe holds, so it goes over several writes.
    ending = "in the same area in 2021."
    big = replace(
        job,
        html=job.html.replace(ending, ending + " The large copy ends with this sentence of its own.").replace(
            "</body>", "<!--" + "x" * (3 << 20) + "--></body>"
        ),
    )
    analyser = analyse.Analyser(2, files, [])

    async def scenario() -> list[analyse.Analysis]:
        return list(await asyncio.gather(analyser.run(big), analyser.run(job), analyser.run(big)))

    try:
        results = asyncio.run(scenario())
        assert len(analyser._pending) == 1
    finally:
        analyser.close()
    texts = [r.article.text if r.article else r.error for r in results]
    assert [t.endswith("this sentence of its own.") for t in texts] == [True, False, True], texts


def test_a_worker_that_answers_garbage_is_stopped_and_its_page_fails_for_next_time():
    from pipelines import analyse

    files, job = worker_job()
    slow = slow_copy(job)
    analyser = analyse.Analyser(2, files, [])

    async def scenario() -> tuple[analyse.Analysis, analyse.Analysis]:
        await analyser.run(job)  # starts a worker
        (worker,) = analyser._pending
        waiting = asyncio.ensure_future(analyser.run(slow))
        await asyncio.sleep(0.1)
        worker._receive((3).to_bytes(8, "big") + b"bad")  # as if it had written this
        return await waiting, await analyser.run(job)

    try:
        failed, after = asyncio.run(scenario())
    finally:
        analyser.close()
    assert failed.article is None and failed.transient and "worker died" in (failed.error or "")
    assert after.article is not None  # a new worker took the next page


def test_a_crawl_collects_garbage_less_often_and_leaves_the_thresholds_as_it_found_them():
    import gc

    from pipelines import analyse

    before = gc.get_threshold()
    with analyse.fewer_collections():
        assert gc.get_threshold() == analyse.GC_THRESHOLD != before
    assert gc.get_threshold() == before
