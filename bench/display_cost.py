"""What the run's live display costs: `wirewatch run` on a generated site with standard error on
a pseudo-terminal (display on) and to a file (off), alternated, CPU and wall time of each; and
the CPU of one redraw.

    python bench/display_cost.py [STORIES] [PAIRS]
"""

from __future__ import annotations

import io
import os
import pty
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_site

from crawler.demo.server import DemoSite

WIREWATCH = [sys.executable, "-m", "crawler"]


def one_run(folder: Path, seed: str, terminal: bool) -> tuple[float, float]:
    """CPU seconds (the run and its workers) and wall seconds of one run on a fresh database."""
    work = Path(tempfile.mkdtemp(dir=folder))
    (work / "seeds").mkdir()
    (work / "seeds/bench.toml").write_text(seed.replace('max_age = "3d"', 'max_age = "30d"'))
    (work / "w.toml").write_text(
        '[storage]\ndatabase = "b.db"\n[sources]\npaths = ["seeds"]\n[crawl]\npolite = false\n'
        'allow_private_addresses = true\ncontact = "bench"\n[log]\nlevel = "WARNING"\n'
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    command = [*WIREWATCH, "run", "--config", str(work / "w.toml")]
    if terminal:
        master, slave = pty.openpty()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=slave, cwd=work, env=env)
        os.close(slave)
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        os.close(master)
        process.wait()
    else:
        with (work / "stderr.log").open("w") as log:
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=log, cwd=work, env=env, check=False)
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def redraw_cost(rounds: int = 400) -> float:
    """Milliseconds of CPU for one redraw of a 13-source display (a crawl's crawlers stubbed)."""
    from types import SimpleNamespace

    from rich.console import Console

    from crawler.runtime.display import CrawlDisplay

    stats = {"downloader/request_count": 1234, "wirewatch/store/new": 56, "wirewatch/errors": ["x"]}
    crawler = SimpleNamespace(
        stats=SimpleNamespace(get_stats=lambda: stats), engine=None, crawling=False, spider=None
    )
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    display = CrawlDisplay([(f"source{i}", crawler) for i in range(13)], live=True, console=console)  # type: ignore[misc]
    display._live.start()  # type: ignore[union-attr]
    began = time.process_time()
    for _ in range(rounds):
        display.refresh()
    cost = (time.process_time() - began) / rounds * 1000
    display._live.stop()  # type: ignore[union-attr]
    return cost


def main() -> None:
    stories = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    folder = Path(tempfile.mkdtemp(prefix="wirewatch-display-"))
    root = folder / "site"
    with DemoSite(root, static=True) as site:
        news_site.build(root, site.base, stories)
        seed = news_site.seed(site.base)
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(pairs):
            for terminal in (False, True):
                runs[terminal].append(one_run(folder, seed, terminal))
    for terminal, label in (
        (False, "stderr to a file (no display)"),
        (True, "stderr on a terminal (display)"),
    ):
        cpu = [c for c, _ in runs[terminal]]
        wall = [w for _, w in runs[terminal]]
        print(
            f"{label:34} CPU {min(cpu):6.1f} s (runs: {', '.join(f'{c:.1f}' for c in cpu)}), "
            f"wall {min(wall):6.1f} s (runs: {', '.join(f'{w:.1f}' for w in wall)})"
        )
    print(
        f"one redraw of 13 sources: {redraw_cost():.2f} ms CPU; at 4 a second, "
        f"{redraw_cost() * 4 / 10:.2f}% of a core"
    )


if __name__ == "__main__":
    main()
