"""Soak: `wirewatch daemon` for a few hundred short runs against the demo site; its memory.

    python bench/daemon_soak.py [--runs 300] [--interval 1s]

Serves crawler/demo/site/ on loopback, starts the real daemon on a fresh database with
`default = "every 1s"`, waits until it has finished --runs runs, stops it with SIGTERM, and
prints the daemon's resident memory (VmRSS, Linux /proc) before its first run, after its first
run and after its last, with the run statuses. The crawls run in child processes, so the
daemon's own memory should stay flat.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from crawler.demo.server import DemoSite, demo_seed_text


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def finished_runs(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="stop after this many finished runs")
    parser.add_argument("--interval", default="1s", help="the schedule: every INTERVAL")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="wirewatch-soak-"))
    (folder / "seeds").mkdir()
    config = folder / "wirewatch.toml"
    config.write_text(
        '[storage]\ndatabase = "soak.db"\n[sources]\npaths = ["seeds"]\n'
        '[crawl]\npolite = false\nallow_private_addresses = true\ncontact = "soak"\n'
        f'[schedule]\ndefault = "every {args.interval}"\nmisfire_grace = "10s"\n'
    )
    db, log = folder / "soak.db", folder / "daemon.log"
    with DemoSite() as site:
        (folder / "seeds" / "demo.toml").write_text(demo_seed_text(site.base))
        started = time.monotonic()
        daemon = subprocess.Popen(
            [sys.executable, "-m", "crawler", "daemon", "--config", str(config), "--log-file", str(log)]
        )
        try:
            while "scheduled crawl demo" not in (log.read_text() if log.exists() else ""):
                time.sleep(0.1)
            before_first = rss_kib(daemon.pid)
            while finished_runs(db) < 1:
                time.sleep(0.2)
            after_first = rss_kib(daemon.pid)
            peak, done, last_report = after_first, 1, time.monotonic()
            while done < args.runs:
                time.sleep(0.5)
                done = finished_runs(db)
                peak = max(peak, rss_kib(daemon.pid))
                if time.monotonic() - last_report > 30:
                    print(f"  {done} runs, daemon RSS {rss_kib(daemon.pid)} KiB", flush=True)
                    last_report = time.monotonic()
            after_last = rss_kib(daemon.pid)
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(60)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    elapsed = time.monotonic() - started
    conn = sqlite3.connect(db)
    statuses = Counter(row[0] for row in conn.execute("SELECT status FROM runs"))
    pids = conn.execute("SELECT count(DISTINCT pid) FROM runs").fetchone()[0]
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    skipped = log.read_text().count("maximum number of running instances reached")
    print(f"daemon: every {args.interval}, {elapsed:.0f} s, exit {code}; database and log in {folder}")
    print(f"runs finished: {done} ({dict(statuses)}), child processes: {pids}, stories stored: {articles}")
    print(f"slots skipped because the previous run was still going: {skipped}")
    print(
        f"daemon RSS: {before_first} KiB before the first run, {after_first} KiB after it, "
        f"{after_last} KiB after run {done} (peak {peak} KiB)"
    )


if __name__ == "__main__":
    main()
