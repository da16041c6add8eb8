"""What browser mode costs: the same article pages fetched plainly and with headless Chromium.

    python bench/browser_bench.py [--pages 200] [--repeat 2] [--delay 0] [--dir /tmp/wirewatch-browser]

A generated WordPress-style site (bench/news_site.py: feeds, sitemaps, listings, --pages
article pages of 100-250 KB) is served on loopback. `wirewatch run` crawls it into a fresh
database once with the seed as it is (plain) and once with `fetch = "browser"`, alternately,
--repeat times each. Per run: wall time, CPU of the whole process tree (the crawl, its workers,
the Playwright driver and every Chromium process: getrusage(RUSAGE_CHILDREN) of this process,
which counts descendants once they are reaped), peak resident memory of the tree (sampled from
/proc every 0.25 s, Chromium's processes included), and the same per stored article.
Politeness is off (--delay 0) so the numbers are the fetching's own, not the waiting's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_site
from perf import run_phase

TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in family]
        family += children
        frontier += children
    return family


def sample(pid: int, cpu: dict[int, float]) -> tuple[int, int]:
    """Updates each process's CPU seconds in ``cpu``; returns the tree's (RSS, PSS) in kB. PSS
    shares each page among the processes that map it: Chromium's dozen processes share most."""
    rss = pss = 0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[member] = (int(fields[11]) + int(fields[12])) / TICKS
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


from crawler.demo.server import DemoSite
from crawler.fetch.browser import chromium_path


def measured(name: str, folder: Path, site: DemoSite) -> dict[str, object]:
    """perf.run_phase, with the tree's CPU and memory sampled here: Chromium's processes are
    children of Playwright's driver, and not all of them reach getrusage(RUSAGE_CHILDREN)."""
    cpu: dict[int, float] = {}
    peaks = [0, 0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.2):
            for pid in tree(os.getpid())[1:2]:  # the run (the sampler and server are threads)
                rss, pss = sample(pid, cpu)
                peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)

    sampler = threading.Thread(target=watch, daemon=True)
    sampler.start()
    started = time.perf_counter()
    run = run_phase(name, folder, site)
    stop.set()
    sampler.join()
    run["wall_s"] = round(time.perf_counter() - started, 2)
    run["reaped_cpu_s"] = run["cpu_s"]
    # The last sample of each process misses at most 0.2 s of its CPU; reaped time is exact.
    run["cpu_s"] = round(max(sum(cpu.values()), float(run["cpu_s"])), 2)  # type: ignore[arg-type]
    run["peak_rss_mb"], run["peak_pss_mb"] = round(peaks[0] / 1024), round(peaks[1] / 1024)
    run["processes"] = len(cpu)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2, help="runs per mode (the median counts)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/wirewatch-browser"))
    args = parser.parse_args()
    folder: Path = args.dir
    if folder.exists():
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    (folder / "seeds").mkdir(parents=True)
    chromium = chromium_path("")
    version = (
        subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
        if chromium
        else "none"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {version}, load {os.getloadavg()[0]:.1f}"
    )
    with DemoSite(root=folder / "site", static=True) as site:
        files = news_site.build(folder / "site", site.base, args.pages, datetime.now(UTC))
        sizes = [f.stat().st_size for f in files]
        print(f"site: {len(files)} article pages, mean {sum(sizes) // len(sizes) // 1024} KB")
        (folder / "perf.toml").write_text(
            '[storage]\ndatabase = "perf.db"\n[sources]\npaths = ["seeds"]\n'
            '[crawl]\npolite = false\nallow_private_addresses = true\ncontact = "bench"\nworkers = 1\n'
            "download_timeout = 60\n"
            '[alerts]\nroutes = []\n[log]\nlevel = "WARNING"\n'
        )
        seed = news_site.seed(site.base)
        results: dict[str, list[dict[str, object]]] = {"plain": [], "browser": []}
        for i in range(args.repeat):
            for mode in results:
                text = (
                    seed
                    if mode == "plain"
                    else seed.replace('max_age = "3d"\n', 'max_age = "3d"\nfetch = "browser"\n')
                )
                (folder / "seeds" / "bench.toml").write_text(text)
                for stale in folder.glob("perf.db*"):
                    stale.unlink()
                run = measured(f"{mode} {i + 1}", folder, site)
                results[mode].append(run)
                print(
                    f"{mode} run {i + 1}: exit {run['exit']}, stored {run['stored']}, wall {run['wall_s']} s, "
                    f"CPU {run['cpu_s']} s (crawling process {run['crawler_cpu_s']} s; reaped children "
                    f"{run['reaped_cpu_s']} s), peak PSS {run['peak_pss_mb']} MB (RSS summed {run['peak_rss_mb']} MB), "
                    f"{run['processes']} processes; requests {sum(run['requests'].values())}"  # type: ignore[attr-defined]
                )

    print("\nmedians per stored article:")
    summary = {}
    for mode, runs in results.items():
        stored = [int(r["stored"]) or 1 for r in runs]  # type: ignore[call-overload]
        summary[mode] = {
            "cpu_ms": statistics.median(
                float(r["cpu_s"]) * 1000 / n for r, n in zip(runs, stored, strict=True)
            ),  # type: ignore[arg-type]
            "wall_ms": statistics.median(
                float(r["wall_s"]) * 1000 / n for r, n in zip(runs, stored, strict=True)
            ),  # type: ignore[arg-type]
            "peak_mb": statistics.median(int(r["peak_pss_mb"]) for r in runs),  # type: ignore[call-overload]
            "stored": statistics.median(stored),
        }
        s = summary[mode]
        print(
            f"  {mode:8} {s['stored']:.0f} articles: {s['cpu_ms']:.0f} ms CPU, {s['wall_ms']:.0f} ms wall per article; "
            f"peak memory (PSS) of the run {s['peak_mb']:.0f} MB"
        )
    p, b = summary["plain"], summary["browser"]
    print(
        f"  browser / plain: CPU x{b['cpu_ms'] / p['cpu_ms']:.1f}, wall x{b['wall_ms'] / p['wall_ms']:.1f}, "
        f"peak memory +{b['peak_mb'] - p['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
