"""What `wirewatch status` and every run's health check read of `runs`, on a year of runs.

    python bench/health_queries.py [--runs 35040] [--sources 12] [--db /tmp/wirewatch-health.db]

A year of 15-minute runs of --sources sources (one run in 200 a backfill, of the first source
only), 5% of the source rows failed at random, one source failing the whole year and two for
their last 1,040 runs. Times (median of 5, after a warm-up) the store's failing_streaks,
last_runs and run_history, as `health.states` calls them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.store import Store


def build(db: Path, runs: int, sources: list[str]) -> None:
    store = Store(db)
    rng = random.Random(1)
    rows, per_source = [], []
    for i in range(1, runs + 1):
        kind = "backfill" if i % 200 == 0 else "run"
        rows.append((i, f"2026-01-01T00:00:{i:06d}", "ok", "cron", "[]", kind))
        for source in sources if kind == "run" else sources[:1]:
            bad = source == sources[5] or (source in sources[1:3] and i > runs - 1040) or rng.random() < 0.05
            per_source.append((i, source, "failed" if bad else "ok", rng.randint(0, 5)))
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO runs (id, started_at, status, trigger, sources, kind) VALUES (?,?,?,?,?,?)", rows
        )
        db.conn.executemany(
            "INSERT INTO run_sources (run_id, source, status, requests, pages_fetched, not_modified, "
            "new_articles, flagged, known_skipped, extraction_failures, errors) "
            "VALUES (?,?,?,10,10,0,?,0,0,0,'[]')",
            per_source,
        )
    store.close()


def median_ms(fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(5):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=35_040)
    parser.add_argument("--sources", type=int, default=12)
    parser.add_argument("--db", type=Path, default=Path("/tmp/wirewatch-health.db"))
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    sources = [f"source{i}" for i in range(max(args.sources, 6))]
    build(args.db, args.runs, sources)
    store = Store(args.db, readonly=True)
    streaks = store.failing_streaks()
    print(f"{args.runs:,} runs of {len(sources)} sources; failing streaks: {dict(sorted(streaks.items()))}")
    for name, fn in (
        ("failing_streaks", store.failing_streaks),
        ("last_runs", store.last_runs),
        ("run_history (60 runs, one source)", lambda: store.run_history(sources[3], 60)),
    ):
        print(f"  {name}: {median_ms(fn):.2f} ms")
    store.close()


if __name__ == "__main__":
    main()
