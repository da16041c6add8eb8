"""Queries on a large database: `search` and `flagged` at a million stored stories.

    python bench/big_db.py [--articles 1000000] [--db /tmp/wirewatch-big.db]

Generates the articles straight into a wirewatch database (schema by the real migrations,
FTS kept by the real triggers; about 600 characters of text each, one in a hundred flagged,
a story per article), then times `Store.search` and `Store.flagged` as the CLI calls them
(median of 5 runs each, after one warm-up), and the resident memory of a process that opens
the database and checks a URL as a crawl does, to show nothing loads every known URL.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from news_site import WORDS

from pipelines.store import Store

PLACES = ["Gwadar", "Karachi", "Quetta", "Dasu", "Lahore", "Peshawar", "Islamabad", "Besham", "Multan"]


def generate(path: Path, count: int) -> None:
    store = Store(path)
    store.db.conn.execute("PRAGMA foreign_keys=OFF")  # stories and articles point at each other
    rng = random.Random(1)
    now = datetime.now(UTC)
    batch = 20_000
    started = time.perf_counter()
    for first in range(0, count, batch):
        with store.write() as db:
            rows, flags, stories = [], [], []
            for i in range(first, min(first + batch, count)):
                published = (
                    (now - timedelta(minutes=i * 525_600 * 3 / count)).replace(microsecond=0).isoformat()
                )
                title = " ".join(rng.choices(WORDS, k=8)).capitalize() + f" in {rng.choice(PLACES)}"
                text = " ".join(rng.choices(WORDS, k=90)) + (
                    "." if i % 100 else " Chinese engineers attacked."
                )
                rows.append(
                    (
                        i + 1,
                        f"https://news.example/{i}/",
                        "bench",
                        title,
                        published,
                        "page",
                        published,
                        "en",
                        text,
                        f"{i:064x}",
                        i + 1,
                    )
                )
                stories.append((i + 1, title, i + 1, published, published, '["bench"]', 1))
                if i % 100 == 0:
                    flags.append((i + 1, "cpec-security", 9.0, "core", "incident", "[]", published))
            db.conn.executemany(
                "INSERT INTO stories (id, title, first_article_id, first_published, last_published, outlets, "
                "article_count) VALUES (?,?,?,?,?,?,?)",
                stories,
            )
            db.conn.executemany(
                "INSERT INTO articles (id, url, source, title, published_at, date_source, fetched_at, language, "
                "text, content_hash, story_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            db.conn.executemany(
                "INSERT INTO flags (article_id, watchlist, score, tier, type, reasons, flagged_at) "
                "VALUES (?,?,?,?,?,?,?)",
                flags,
            )
        done = min(first + batch, count)
        print(f"\r  {done} articles, {time.perf_counter() - started:.0f} s", end="", flush=True)
    print()
    store.close()


def timed(fn, runs: int = 5) -> float:
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/wirewatch-big.db"))
    parser.add_argument("--reuse", action="store_true", help="keep an existing database of that size")
    args = parser.parse_args()
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        generate(args.db, args.articles)
    store = Store(args.db)
    count = store.db.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = args.db.stat().st_size / 2**20
    print(f"{count} articles, {size:.0f} MB")
    week = datetime.now(UTC) - timedelta(days=7)
    cases = {
        "flagged --since 7d": lambda: store.flagged(week, None),
        "flagged --since 7d --watchlist cpec-security": lambda: store.flagged(week, "cpec-security"),
        "flagged (all time, 500 newest)": lambda: store.flagged(None, None),
        "search Gwadar": lambda: store.search("Gwadar"),
        "search '\"Chinese engineers\" AND attacked'": lambda: store.search(
            '"Chinese engineers" AND attacked'
        ),
        "search security (a word in most stories)": lambda: store.search("security"),
        "search security --order relevance": lambda: store.search("security", order="relevance"),
        "search Gwadar --order relevance": lambda: store.search("Gwadar", order="relevance"),
        "is_known (a crawl's check per link)": lambda: store.is_known("https://news.example/123456/"),
    }
    for name, fn in cases.items():
        print(f"  {name}: {timed(fn):.1f} ms")
    store.close()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS of this process after opening it and running the queries: {before / 1024:.0f} MB")
    print(json.dumps({"articles": count}))


if __name__ == "__main__":
    main()
