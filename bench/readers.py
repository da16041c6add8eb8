"""Readers while writers work: how long `flagged` and `search` answer during a crawl and a recluster.

    python bench/readers.py [--articles 100000] [--pages 1000] [--writer-pages 20] [--runs 10]
                            [--word said] [--work /tmp/wirewatch-readers] [--rebuild]
    python bench/readers.py --articles 5000 --pages 100      # a quick check

Every command runs as a user runs it (`python -m crawler ... --config F --db F`) and is timed
from start to exit. The read commands: `flagged --since 7d`, `flagged` over all time, `search
WORD` and `search WORD --order relevance` (--word: by default a word in most articles).

0. History: a database of --articles articles (bench/cluster_corpus.py: wire copy, reprints
   and other outlets' versions of events, about 280 a day up to now), flagged by the bundled
   watchlists (`wirewatch rescore`) and grouped into stories (`wirewatch recluster`). Built
   once and kept in --work (rebuilt after a week: `flagged --since 7d` needs recent
   articles); each phase below starts from a fresh copy of it.
1. Idle: each read command --runs times, nothing else running; then a `wirewatch run` of a
   generated site of --writer-pages new pages, alone.
2. Crawl: `wirewatch run` of a generated WordPress-style site (bench/news_site.py) of --pages
   new pages, politeness off, on loopback; meanwhile the read commands one after another,
   without pause, until it ends.
3. Recluster: `wirewatch recluster` of the history; meanwhile the read commands in a loop
   until it ends, and the small run of phase 1 (other pages) started WRITER_AFTER s into it.

Prints per read command its idle median and max, its slowest answer during the crawl and
during the recluster, and how far the slowest is above the idle median (target: at most
TARGET s); then the writers' times and the machine. Exits 1 when a read command failed (a
non-zero exit, or no answer in READ_TIMEOUT s). Every answer is kept in --work/readers.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_site
from cluster_corpus import generate
from tabulate import tabulate

from crawler.demo.server import DemoSite

TARGET = 1.0  # seconds a read may take above its idle median while writers work
READ_TIMEOUT = 300.0  # seconds; a read that takes longer is stopped and counts as failed
WRITER_AFTER = 5.0  # seconds into the recluster when the small run starts
REBUILD_AFTER = timedelta(days=7)
CONFIG = (
    '[sources]\npaths = ["seeds"]\n'
    '[crawl]\npolite = false\nallow_private_addresses = true\ncontact = "bench"\n'
    '[alerts]\nroutes = []\n[log]\nlevel = "WARNING"\n'
)


@dataclass
class Answer:
    phase: str
    command: str
    at: float  # seconds into the phase
    wall: float
    exit: int
    error: str = ""


def wirewatch(args: list[str], config: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "crawler", *args, "--config", str(config), "--db", str(db)]


def reads(word: str) -> dict[str, list[str]]:
    return {
        "flagged --since 7d": ["flagged", "--since", "7d"],
        "flagged (all time)": ["flagged", "--since", ""],
        f"search {word}": ["search", word],
        f"search {word} --order relevance": ["search", word, "--order", "relevance"],
    }


def ask(phase: str, name: str, args: list[str], config: Path, db: Path, began: float) -> Answer:
    """One read command, timed from start to exit."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            wirewatch(args, config, db), capture_output=True, text=True, timeout=READ_TIMEOUT
        )
        code, error = done.returncode, done.stderr.strip()[-1000:] if done.returncode else ""
    except subprocess.TimeoutExpired:
        code, error = -1, f"no answer in {READ_TIMEOUT:.0f} s"
    wall = time.perf_counter() - started
    return Answer(phase, name, round(started - began, 2), round(wall, 3), code, error)


class Background:
    """A wirewatch command running while others are timed, itself timed from start to exit."""

    def __init__(self, args: list[str], config: Path, db: Path):
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            wirewatch(args, config, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.wall: float | None = None
        self.output = ""
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _wait(self) -> None:
        out, err = self.process.communicate()  # drained as it comes: a full pipe would stall it
        self.output = (out + err).strip()
        self.wall = time.perf_counter() - self.started

    @property
    def running(self) -> bool:
        return self.wall is None

    def join(self) -> dict[str, object]:
        self._waiter.join()
        return {"exit": self.process.returncode, "wall_s": round(self.wall or 0.0, 2), "output": self.output}


def reads_while(
    writer: Background, phase: str, commands: dict[str, list[str]], config: Path, db: Path
) -> list[Answer]:
    """The read commands one after another, without pause, until the writer exits."""
    answers: list[Answer] = []
    while writer.running:
        for name, args in commands.items():
            if not writer.running:
                break
            answers.append(ask(phase, name, args, config, db, writer.started))
    return answers


def finish(args: list[str], config: Path, db: Path) -> tuple[float, str]:
    """A wirewatch command run to its end: wall seconds and output; the bench stops if it fails."""
    started = time.perf_counter()
    done = subprocess.run(wirewatch(args, config, db), capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"wirewatch {' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout.strip()


def history(work: Path, count: int, config: Path, rebuild: bool) -> tuple[Path, dict[str, object]]:
    """The kept database of ``count`` articles, built when missing, a week old or ``rebuild``."""
    path, meta_path = work / f"history-{count}.db", work / f"history-{count}.json"
    if not rebuild and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        built = datetime.fromisoformat(meta["built_at"])
        if datetime.now(UTC) - built < REBUILD_AFTER:
            print(f"history: {path}, {count} articles, built {built:%Y-%m-%d %H:%M} UTC")
            # Built by older code, it may lack a migration: a writer that changes nothing applies it.
            finish(["rescore", "--since", "1s"], config, path)
            return path, meta
    building = work / "building.db"
    for stale in work.glob("building.db*"):
        stale.unlink()
    print(f"history: building {count} articles into {path} (once; kept for a week)")
    finish(["recluster"], config, building)  # the schema, by the real migrations
    started = time.perf_counter()
    articles = generate(40, count // 280 + 2)[:count]  # 40 events a day, 7 articles each
    shift = datetime.now(UTC) - timedelta(minutes=30) - articles[-1].published
    rows = []
    for n, a in enumerate(articles):
        at = (a.published + shift).replace(microsecond=0).isoformat()
        digest = hashlib.sha256(a.text.encode()).hexdigest()
        rows.append(
            (f"https://{a.source}.example/{n}/", a.source, a.title, at, "page", at, "en", a.text, digest)
        )
    with closing(sqlite3.connect(building, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO articles (url, source, title, published_at, date_source, fetched_at, language, "
            "text, content_hash) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.execute("COMMIT")
    meta = {"built_at": datetime.now(UTC).isoformat(), "articles": count}
    meta["insert_s"] = round(time.perf_counter() - started, 1)
    wall, out = finish(["rescore"], config, building)
    meta["rescore_s"] = round(wall, 1)
    print(f"  rescore: {out} ({wall:.0f} s)")
    wall, out = finish(["recluster"], config, building)
    meta["recluster_s"] = round(wall, 1)
    print(f"  recluster: {out}")
    with closing(sqlite3.connect(building)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file to copy
        meta["flags"] = conn.execute("SELECT count(*) FROM flags").fetchone()[0]
        meta["stories"] = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    building.rename(path)
    meta_path.write_text(json.dumps(meta))
    return path, meta


def fresh_copy(history_db: Path, db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(history_db, db)


def stored(db: Path) -> int:
    """Articles the last run stored."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT sum(new_articles) FROM run_sources WHERE run_id = (SELECT max(id) FROM runs)"
        ).fetchone()
    return row[0] or 0


def site(server: DemoSite, pages: int) -> Path:
    """A generated site of ``pages`` new pages in the server's root, and a config to crawl it."""
    folder = server.root.parent
    news_site.build(server.root, server.base, pages, datetime.now(UTC))
    (folder / "seeds").mkdir()
    (folder / "seeds" / "bench.toml").write_text(news_site.seed(server.base))
    (folder / "wirewatch.toml").write_text(CONFIG)
    return folder / "wirewatch.toml"


def seconds(values: list[float]) -> str:
    return f"{max(values):.2f} ({len(values)})" if values else "-"


def report(answers: list[Answer], commands: dict[str, list[str]]) -> None:
    rows = []
    for name in commands:
        walls = {
            phase: [a.wall for a in answers if a.command == name and a.phase == phase]
            for phase in ("idle", "crawl", "recluster")
        }
        median = statistics.median(walls["idle"])
        loaded = walls["crawl"] + walls["recluster"]
        above = max(loaded) - median if loaded else None
        rows.append(
            [
                name,
                f"{median:.2f}",
                f"{max(walls['idle']):.2f}",
                seconds(walls["crawl"]),
                seconds(walls["recluster"]),
                "-" if above is None else f"{above:+.2f} {'PASS' if above <= TARGET else 'FAIL'}",
            ]
        )
    headers = [
        "command",
        "idle median",
        "idle max",
        "crawl max (n)",
        "recluster max (n)",
        "slowest above idle",
    ]
    print(tabulate(rows, headers=headers, disable_numparse=True))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000, help="articles in the history database")
    parser.add_argument("--pages", type=int, default=1000, help="new pages the crawl stores")
    parser.add_argument("--writer-pages", type=int, default=20, help="new pages of the small run")
    parser.add_argument("--runs", type=int, default=10, help="idle answers per read command")
    parser.add_argument("--word", default="said", help="the word searched for")
    parser.add_argument("--work", type=Path, default=Path("/tmp/wirewatch-readers"))
    parser.add_argument("--rebuild", action="store_true", help="build the history database again")
    args = parser.parse_args()
    work: Path = args.work
    for name in ("crawl", "writer"):
        shutil.rmtree(work / name, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    load_before = os.getloadavg()
    commands = reads(args.word)
    db = work / "bench.db"
    writers: dict[str, dict[str, object]] = {}
    answers: list[Answer] = []
    with (
        DemoSite(root=work / "crawl" / "site", static=True) as crawl_site,
        DemoSite(root=work / "writer" / "site", static=True) as writer_site,
    ):
        config, small_config = site(crawl_site, args.pages), site(writer_site, args.writer_pages)
        history_db, built = history(work, args.articles, config, args.rebuild)

        print(f"idle: each read {args.runs} times, then a run of {args.writer_pages} new pages alone")
        fresh_copy(history_db, db)
        began = time.perf_counter()
        for _ in range(args.runs):
            answers += [ask("idle", name, cmd, config, db, began) for name, cmd in commands.items()]
        writers["small run alone"] = Background(["run"], small_config, db).join() | {"stored": stored(db)}

        print(f"crawl: a run of {args.pages} new pages, reads in a loop meanwhile")
        fresh_copy(history_db, db)
        crawl = Background(["run"], config, db)
        answers += reads_while(crawl, "crawl", commands, config, db)
        writers["crawl"] = crawl.join() | {"stored": stored(db)}

        print(
            f"recluster: {args.articles} articles, reads in a loop meanwhile, the small run after {WRITER_AFTER:.0f} s"
        )
        fresh_copy(history_db, db)
        recluster = Background(["recluster"], config, db)
        small: list[Background] = []

        def start_small() -> None:
            if recluster.running:
                small.append(Background(["run"], small_config, db))

        timer = threading.Timer(WRITER_AFTER, start_small)
        timer.start()
        answers += reads_while(recluster, "recluster", commands, config, db)
        timer.cancel()
        timer.join()
        writers["recluster"] = recluster.join()
        if small:
            writers["small run during the recluster"] = small[0].join() | {"stored": stored(db)}

    print(f"\nmachine: {machine}; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(
        f"history: {built['articles']} articles, {built.get('stories')} stories, {built.get('flags')} flags; "
        f"recluster alone when built: {built['recluster_s']:.0f} s"
    )
    print(f"seconds per answer; target: the slowest at most {TARGET:.1f} s above the idle median\n")
    report(answers, commands)
    print()
    for name, w in writers.items():
        line = f"{name}: exit {w['exit']}, {w['wall_s']} s"
        if name == "small run during the recluster":
            line += f" ({w['wall_s'] - writers['small run alone']['wall_s']:+.2f} s on its time alone)"  # type: ignore[operator]
        if "stored" in w:
            line += f", stored {w['stored']}"
        print(line + (f": {str(w['output']).splitlines()[-1]}" if w["exit"] and w["output"] else ""))
    if "small run during the recluster" not in writers:
        print(f"small run: not started (the recluster ended within {WRITER_AFTER:.0f} s)")
    failed = [a for a in answers if a.exit]
    for a in failed:
        last = a.error.splitlines()[-1] if a.error else ""
        print(
            f"FAILED during {a.phase} at {a.at:.1f} s: {a.command}: exit {a.exit} after {a.wall:.1f} s: {last}"
        )
    (work / "readers.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "history": built,
                "writers": {k: {x: y for x, y in w.items() if x != "output"} for k, w in writers.items()},
                "answers": [asdict(a) for a in answers],
            },
            indent=1,
        )
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
