"""The stages after extraction, by name and in order: store -> group -> flag -> alert.

`keep` does it for one new article as a crawl (or an import) hands it over, in one unit of
the store, so an article is kept whole with its story, flags and alerts, or not at all.
`regroup` and `rescore` do it again for stored articles, in short transactions: a crawl
writing meanwhile waits at most about a second for either, and readers never wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipelines import stories
from pipelines.alerts import outbox
from pipelines.alerts.policy import AlertPolicy
from pipelines.core.records import Article, Origin, Verdict
from pipelines.stories import Decision

if TYPE_CHECKING:
    from pipelines.store import Store, StoredArticle
    from pipelines.watch import Watchlist

logger = logging.getLogger(__name__)

BATCH_SECONDS = 0.5  # of regrouping or rescoring work per transaction
# A dead article link (404, 410) is asked again after these waits, then never: a menu link that
# is gone costs four requests in all, and a page that comes back within a week is still found.
DEAD_LINK_RETRIES = (timedelta(hours=1), timedelta(days=1), timedelta(days=7))


def keep(
    store: Store,
    source: str,
    article: Article,
    verdicts: dict[str, Verdict],
    fetched_at: datetime,
    requested_url: str,
    policy: AlertPolicy | None = None,
    features: stories.Features | None = None,
    page: tuple[str, int] | None = None,
    origin: Origin = "run",
) -> int | None:
    """Store a new article, group it into a story, flag it and queue its alerts, whole.

    ``page`` is where its page is archived (a WARC file and the offset of its record);
    ``origin`` what stores it: run, backfill or import.
    Returns its id, or None when its canonical URL was stored already (the requested URL then
    becomes an alias of it). While a `regroup` is under way the article waits for it to be
    grouped, and its alerts are queued then, so one story still makes one core alert.
    """
    with store.write():
        article_id = store.add_article(source, article, fetched_at, requested_url, origin)
        if article_id is None:
            return None
        waiting = store.regrouping() is not None
        if not waiting:
            at = article.published_at or fetched_at
            stories.assign(
                store, article_id, source, article.title, article.text, at, article.published_at, features
            )
        store.set_flags(article_id, verdicts)
        if page is not None:
            store.set_page(article_id, *page)
        if policy is not None and not waiting:
            outbox.queue(store, article_id, verdicts, article.published_at, policy)
    return article_id


def refresh(
    store: Store,
    article_id: int,
    article: Article,
    verdicts: dict[str, Verdict],
    policy: AlertPolicy | None = None,
) -> bool:
    """A stored article extracted again (`reextract`): its text and metadata replaced and its
    flags brought in line, as `rescore` does, in one unit. True when the extraction changed
    (its story then needs `regroup`: grouping depends on every earlier article's text)."""
    with store.write():
        changed = store.replace_extraction(article_id, article)
        store.set_flags(article_id, verdicts)
        if policy is not None and store.story_of(article_id) is not None:
            outbox.queue(store, article_id, verdicts, article.published_at, policy)
    return changed


def dead_link(store: Store, source: str, url: str, status: int) -> int:
    """Remember an article URL that answered 404 or 410; returns how often it has."""

    def retry_after(attempts: int) -> timedelta | None:
        return DEAD_LINK_RETRIES[attempts - 1] if attempts <= len(DEAD_LINK_RETRIES) else None

    return store.record_dead_link(source, url, status, retry_after)


@dataclass
class Regrouped:
    articles: int = 0
    stories: int = 0
    duplicate: int = 0
    event: int = 0
    alerted: int = 0  # alerts queued for articles stored while it ran

    def count(self, decision: Decision) -> None:
        self.articles += 1
        self.stories -= decision.merged
        if decision.new:
            self.stories += 1
        elif decision.how == "duplicate":
            self.duplicate += 1
        else:
            self.event += 1


def regroup(
    store: Store, policy: AlertPolicy | None = None, progress: Callable[[Regrouped, int], None] | None = None
) -> Regrouped:
    """Group every stored article into stories again, from scratch, in id order (the order in
    which incremental grouping saw them), in transactions of about BATCH_SECONDS.

    Interrupted, it carries on where it stopped when run again. Articles a crawl stores
    meanwhile wait for it (see `keep`): it reaches them last, and queues their alerts then.
    ``progress(counts, left)`` is called after each transaction.
    """
    state = store.begin_regrouping()
    while not state["cleared"]:
        store.clear_grouping_step()
        state = store.regrouping() or state
    counts = Regrouped()
    first_new = state["first_new_id"]
    after = state["next_article_id"] - 1
    while True:
        for batch in store.stored_articles(after=after, batch=50):
            prepared = [(a, stories.features(a.title, a.text)) for a in batch]  # CPU work outside the lock
            began = time.monotonic()
            done = 0
            with store.write():
                for article, feats in prepared:
                    counts.count(_regroup_one(store, article, feats))
                    if policy is not None and article.id >= first_new:
                        counts.alerted += outbox.queue(
                            store, article.id, store.verdicts_of(article.id), article.published_at, policy
                        )
                    done += 1
                    if time.monotonic() - began >= BATCH_SECONDS:
                        break
                after = prepared[done - 1][0].id
                store.regrouped_up_to(after + 1)
            if progress is not None:
                progress(counts, store.regrouping_articles())
            if done < len(prepared):
                break  # the rest of this batch is read again, after the others had their turn
        else:
            if store.end_regrouping():
                return counts


def _regroup_one(store: Store, article: StoredArticle, feats: stories.Features) -> stories.Decision:
    at = article.published_at or article.fetched_at
    return stories.assign(
        store, article.id, article.source, article.title, article.text, at, article.published_at, feats
    )


def rescore(
    store: Store,
    watchlists: list[Watchlist],
    since: datetime | None,
    policy: AlertPolicy | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Classify stored articles again and bring their flags (and alerts) in line: scored
    outside any transaction, written in short ones; ``progress`` hears of each batch done."""
    changes = {
        w.name: {"articles": 0, "new": 0, "changed": 0, "removed": 0, "unchanged": 0} for w in watchlists
    }
    for batch in store.stored_articles(since=since, batch=100):
        scored = [(a, {w.name: w.classify(a.title, a.text) for w in watchlists}) for a in batch]
        with store.write():
            for article, verdicts in scored:
                before = store.verdicts_of(article.id)
                for name, verdict in verdicts.items():
                    was = before.get(name)
                    old = (was.tier, was.type, was.score) if was else None
                    new = (verdict.tier, verdict.type, verdict.score) if verdict.flagged else None
                    key = (
                        "unchanged"
                        if old == new
                        else "new"
                        if old is None
                        else "removed"
                        if new is None
                        else "changed"
                    )
                    changes[name]["articles"] += 1
                    changes[name][key] += 1
                store.set_flags(article.id, verdicts)
                if policy is not None and store.story_of(article.id) is not None:
                    outbox.queue(store, article.id, verdicts, article.published_at, policy)
        if progress is not None:
            progress(len(batch))
    return changes
