"""A source's health beyond its last run: silent (nothing new for much longer than usual) or
degraded (its pages stopped extracting well), learnt from its own history.

A site that redesigns keeps answering 200 while its pages no longer extract, or its listing
stops matching the article pattern; a feed can freeze. None of that is an error of a run, so
`wirewatch status` compares each source with its own past instead.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipelines.alerts import outbox

if TYPE_CHECKING:
    from pipelines.alerts.policy import AlertPolicy
    from pipelines.store import Store

HISTORY_ARTICLES = 200  # a source's latest articles and runs are its past to compare with
HISTORY_RUNS = 60
MIN_ARTICLES = 20  # fewer: too little to know what is usual
QUIET_FLOOR = timedelta(hours=3)  # never silent sooner than this (a few crawls)...
MISSED_HOURS = 3.0  # ...nor before this many hours in which it usually publishes (see silent)
_HOUR = timedelta(hours=1)
RECENT_RUNS = 5  # runs that tell the present...
RECENT_ARTICLES = 20  # ...and articles
MIN_PAGES = 5  # pages in the recent runs, and in the runs before, to judge a share
WORSE = 0.5  # a share of bad pages at least this...
USUAL = 0.2  # ...where it used to be below this, is degraded
SHORT_TEXT = 600  # characters: a text this short is a teaser or a broken extraction


@dataclass(frozen=True)
class Health:
    state: str  # "ok" | "silent" | "degraded"
    reason: str = ""


def usual_hours(fetched: list[datetime]) -> list[float]:
    """For each hour of the day (UTC), the share of the history's days on which the source had
    a new article in that hour: its daily rhythm."""
    active = Counter(hour for _, hour in {(t.date(), t.hour) for t in fetched})
    seen, slot = Counter[int](), fetched[0].replace(minute=0, second=0, microsecond=0)
    while slot <= fetched[-1]:  # how often each hour of the day was part of the history
        seen[slot.hour] += 1
        slot += _HOUR
    return [active[hour] / seen[hour] if seen[hour] else 0.0 for hour in range(24)]


def silent(fetched: list[datetime], now: datetime) -> str | None:
    """Why a source that keeps being crawled is silent, or None: nothing new through more of
    the hours in which it usually has new articles than chance explains.

    By hour of day, because outlets keep hours: in a real week APP published nothing from
    about midnight to noon (Karachi) every day, gaps of 8-13 h against a 90th-percentile gap of
    1 h, so one threshold either called every night silent or let a daytime freeze go unseen
    for half a day. Each whole hour since the last new article counts as much as the share of
    days on which the source had something new in that hour."""
    if len(fetched) < MIN_ARTICLES:
        return None
    quiet = now - fetched[-1]
    if quiet <= QUIET_FLOOR:
        return None
    share = usual_hours(fetched)
    missed, hour = 0.0, fetched[-1].replace(minute=0, second=0, microsecond=0) + _HOUR
    while hour + _HOUR <= now and missed < MISSED_HOURS:
        missed += share[hour.hour]
        hour += _HOUR
    if missed < MISSED_HOURS:
        return None
    return (
        f"nothing new for {_hours(quiet)}, through at least {MISSED_HOURS:g} hours of the day "
        "in which it usually has new articles"
    )


def _share_jump(recent: list[bool], before: list[bool], what: str) -> str | None:
    """A reason when the share of ``True`` in ``recent`` jumped from what it was ``before``."""
    if len(recent) < MIN_PAGES or len(before) < MIN_PAGES:
        return None
    now_share, usual_share = sum(recent) / len(recent), sum(before) / len(before)
    if now_share >= WORSE and usual_share < USUAL:
        return f"{sum(recent)} of the last {len(recent)} {what} (usually {usual_share:.0%})"
    return None


def degraded(runs: list[tuple[int, int]], articles: list[tuple[int, str]]) -> str | None:
    """Why a source's pages stopped extracting well, or None. ``runs``: (new articles, pages
    with none) per run, oldest first; ``articles``: (text length, date source), oldest first."""
    pages = [[False] * new + [True] * failed for new, failed in runs]
    recent = [p for run in pages[-RECENT_RUNS:] for p in run]
    before = [p for run in pages[:-RECENT_RUNS] for p in run]
    reasons = [_share_jump(recent, before, "article pages held no article")]
    latest, earlier = articles[-RECENT_ARTICLES:], articles[:-RECENT_ARTICLES]
    reasons.append(
        _share_jump(
            [n < SHORT_TEXT for n, _ in latest],
            [n < SHORT_TEXT for n, _ in earlier],
            f"articles were shorter than {SHORT_TEXT} characters",
        )
    )
    reasons.append(
        _share_jump(
            [d in ("none", "page-day") for _, d in latest],
            [d in ("none", "page-day") for _, d in earlier],
            "articles had no publication time of their own",
        )
    )
    found = [r for r in reasons if r]
    return "; ".join(found) if found else None


def health(store: Store, source: str, now: datetime, crawled_ok: bool) -> Health:
    """A source's health from its history in ``store``; ``crawled_ok``: its last run found its
    feeds, sitemaps and listings (only then is quiet news, rather than a failure)."""
    articles = store.article_history(source, HISTORY_ARTICLES)
    reason = degraded(store.run_history(source, HISTORY_RUNS), [(n, d) for _, n, d in articles])
    if reason:
        return Health("degraded", reason)
    if crawled_ok:
        reason = silent([datetime.fromisoformat(f) for f, _, _ in articles], now)
        if reason:
            return Health("silent", reason)
    return Health("ok")


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


FAILING_AFTER = 3  # runs in a row not ok: failing


def states(
    store: Store, sources: list[str], now: datetime, failing_after: int = FAILING_AFTER
) -> dict[str, Health]:
    """Each source's one state for an operator: failing, blocked, degraded, silent or ok (the
    first that holds, in that order), with the reason; sources that never ran are left out."""
    last, streaks = store.last_runs(), store.failing_streaks()
    found: dict[str, Health] = {}
    for source in sources:
        run = last.get(source)
        if run is None:
            continue
        if streaks.get(source, 0) >= failing_after:
            errors = json.loads(run.get("errors") or "[]")
            found[source] = Health(
                "failing", f"its last {streaks[source]} runs failed" + (f": {errors[0]}" if errors else "")
            )
        elif run.get("blocked"):
            found[source] = Health("blocked", f"blocked (bot protection: {run['blocked']})")
        else:
            found[source] = health(store, source, now, run.get("status") == "ok")
    return found


def watch(store: Store, policy: AlertPolicy, sources: list[str], now: datetime) -> list[str]:
    """After a run: each source's state recorded, and a health email queued when one changed."""
    found = states(store, sources, now)
    return outbox.notice_health(store, policy, {s: (h.state, h.reason) for s, h in found.items()})
