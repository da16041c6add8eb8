"""Crawl performance on a generated WordPress-style site served on loopback.

    python bench/perf.py [--pages 10000] [--new 20] [--repeat 1] [--workers 0] [--no-fallback]
                         [--dir /tmp/wirewatch-perf]

1. Generates --pages article pages (100-250 KB each) with feeds, sitemaps and listings.
2. The limit: trafilatura's extraction alone, in this process, over the pages read from disk.
3. `wirewatch run` (politeness off) on a fresh database, again with nothing new, and again
   after --new stories appear. Per phase: wall and CPU time (the run and its worker
   processes), stories stored per second, CPU ms per story, requests by kind and status, and
   the peak memory of the run's process tree. With --repeat N the fresh run is made N times
   (a new database each time), each just after measuring the limit again; the ratios are
   the medians of each run's ratios to its own limit: runs on a shared machine vary.
4. The ratios the performance issue names: wirewatch CPU per story / extraction alone, and
   wall-clock stories per second / single-core extraction rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_site
import trafilatura

from crawler.config.wirewatch import load_config
from crawler.demo.server import DemoSite
from pipelines.core.records import Article
from pipelines.extract.page import _DATE_PARAMS, extract
from pipelines.stories import features
from pipelines.watch.watchlist import load_watchlists

DEFAULTS = load_config()  # the bundled watchlists and gazetteer


def kind(path: str) -> str:
    if path == "/robots.txt":
        return "robots"
    if path.startswith("/feed/"):
        return "feed"
    if path.endswith(".xml"):
        return "sitemap"
    if path.startswith("/news/"):
        return "listing"
    return "article"


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in family]
        family.update(children)
        frontier.extend(children)
    total = 0
    for member in family:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def trafilatura_alone(page: str, url: str, fast: bool = False) -> object:
    """The limit: trafilatura's extraction of one page with the metadata, all features on."""
    return trafilatura.bare_extraction(
        page,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=_DATE_PARAMS,
        fast=fast,
    )


def extraction_alone(
    files: list[Path], base: str, only: tuple[str, ...] = (), fast: bool = False
) -> dict[str, tuple[float, float]]:
    """CPU and wall seconds over the pages, in this process: trafilatura's extraction with the
    metadata (the limit the issue names), wirewatch's extraction step (pipelines.extract.page:
    trafilatura without the metadata it does not keep, language and hash), and the other
    stages of a worker on its stories: clustering features and the bundled watchlists. With
    ``fast``, both extractions skip trafilatura's readability/jusText comparison."""
    pages = [(f.read_text("utf-8"), f"{base}/{f.parent.parent.name}/{f.parent.name}/") for f in files]
    fetched = datetime.now(UTC)
    stories: list[Article] = []
    watchlists = load_watchlists(DEFAULTS.watchlist_paths, DEFAULTS.gazetteer, DEFAULTS.nlp_model)
    stages = {
        "trafilatura": lambda page, url: trafilatura_alone(page, url, fast),
        "wirewatch extract": lambda page, url: stories.append(
            extract(page, url, fetched_at=fetched, allowed_domains=("127.0.0.1",), fallback=not fast)
        ),
        "clustering features": lambda story, _: features(story.title, story.text),
        "watchlists": lambda story, _: [w.classify(story.title, story.text) for w in watchlists],
    }
    times = {}
    for name, stage in stages.items():
        if only and name not in only:
            continue
        inputs = pages if name in ("trafilatura", "wirewatch extract") else [(s, None) for s in stories]
        for item, url in inputs[:20]:  # warm: lazy imports and models load on first use
            stage(item, url)
        if name == "wirewatch extract":
            stories.clear()  # the warm-up's
        cpu, wall = time.process_time(), time.perf_counter()
        for item, url in inputs:
            stage(item, url)
        times[name] = (time.process_time() - cpu, time.perf_counter() - wall)
    return times


def run_phase(name: str, folder: Path, site: DemoSite) -> dict[str, object]:
    site.log.clear()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    serving = time.process_time()  # this process: the site's server (and the sampler below)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", "--config", str(folder / "perf.toml")],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak, main_cpu = 0, 0.0
    stop = threading.Event()
    ticks = os.sysconf("SC_CLK_TCK")

    def sample() -> None:
        nonlocal peak, main_cpu
        while not stop.wait(0.25):
            peak = max(peak, tree_rss_kb(process.pid))
            try:  # the crawling process alone (utime + stime), without its workers
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                main_cpu = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    server_cpu = time.process_time() - serving
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    db = sqlite3.connect(folder / "perf.db")
    new = db.execute("SELECT new_articles FROM run_sources ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    db.close()
    requests = Counter(f"{kind(path)} {status}" for path, status in site.log)
    if process.returncode != 0:
        print(f"  {name}: exit {process.returncode}\n{err[-2000:]}")
    return {
        "phase": name,
        "exit": process.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "crawler_cpu_s": round(main_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "stored": new,
        "stories_per_s": round(new / wall, 1) if new else 0.0,
        "cpu_ms_per_story": round(cpu * 1000 / new, 1) if new else None,
        "requests": dict(sorted(requests.items())),
        "peak_rss_mb": round(peak / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs to make (the median counts)")
    parser.add_argument("--workers", type=int, default=0, help="crawl.workers (0: one per core)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/wirewatch-perf"))
    parser.add_argument(
        "--no-fallback",
        action="store_true",
        help="the seed sets [extraction] fallback = false; the limit is then trafilatura with fast=True",
    )
    args = parser.parse_args()
    folder: Path = args.dir
    if folder.exists():
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    (folder / "seeds").mkdir(parents=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with DemoSite(root=folder / "site", static=True) as site:
        started = time.perf_counter()
        files = news_site.build(folder / "site", site.base, args.pages, datetime.now(UTC))
        sizes = [f.stat().st_size for f in files]
        print(
            f"site: {len(files)} article pages, {min(sizes) // 1024}-{max(sizes) // 1024} KB "
            f"(mean {sum(sizes) // len(sizes) // 1024} KB), generated in {time.perf_counter() - started:.0f} s"
        )
        seed = news_site.seed(site.base)
        (folder / "seeds" / "bench.toml").write_text(
            seed + "[extraction]\nfallback = false\n" if args.no_fallback else seed
        )
        (folder / "perf.toml").write_text(
            '[storage]\ndatabase = "perf.db"\n[sources]\npaths = ["seeds"]\n'
            f'[crawl]\npolite = false\nallow_private_addresses = true\ncontact = "bench"\nworkers = {args.workers}\n'
            '[alerts]\nroutes = []\n[log]\nlevel = "WARNING"\n'
        )
        limits = extraction_alone(files, site.base, fast=args.no_fallback)
        for name, (cpu, wall) in limits.items():
            print(
                f"{name} alone, one process: {cpu * 1000 / len(files):.2f} ms CPU per page ({len(files) / wall:.0f}/s)"
            )

        fresh_runs = []
        for i in range(args.repeat):
            # The limit is measured again just before each run: this machine's speed drifts by
            # 10-20% over minutes, and a ratio is only fair between neighbours.
            if i:
                limits = extraction_alone(files, site.base, only=("trafilatura",), fast=args.no_fallback)
            cpu, wall = limits["trafilatura"]
            for stale in folder.glob("perf.db*"):
                stale.unlink()
            run = run_phase(f"fresh database ({i + 1} of {args.repeat})", folder, site)
            run["limit_ms"] = round(cpu * 1000 / len(files), 2)
            run["limit_rate"] = round(len(files) / wall, 1)
            if run["cpu_ms_per_story"]:
                run["cpu_ratio"] = round(run["cpu_ms_per_story"] / run["limit_ms"], 2)  # type: ignore[operator]
                run["wall_ratio"] = round(run["stories_per_s"] / run["limit_rate"], 2)  # type: ignore[operator]
            fresh_runs.append(run)
        results = [*fresh_runs, run_phase("nothing new", folder, site)]
        news_site.build(folder / "site", site.base, args.pages + args.new, datetime.now(UTC))
        results.append(run_phase(f"{args.new} new stories", folder, site))

    for r in results:
        print(
            f"\n{r['phase']}: exit {r['exit']}, wall {r['wall_s']} s, CPU {r['cpu_s']} s "
            f"(crawling process {r['crawler_cpu_s']} s, the rest workers; the site's server {r['server_cpu_s']} s), stored {r['stored']}, "
            f"{r['stories_per_s']} stories/s, {r['cpu_ms_per_story']} CPU ms/story, peak RSS {r['peak_rss_mb']} MB"
        )
        print("  requests: " + ", ".join(f"{k}: {v}" for k, v in r["requests"].items()))  # type: ignore[attr-defined]
        if "cpu_ratio" in r:
            print(
                f"  trafilatura alone just before: {r['limit_ms']} ms CPU per page, {r['limit_rate']} pages/s; "
                f"CPU ratio {r['cpu_ratio']}, wall-clock ratio {r['wall_ratio']}"
            )
    rated = [r for r in fresh_runs if "cpu_ratio" in r]
    if rated:
        cpu_ratio = statistics.median(r["cpu_ratio"] for r in rated)  # type: ignore[misc]
        wall_ratio = statistics.median(r["wall_ratio"] for r in rated)  # type: ignore[misc]
        print(
            f"\nCPU per stored story / extraction alone, median of {len(rated)}: {cpu_ratio:.2f} (target <= 1.3)"
        )
        print(
            f"wall-clock stories/s / single-core extraction rate, median of {len(rated)}: {wall_ratio:.2f} (target >= 1.6)"
        )


if __name__ == "__main__":
    main()
