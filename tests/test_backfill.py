"""`wirewatch backfill` over a loopback site with a year of dated stories: exactly the window is
stored, nothing is alerted, and a backfill killed with SIGKILL resumes without fetching again."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import WIREWATCH, runs_stored

from crawler.demo.server import DemoSite

WORDS = [
    "minister",
    "province",
    "federal",
    "project",
    "meeting",
    "officials",
    "budget",
    "court",
    "police",
    "district",
    "trade",
    "exports",
    "farmers",
    "wheat",
    "cotton",
    "prices",
    "bank",
    "committee",
    "senator",
    "power",
    "gas",
    "road",
    "university",
    "hospital",
    "citizens",
    "funds",
    "rupees",
    "agency",
    "review",
    "plan",
    "cooperation",
    "delegation",
    "talks",
    "agreement",
    "launched",
    "water",
    "schools",
]
CPEC = "Gunmen attacked a convoy of Chinese engineers near the Dasu hydropower project, police said."
PER_PAGE = 10
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Story:
    path: str
    published: datetime | None


def _page(title: str, paragraphs: list[str], published: datetime | None) -> str:
    stamp = f'<meta property="article:published_time" content="{published.isoformat()}">' if published else ""
    byline = f'<time datetime="{published.isoformat()}">{published:%B %d, %Y}</time>' if published else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{stamp}</head><body><main><article>"
        f"<h1>{title}</h1><div class='byline'>By Staff {byline}</div>{body}</article></main></body></html>"
    )


def build_site(root: Path, base: str, count: int = 120, undated: bool = True) -> list[Story]:
    """A story every three days for a year (newest first), in monthly sitemaps under an index
    (lastmod: the month's newest story) and a listing of PER_PAGE a page; with ``undated``, one
    more story carrying no date anywhere, listed in the newest sitemap."""
    stories = [Story(f"/news/story-{i}/", NOW - timedelta(days=3 * i + 1)) for i in range(count)]
    for i, story in enumerate(stories):
        rng = random.Random(i)
        paragraphs = [
            " ".join(rng.choices(WORDS, k=rng.randint(14, 24))).capitalize() + "." for _ in range(5)
        ]
        if i % 4 == 0:
            paragraphs.insert(1, CPEC)
        title = f"Story {i}: " + " ".join(rng.choices(WORDS, k=6))
        (root / story.path.strip("/")).mkdir(parents=True)
        (root / story.path.strip("/") / "index.html").write_text(_page(title, paragraphs, story.published))
    months: dict[str, list[Story]] = {}
    for story in stories:
        assert story.published is not None
        months.setdefault(f"{story.published:%Y-%m}", []).append(story)
    if undated:
        extra = Story("/news/a-story-with-no-date/", None)
        (root / "news/a-story-with-no-date").mkdir(parents=True)
        text = " ".join(WORDS) + ". " + " ".join(reversed(WORDS)) + "."
        (root / "news/a-story-with-no-date/index.html").write_text(_page("No date", [text, text], None))
        months[max(months)].append(extra)
        stories.append(extra)
    index = []
    for month, listed in months.items():
        urls = "".join(
            f"<url><loc>{base}{s.path}</loc>"
            + (f"<lastmod>{s.published.isoformat()}</lastmod>" if s.published else "")
            + "</url>"
            for s in listed
        )
        (root / f"sitemap-{month}.xml").write_text(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
        newest = max(s.published for s in listed if s.published)
        index.append(
            f"<sitemap><loc>{base}/sitemap-{month}.xml</loc><lastmod>{newest.isoformat()}</lastmod></sitemap>"
        )
    (root / "sitemap_index.xml").write_text(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(index)
        + "</sitemapindex>"
    )
    dated = [s for s in stories if s.published]
    pages = [dated[k : k + PER_PAGE] for k in range(0, len(dated), PER_PAGE)]
    for n, listed in enumerate(pages, 1):
        teasers = "".join(
            f'<article><h2><a href="{base}{s.path}">Story</a></h2><time datetime="{s.published.isoformat()}">'  # type: ignore[union-attr]
            f"{s.published:%B %d}</time></article>"
            for s in listed
        )
        more = f'<a rel="next" href="{base}/news/page/{n + 1}/">Older</a>' if n < len(pages) else ""
        folder = root / ("news" if n == 1 else f"news/page/{n}")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(f"<html><body><main>{teasers}{more}</main></body></html>")
    return stories


def seed(base: str) -> str:
    return (
        'id = "past"\ntitle = "A year of stories"\nallowed_domains = ["127.0.0.1"]\n'
        f'max_age = "2d"\nsitemaps = ["{base}/sitemap_index.xml"]\n'
        f'[[listings]]\nurl = "{base}/news/"\nmax_pages = 2\n'
        "[articles]\nallow = ['/news/[a-z0-9-]+/$']\n"
    )


SINCE = (NOW - timedelta(days=100)).date()
UNTIL = (NOW - timedelta(days=40)).date()


def in_window(stories: list[Story], since: date = SINCE, until: date = UNTIL) -> set[str]:
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    return {s.path for s in stories if s.published and start <= s.published < end}


def backfill_args(workspace) -> list[str]:
    return [
        *WIREWATCH,
        "backfill",
        "--config",
        str(workspace.config),
        "--source",
        "past",
        "--since",
        SINCE.isoformat(),
        "--until",
        UNTIL.isoformat(),
    ]


def stored_paths(workspace) -> list[str]:
    return [r["url"].split(":", 2)[2].split("/", 1)[1] for r in workspace.query("SELECT url FROM articles")]


def test_backfill_stores_exactly_the_window_flagged_and_grouped_but_never_alerted(workspace, tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    with DemoSite(root, static=True) as site:
        stories = build_site(root, site.base)
        workspace.add_seed("past", seed(site.base))
        result = subprocess.run(
            backfill_args(workspace), capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        log = list(site.log)
    assert result.returncode == 0, result.stderr
    expected = in_window(stories)
    assert 15 <= len(expected) < len(stories) / 4
    assert {"/" + p for p in stored_paths(workspace)} == expected
    assert workspace.query("SELECT count(*) FROM alerts")[0][0] == 0
    flagged = workspace.query("SELECT count(DISTINCT article_id) FROM flags")[0][0]
    assert flagged >= len(expected) // 4 - 1 > 0
    assert workspace.query("SELECT count(*) FROM articles WHERE story_id IS NULL")[0][0] == 0
    # Sitemaps chosen by their lastmod: months whose newest story is older than --since unread.
    fetched = {path for path, _ in log}
    months = sorted(p.name for p in root.glob("sitemap-*.xml"))
    since_month = f"/sitemap-{SINCE:%Y-%m}.xml"
    assert since_month in fetched
    assert not [m for m in months if f"/{m}" < since_month and f"/{m}" in fetched]
    # The listing was followed past its max_pages, back to the window's start and no further.
    pages = [p for p in fetched if p.startswith("/news/page/")]
    assert 2 < len(pages) + 1 <= len(expected) // 10 + 6
    # The undated story was fetched (in a sitemap of the window) and not kept; the summary says so.
    assert ("/news/a-story-with-no-date/", 200) in log
    assert "undated" in result.stdout and "past" in result.stdout
    # No terminal: no live display, the progress as log lines ("... ended: 33 of 33 stories").
    assert "\x1b[" not in result.stderr
    assert f"backfill past ended: {len(expected) + 1} of {len(expected) + 1} stories (100%)" in result.stderr


def test_backfill_again_is_done_at_once(workspace, tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    with DemoSite(root, static=True) as site:
        build_site(root, site.base, count=40, undated=False)
        workspace.add_seed("past", seed(site.base))
        first = subprocess.run(
            backfill_args(workspace), capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert first.returncode == 0, first.stderr
        before = len(site.log)
        again = subprocess.run(
            backfill_args(workspace), capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert again.returncode == 0, again.stderr
        # Every page of the walk is done: nothing at all is asked of the site (robots.txt aside).
        assert [p for p, _ in site.log[before:] if p != "/robots.txt"] == []


class Gate:
    """Serves the first ``open_for`` story pages, then holds the others until let go; what it
    held while the client was killed is dropped unanswered (never served, so never logged)."""

    def __init__(self, site: DemoSite, open_for: int):
        self.site = site
        self.left: int | None = open_for
        self.dropping = False
        self.cond = threading.Condition()

    def route(self, handler: BaseHTTPRequestHandler) -> None:
        with self.cond:
            if self.left is not None and self.left > 0:
                self.left -= 1
            elif self.left is not None:
                self.cond.wait_for(lambda: self.left is None, timeout=120)
                if self.dropping:
                    handler.close_connection = True
                    return
        file = self.site.file_for(handler.path)
        assert file is not None
        handler.send(200, file.read_bytes(), {"Content-Type": "text/html; charset=utf-8"})  # type: ignore[attr-defined]

    def drop_held_and_open(self) -> None:
        with self.cond:
            self.dropping, self.left = True, None
            self.cond.notify_all()


def count_stored(db: Path) -> int:
    try:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0  # not created yet


@pytest.mark.parametrize("served_before_kill", [6])
def test_a_killed_backfill_resumes_without_fetching_a_story_twice(workspace, tmp_path, served_before_kill):
    root = tmp_path / "www"
    root.mkdir()
    site = DemoSite(root, static=True)
    stories = build_site(root, site.base, undated=False)
    gate = Gate(site, served_before_kill)
    site.routes.update({s.path: gate.route for s in stories})
    expected = in_window(stories)
    with site:
        workspace.add_seed("past", seed(site.base))
        process = subprocess.Popen(
            backfill_args(workspace), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path
        )
        deadline = time.monotonic() + 120
        while count_stored(workspace.db) < served_before_kill and time.monotonic() < deadline:
            assert process.poll() is None, "the backfill ended before it was killed"
            time.sleep(0.1)
        assert count_stored(workspace.db) == served_before_kill
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        gate.drop_held_and_open()
        done_pages = {
            r["url"].split(":", 2)[2].split("/", 1)[1]
            for r in workspace.query("SELECT url FROM backfill_pages")
        }
        assert done_pages  # at least the sitemap index, which lists no story
        before = len(site.log)

        result = subprocess.run(
            backfill_args(workspace), capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        log = list(site.log)
    assert {"/" + p for p in stored_paths(workspace)} == expected
    served = Counter(path for path, status in log if path in expected and status == 200)
    assert set(served) == expected and max(served.values()) == 1
    assert not [p for p, _ in log[before:] if p.lstrip("/") in done_pages]


def test_an_open_backfill_leaves_the_runs_their_stories_to_alert(workspace, tmp_path):
    """Without --until the window ends where the runs' max_age begins: a story of the last two
    days stored by the backfill would be known to the next run and never alerted."""
    root = tmp_path / "www"
    root.mkdir()
    with DemoSite(root, static=True) as site:
        stories = build_site(root, site.base, count=10, undated=False)
        workspace.add_seed("past", seed(site.base))  # max_age = "2d"
        since = (NOW - timedelta(days=20)).date()
        command = [*WIREWATCH, "backfill", "--config", str(workspace.config), "--source", "past"]
        result = subprocess.run(
            [*command, "--since", since.isoformat()],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        newest = stories[0].path  # published a day ago, flagged (a convoy attack)
        older = {s.path for s in stories if s.published and since <= s.published.date()} - {newest}
        assert {"/" + p for p in stored_paths(workspace)} == older
        assert workspace.query("SELECT count(*) FROM alerts")[0][0] == 0

        run = workspace.run()
        assert run.returncode == 0, run.stderr
        (row,) = workspace.query("SELECT a.id FROM articles a WHERE a.url LIKE ?", (f"%{newest}",))
        assert workspace.query("SELECT count(*) FROM alerts WHERE article_id = ?", (row["id"],))[0][0] > 0

        # A window wholly inside max_age has nothing for a backfill: a clear usage error.
        inside = subprocess.run(
            [*command, "--since", NOW.date().isoformat()],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert inside.returncode == 2 and "left to `wirewatch run`" in inside.stderr


def test_a_backfill_is_recorded_but_never_counts_for_health(workspace, tmp_path):
    """A backfill leaves its row in runs (kind backfill) and its source's counts in run_sources,
    so what it fetched and how it ended outlive its summary; but a source's health reads crawl
    runs only: an ok backfill neither ends a failing streak nor becomes the source's last run."""
    root = tmp_path / "www"
    root.mkdir()
    with DemoSite(root, static=True) as site:
        build_site(root, site.base, count=40, undated=False)
        # A feed that is gone: every run has an error; a backfill reads no feed.
        gone = f'feeds = ["{site.base}/feed-that-is-gone/"]\n'
        workspace.add_seed("past", seed(site.base).replace("sitemaps = ", gone + "sitemaps = "))
        for _ in range(3):
            assert workspace.run().returncode == 4
        failing = workspace.cli("status")
        assert failing.returncode == 7 and "FAILING: past failed its last 3 runs" in failing.stderr
        before = workspace.query("SELECT max(id) FROM runs")[0][0]

        result = subprocess.run(
            backfill_args(workspace), capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    (row,) = workspace.query("SELECT * FROM runs WHERE kind = 'backfill'")
    assert row["id"] == before + 1 and (row["status"], row["trigger"]) == ("ok", "cli")
    assert row["duration"] > 0 and row["finished_at"] >= row["started_at"]
    assert f"(run {row['id']} in runs, kind backfill)" in result.stdout
    (counts,) = workspace.query("SELECT * FROM run_sources WHERE run_id = ?", (row["id"],))
    stored = workspace.query("SELECT count(*) FROM articles WHERE fetched_at >= ?", (row["started_at"],))
    assert counts["source"] == "past" and counts["status"] == "ok" and counts["requests"] > 0
    assert counts["new_articles"] == stored[0][0] > 0

    after = workspace.cli("status")
    assert after.returncode == 7 and "FAILING: past failed its last 3 runs" in after.stderr
    assert f"last run: {before} (cli)" in after.stdout  # the last crawl run, not the backfill


def test_a_backfill_does_not_make_a_silent_source_look_alive(workspace, tmp_path):
    """A source's health reads the articles its runs stored: a backfill's, fetched minutes
    ago, say nothing of whether the source still publishes today."""
    root = tmp_path / "www"
    root.mkdir()
    with DemoSite(root, static=True) as site:
        stories = build_site(root, site.base, count=40, undated=False)
        workspace.add_seed("past", seed(site.base))
        hourly = [NOW - timedelta(hours=h) for h in range(100, 40, -1)]  # until 41 h ago
        runs_stored(workspace.db, "past", site.base, hourly)
        assert workspace.cli("status").returncode == 8
        result = subprocess.run(
            backfill_args(workspace), capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    backfilled = workspace.query("SELECT url FROM articles WHERE origin = 'backfill'")
    assert {r[0].removeprefix(site.base) for r in backfilled} == in_window(stories)
    after = workspace.cli("status")
    assert after.returncode == 8, after.stdout + after.stderr
    assert "ATTENTION: past is silent: nothing new for 41." in after.stderr
