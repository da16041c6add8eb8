"""Story clustering: pairwise precision and recall of "same story" decisions on a synthetic
corpus (bench/cluster_corpus.py), and the cost of one new article at 100,000 stored ones.

    .venv/bin/python bench/cluster_bench.py                 # quality, then cost at 100,000
    .venv/bin/python bench/cluster_bench.py --scale 20000   # a quicker cost estimate
    .venv/bin/python bench/cluster_bench.py --scale 0       # quality only
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_corpus import Article as CorpusArticle
from cluster_corpus import generate, relation

from pipelines import flow
from pipelines.core.dates import iso_utc
from pipelines.core.records import Article
from pipelines.store import Store


def story_of(article: CorpusArticle, n: int) -> Article:
    return Article(
        url=f"https://{article.source}.example/{article.event}/{n}/",
        title=article.title,
        author=None,
        published_at=article.published,
        date_source="page",
        language="en",
        text=article.text,
        content_hash=hashlib.sha256(article.text.encode()).hexdigest(),
    )


def store_all(store: Store, articles: list[CorpusArticle]) -> list[int]:
    ids = []
    for n, article in enumerate(articles):
        article_id = flow.keep(store, article.source, story_of(article, n), {}, article.published, "")
        assert article_id is not None
        ids.append(article_id)
    return ids


def quality(events_per_day: int, days: int, seed: int) -> dict[str, dict[str, int]]:
    articles = generate(events_per_day, days, seed)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "quality.db")
        ids = store_all(store, articles)
        stories = dict(store.db.execute("SELECT id, story_id FROM articles").fetchall())
        incremental = [stories[i] for i in ids]
        flow.regroup(store)
        stories = dict(store.db.execute("SELECT id, story_id FROM articles").fetchall())
        agree = incremental == [stories[i] for i in ids]
        store.close()
    table: dict[str, Counter[str]] = {}
    for (a, sa), (b, sb) in combinations(zip(articles, incremental, strict=True), 2):
        counts = table.setdefault(relation(a, b), Counter())
        counts["pairs"] += 1
        counts["merged"] += sa == sb
    print(f"corpus: {len(articles)} articles, {events_per_day * days} events, {days} days, seed {seed}")
    print(f"incremental and full reclustering agree: {agree}")
    print(f"{'pair category':32} {'pairs':>8} {'same story':>11} {'rate':>7}")
    for name in (
        "verbatim reprint",
        "edited reprint",
        "own version",
        "distinct, same kind and day",
        "distinct, other",
    ):
        c = table.get(name, Counter())
        rate = c["merged"] / c["pairs"] if c["pairs"] else 0.0
        print(f"{name:32} {c['pairs']:8} {c['merged']:11} {rate:7.3f}")
    same = ("verbatim reprint", "edited reprint", "own version")
    distinct = ("distinct, same kind and day", "distinct, other")
    false_merges = sum(table.get(n, Counter())["merged"] for n in distinct)

    def precision(kinds: tuple[str, ...]) -> float:
        hits = sum(table.get(n, Counter())["merged"] for n in kinds)
        return hits / (hits + false_merges) if hits + false_merges else 1.0

    def recall(kinds: tuple[str, ...]) -> float:
        pairs = sum(table.get(n, Counter())["pairs"] for n in kinds)
        return sum(table.get(n, Counter())["merged"] for n in kinds) / pairs if pairs else 0.0

    print(f"pairwise precision {precision(same):.4f}, recall {recall(same):.4f} (all same-story pairs)")
    reprints = ("verbatim reprint", "edited reprint")
    print(f"reprints only: precision {precision(reprints):.4f}, recall {recall(reprints):.4f}")
    return {k: dict(v) for k, v in table.items()}


def cost(total: int, new: int, seed: int) -> None:
    """Stores ``total`` articles (a year of ~280 a day), then times ``new`` more one by one."""
    per_day = 40  # events a day, 7 articles each: ~280 articles a day
    days = total // (per_day * 7) + 2
    articles = generate(per_day, days, seed)
    history, fresh = articles[:total], articles[total : total + new]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "scale.db")
        started = time.perf_counter()
        with store.write() as db:
            db.conn.executemany(
                "INSERT INTO articles (url, source, title, published_at, date_source, fetched_at, language, "
                "text, content_hash) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        f"https://{a.source}.example/{n}/",
                        a.source,
                        a.title,
                        iso_utc(a.published),
                        "page",
                        iso_utc(a.published),
                        "en",
                        a.text,
                        str(n),
                    )
                    for n, a in enumerate(history)
                ],
            )
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        counts = flow.regroup(store)
        rebuilt = time.perf_counter() - started
        timings = []
        for n, article in enumerate(fresh):
            begin = time.perf_counter()
            flow.keep(store, article.source, story_of(article, total + n), {}, article.published, "")
            timings.append(time.perf_counter() - begin)
        size = (Path(folder) / "scale.db").stat().st_size
        index = {
            t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("story_bands", "story_keys", "story_names", "stories")
        }
        store.close()
    timings.sort()
    mean = sum(timings) / len(timings)
    print(f"\n{total} stored articles over {days} days (loaded in {loaded:.0f} s)")
    print(f"recluster from scratch: {rebuilt:.0f} s, {1000 * rebuilt / total:.2f} ms per article; {counts}")
    print(f"index rows: {index}; database {size / 1e6:.0f} MB")
    print(
        f"one new article (store + cluster, one transaction): mean {1000 * mean:.2f} ms, median "
        f"{1000 * timings[len(timings) // 2]:.2f} ms, p95 {1000 * timings[int(len(timings) * 0.95)]:.2f} ms "
        f"over {len(timings)} articles"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events-per-day", type=int, default=12)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale", type=int, default=100_000, help="stored articles for the cost test (0: skip)"
    )
    parser.add_argument("--new", type=int, default=300, help="new articles timed at that scale")
    args = parser.parse_args()
    quality(args.events_per_day, args.days, args.seed)
    if args.scale:
        cost(args.scale, args.new, args.seed)


if __name__ == "__main__":
    main()
