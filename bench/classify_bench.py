"""Watchlist speed: stories per second with and without the NER stage, and peak memory.

    python bench/classify_bench.py [--stories 10000] [--model auto|none|NAME]

Classifies the labelled dev set (../shared/eval/cpec-dev.jsonl, or tests/fixtures/labelled.jsonl
when that is absent) repeated to --stories, with the bundled cpec-security watchlist, in three
modes, each in a fresh process so peak memory (max RSS) is its own:
  full      prefilter, terms and spaCy entities (gazetteer, plus NER when a model is installed)
  no-ner    prefilter and terms only: entity conditions never match
  ordinary  full mode on ordinary wire news (sport, weather, markets) that the prefilter drops
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "cpec-dev.jsonl"
FALLBACK = ROOT / "tests" / "fixtures" / "labelled.jsonl"


def ordinary_stories() -> list[tuple[str, str]]:
    from datetime import UTC, datetime

    from crawler.demo.server import DEMO_SITE, render
    from pipelines.extract.page import extract

    stories = []
    for path in (
        "sports",
        "business/psx-gains-612-points-on-banking-energy-buying",
        "national/met-office-forecasts-cold-dry-weather-dense-fog-in-punjab",
        "national/nationwide-anti-polio-drive-to-vaccinate-45-million-children-begins",
    ):
        for page in sorted((DEMO_SITE / path).glob("**/index.html")):
            html = render(page.read_text(), "http://bench", datetime.now(UTC))
            try:
                story = extract(html, "http://bench/x/", fetched_at=datetime.now(UTC), allowed_domains=())
            except Exception:
                continue
            stories.append((story.title, story.text))
    return stories


def measure(mode: str, count: int, model: str) -> dict[str, object]:
    from pipelines.core.validation import read_toml
    from pipelines.watch.entities import EntityFinder, load_gazetteer
    from pipelines.watch.rules import parse_rules
    from pipelines.watch.watchlist import Watchlist

    gazetteer = load_gazetteer(ROOT / "config" / "gazetteer.toml")
    rules = parse_rules(read_toml(ROOT / "config/watchlists/cpec-security.toml"), "cpec-security", gazetteer)
    finder = None if mode == "no-ner" else EntityFinder(gazetteer, model)
    watchlist = Watchlist(rules, finder)
    if mode == "ordinary":
        base = ordinary_stories()
    else:
        source = DEV if DEV.exists() else FALLBACK
        base = [(r["title"], r["text"]) for r in map(json.loads, source.read_text().splitlines())]
    stories = (base * (count // len(base) + 1))[:count]
    if finder is not None:
        finder.find("warm up the pipeline")  # loading spaCy is a once-per-process cost
    start = time.perf_counter()
    flagged = sum(watchlist.classify(title, text).flagged for title, text in stories)
    elapsed = time.perf_counter() - start
    return {
        "mode": mode,
        "stories": count,
        "seconds": round(elapsed, 2),
        "stories_per_second": round(count / elapsed),
        "flagged": flagged,
        "uses_entities": watchlist.needs_entities,
        "statistical_ner": bool(finder and finder.statistical),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode, args.stories, args.model)))
        return
    for mode in ("full", "no-ner", "ordinary"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--stories", str(args.stories), "--model", args.model],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        result = json.loads(out.stdout)
        print(
            f"{result['mode']:9} {result['stories']} stories in {result['seconds']} s: "
            f"{result['stories_per_second']} stories/s, flagged {result['flagged']}, "
            f"peak RSS {result['peak_rss_mb']} MB (entities used: {result['uses_entities']}, "
            f"statistical NER: {result['statistical_ner']})"
        )


if __name__ == "__main__":
    main()
