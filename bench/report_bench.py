"""The weekly brief and `wirewatch serve`'s canned queries on a large database.

    python bench/big_db.py --articles 1000000 --db /tmp/wirewatch-big.db   # first, once
    python bench/report_bench.py [--db /tmp/wirewatch-big.db] [--runs 5]

Times `pipelines.report.build` for the last 7 days as `wirewatch report` calls it (median and
slowest of --runs, in this process: the command adds about 0.4 s of start-up), then starts a
real `wirewatch serve` on the database and times each canned query as a browser asks for it
(`.json`, over HTTP on loopback, median and slowest of --runs after one warm-up). Targets: the
brief under 5 s, every canned query under 200 ms.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.report import Period, build
from pipelines.store import Store
from pipelines.store.datasette import QUERIES
from pipelines.watch.entities import load_gazetteer

ROOT = Path(__file__).resolve().parent.parent
BRIEF_TARGET, QUERY_TARGET = 5.0, 0.2


def timings(call, runs: int) -> tuple[float, float]:
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/wirewatch-big.db"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"no database at {args.db}: python bench/big_db.py --db {args.db}")
    store = Store(args.db, readonly=True)
    (articles,) = store.db.execute("SELECT count(*) FROM articles").fetchone()
    now = datetime.now(UTC)
    period = Period(now - timedelta(days=7), now)
    gazetteer = load_gazetteer(ROOT / "config" / "gazetteer.toml")
    zone = ZoneInfo("Asia/Karachi")
    page = build(store, period, zone, None, gazetteer)
    median, slowest = timings(lambda: build(store, period, zone, None, gazetteer), args.runs)
    story = store.db.execute("SELECT story_id FROM articles ORDER BY id DESC LIMIT 1").fetchone()[0]
    store.close()
    print(f"database: {args.db}, {articles:,} articles, {args.db.stat().st_size / 1e6:,.0f} MB")
    verdict = "PASS" if slowest < BRIEF_TARGET else "FAIL"
    print(
        f"brief of the last 7 days: median {median:.2f} s, slowest {slowest:.2f} s ({len(page):,} bytes) {verdict}"
    )

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", str(args.db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/{args.db.stem}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("serve did not start")
                time.sleep(0.2)
        params = {"story": f"story_id={story}", "search": "query=Gwadar"}
        worst = 0.0
        for name in QUERIES:
            url = f"{base}/{name}.json?_shape=array&{params.get(name, '')}"
            median, slowest = timings(
                lambda url=url: urllib.request.urlopen(url, timeout=60).read(), args.runs
            )
            worst = max(worst, slowest)
            print(f"  {name:18} median {median * 1000:6.1f} ms, slowest {slowest * 1000:6.1f} ms")
        print(f"canned queries: slowest {worst * 1000:.1f} ms {'PASS' if worst < QUERY_TARGET else 'FAIL'}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
