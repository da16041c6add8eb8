"""The store's cost per story, alone: what a crawl's StoreStage pays after extraction.

    python bench/store_write.py [--stories 10000] [--db /tmp/wirewatch-store.db]

Stories like bench/news_site.py's (about 5,000 characters each), their clustering features
computed beforehand as the workers do, written through the crawl's shared, batched store
(pipelines.store.shared): the article row, its FTS entry and story assignment, per article.
Reports user and system CPU per story; system time is the SQLite file I/O.
"""

from __future__ import annotations

import argparse
import resource
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from news_site import _story

from pipelines import flow
from pipelines import store as storage
from pipelines.core.records import Article
from pipelines.stories import fingerprints as cluster


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/wirewatch-store.db"))
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    now = datetime.now(UTC)
    stories = []
    for i in range(args.stories):
        data = _story(i, now - timedelta(minutes=i))
        text = "\n".join(data["paragraphs"])  # type: ignore[arg-type]
        title = str(data["title"])
        story = Article(f"https://news.example/{i}/", title, None, now, "page", "en", text, str(i))
        stories.append((story, cluster.features(title, text)))
    store = storage.shared(args.db)
    before = resource.getrusage(resource.RUSAGE_SELF)
    for story, features in stories:
        flow.keep(store, "bench", story, {}, now, story.url, None, features)
    storage.close_shared()
    after = resource.getrusage(resource.RUSAGE_SELF)
    user = (after.ru_utime - before.ru_utime) * 1000 / len(stories)
    system = (after.ru_stime - before.ru_stime) * 1000 / len(stories)
    print(f"{len(stories)} stories: {user:.3f} ms user + {system:.3f} ms system CPU per story")


if __name__ == "__main__":
    main()
