"""Two `wirewatch run`s against the bundled demo site: what each run requested and stored.

    python bench/fixture_runs.py

Serves crawler/demo/site/ on loopback, runs the real CLI twice on a fresh database (politeness
off, loopback allowed), and prints the requests the site saw per run, by kind and status,
with the stories stored and flagged.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from crawler.demo.server import DemoSite, demo_seed_text


def kind(path: str) -> str:
    if path == "/robots.txt":
        return "robots"
    if "/feed/" in path:
        return "feed"
    if path.endswith(".xml"):
        return "sitemap"
    if path in ("/national/", "/business/") or "/page/" in path:
        return "listing"
    return "article"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="wirewatch-bench-"))
    (folder / "seeds").mkdir()
    config = folder / "wirewatch.toml"
    config.write_text(
        '[storage]\ndatabase = "bench.db"\n[sources]\npaths = ["seeds"]\n'
        '[crawl]\npolite = false\nallow_private_addresses = true\ncontact = "bench"\n'
    )
    with DemoSite() as site:
        (folder / "seeds" / "demo.toml").write_text(demo_seed_text(site.base))
        for run in (1, 2):
            site.log.clear()
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "crawler", "run", "--config", str(config)],
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
            counts = Counter((kind(path), status) for path, status in site.log)
            db = sqlite3.connect(folder / "bench.db")
            row = db.execute(
                "SELECT new_articles, flagged, not_modified, known_skipped FROM run_sources "
                "ORDER BY run_id DESC LIMIT 1"
            ).fetchone()
            total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            db.close()
            print(f"run {run}: exit {result.returncode}, {len(site.log)} requests, {elapsed:.1f} s wall")
            for (k, status), n in sorted(counts.items()):
                print(f"  {k:8} {status}: {n}")
            print(
                f"  stored {row[0]} new ({total} in total), flagged {row[1]}, "
                f"304s {row[2]}, known links skipped {row[3]}"
            )


if __name__ == "__main__":
    main()
