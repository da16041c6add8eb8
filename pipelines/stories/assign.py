"""Grouping: each new article joins the story (event) it reports, or starts one.

Two tests, in this order, against articles stored before this one:

1. **Near-duplicate** (a reprint of wire copy, word for word or lightly edited): candidates
   share an LSH band of the MinHash signature (an index lookup); each is then checked
   exactly: the shingles both share cover at least ``DUP_CONTAINMENT`` of the shorter text.
2. **Same event** (another outlet's own version): candidates share rare names (capitalised
   words: places, people, bodies; rarity measured among the stories so far) with any member
   of a story, but the article is judged against the story's first article (its own event),
   so a loosely related member does not chain a second event in: published within
   ``EVENT_WINDOW`` of it, sharing rare names, one lead's names found in the other article,
   headlines sharing words and no other count, and similar wording. All must hold, so two
   attacks on the same day, alike in words but elsewhere and on other people, stay two.
3. **Likely the same event** (`likeness`, a small fitted model), when the rules fail: against
   the first article of each candidate story (members sharing ``LIKELY_MIN_KEYS`` rare
   names bring it up) when that article is another outlet's; taken from a probability of
   ``likeness.LIKELY``. The rules' matches rank above the model's.

The article joins the story of the best match, or starts a story; when it reports the event
of two stories, they are merged. A decision depends only on articles stored before (lower
ids), so regrouping (every article again, in id order) arrives at the same grouping as
incremental assignment did. The index lives in storage;
this module reads and writes it only through the `StoryIndex` methods.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

from pipelines.core.dates import iso_utc
from pipelines.stories import likeness
from pipelines.stories.fingerprints import (
    Features,
    containment,
    content_words,
    cosine,
    day_of,
    features,
    headline_numbers,
    headline_words,
    lead_of,
    names,
    normalize,
    overlap,
    shingles,
)

DUP_WINDOW = timedelta(hours=48)  # reprints of wire copy appear within a day or two
DUP_CONTAINMENT = 0.5  # share of the shorter text's shingles found in the other
DUP_MIN_SHARED = 10  # and at least this many shingles in common
LEAD_AGREEMENT = 0.7  # each lead's names, weighted by rarity, found in the other article
EVENT_WINDOW = timedelta(hours=48)
EVENT_MIN_KEYS = 4  # rare names in common with the story's first article...
EVENT_KEY_SHARE = 0.15  # ...(a member sharing this share of the new article's rare-name weight)
RARE_MIN, RARE_SHARE = 20, 0.02  # a name in more stories than both is not rare
MAX_EVENT_CANDIDATES = 20
EVENT_COSINE = 0.4  # and this wording similarity
EVENT_HEADLINE = 0.3  # and this share of the shorter headline's content words
LIKELY_MIN_KEYS = 2  # rare names in common for the learned test (likeness.py) to be asked
LIKELY_CANDIDATES = 8  # of the candidates sharing most, the learned test judges at most these


class StoryIndex(Protocol):
    """What grouping needs of storage (pipelines.store.Store provides it)."""

    def story_candidates(
        self, index: str, keys: list[int], day: int, days: int, before: int
    ) -> list[tuple[int, int]]: ...

    def grouped_articles(self, ids: list[int]) -> list[tuple[int, int, datetime, str, str]]: ...

    def first_articles(self, ids: list[int]) -> list[tuple[int, int, datetime, str, str, str]]: ...

    def name_counts(self, keys: list[int]) -> tuple[int, dict[int, int]]: ...

    def story_of(self, article_id: int) -> int | None: ...

    def start_story(self, article_id: int, source: str, title: str, published: str | None) -> int: ...

    def join_story(self, story_id: int, source: str, published: str | None) -> None: ...

    def merge_stories(self, story_id: int, other_id: int) -> None: ...

    def index_article(
        self, article_id: int, story_id: int, day: int, bands: Iterable[int], names: Iterable[int]
    ) -> None: ...


@dataclass(frozen=True)
class Decision:
    story_id: int
    new: bool
    how: str  # "new" | "duplicate" | "event"
    matched: int | None = None  # the article it was matched with
    score: float = 0.0
    merged: int = 0  # other stories found to be this one and merged into it


@dataclass(frozen=True)
class Match:
    how: str  # "duplicate" | "event"
    article_id: int  # the earlier article matched
    score: float
    also: tuple[int, ...] = ()  # first articles of other stories of the same event


@dataclass(frozen=True)
class _Other:
    id: int
    story_id: int
    at: datetime
    title: str
    text: str
    source: str = ""


@lru_cache(maxsize=2048)
def _event_features(title: str, text: str) -> Features:
    """A first article's features for the learned test: asked again for each article of the
    surrounding days, so kept (pure: the text is the key)."""
    return features(title, text, copies=False)


def _days(window: timedelta) -> int:
    return math.ceil(window.total_seconds() / 86_400)


def _others(index: StoryIndex, ids: Iterable[int]) -> list[_Other]:
    return [_Other(*row) for row in index.grouped_articles(sorted(set(ids)))]


class Rarity:
    """How telling a name is: names found in few stories (a district, a person) weigh more
    than names found in many (a province, a ministry). Counted per story, not per article,
    so fifty copies of one story do not make its names common."""

    def __init__(self, index: StoryIndex, keys: list[int]):
        self.stories, self.counts = index.name_counts(keys)

    def weight(self, key: int) -> float:
        return math.log((self.stories + 2) / (self.counts.get(key, 0) + 1))

    def rare(self, key: int) -> bool:
        return self.counts.get(key, 0) <= max(RARE_MIN, RARE_SHARE * self.stories)

    def relative(self, key: int) -> float:
        """The weight as a share of the rarest possible (a name in no story yet): 0 to 1."""
        return self.weight(key) / math.log(self.stories + 2)

    def share(self, part: frozenset[int] | set[int], whole: frozenset[int] | set[int]) -> float:
        """Weighted share of ``whole`` found in ``part`` (1.0 when ``whole`` is empty: nothing
        in it disagrees)."""
        total = sum(self.weight(k) for k in whole)
        return sum(self.weight(k) for k in whole & part) / total if total else 1.0


def _leads_agree(
    rarity: Rarity,
    feats: Features,
    other: _Other,
    other_names: set[int],
    named: bool = False,
    either: bool = False,
) -> bool:
    """Each lead's names (weighted by rarity) are mostly found in the other article: the same
    place and the same people, not just the same kind of news. ``named``: the leads must
    name something (a lead without names agrees with anything). ``either``: one lead's names
    found in the other article is enough (another outlet's lead may tell another angle)."""
    other_lead = set(names(lead_of(other.text)))
    if named and not (feats.lead and other_lead):
        return False
    mine = rarity.share(other_names, feats.lead) >= LEAD_AGREEMENT
    theirs = rarity.share(set(feats.keys), other_lead) >= LEAD_AGREEMENT
    return (mine or theirs) if either else (mine and theirs)


def _same_event(rarity: Rarity, feats: Features, first: _Other) -> float | None:
    """The rules: rare names, leads, headline words and counts, and wording all agree. Their
    score (mean of wording and headline likeness), or None when one fails."""
    first_names = names(first.text)
    if sum(1 for k in first_names if k in feats.keys and rarity.rare(k)) < EVENT_MIN_KEYS:
        return None
    if not _leads_agree(rarity, feats, first, set(first_names), named=True, either=True):
        return None
    numbers = headline_numbers(first.title)
    if feats.numbers and numbers and not feats.numbers & numbers:
        return None  # "nine killed" and "10 killed" are two events
    similarity = cosine(feats.words, content_words(first.title, first.text))
    titles = overlap(feats.headline, headline_words(first.title))
    return (similarity + titles) / 2 if similarity >= EVENT_COSINE and titles >= EVENT_HEADLINE else None


def match(
    index: StoryIndex, article_id: int, at: datetime, feats: Features, source: str = ""
) -> Match | None:
    """The best earlier article this one belongs with, or None; with the first articles of
    other stories it also reports the event of (so they are one story)."""
    day = day_of(at)
    rarity = Rarity(index, list(feats.keys))

    # 1. near-duplicates: LSH candidates, checked exactly
    rows = index.story_candidates("bands", list(feats.bands), day, _days(DUP_WINDOW), article_id)
    best: tuple[str, int, float] | None = None
    for other in _others(index, (a for _, a in rows)):
        if abs(at - other.at) > DUP_WINDOW:
            continue
        share, common = containment(feats.shingles, shingles(normalize(other.text)))
        if share < DUP_CONTAINMENT or common < DUP_MIN_SHARED or (best and share <= best[2]):
            continue
        # Wire stories of two events can share whole stock sentences; a reprint names the
        # same place and people in its lead.
        if _leads_agree(rarity, feats, other, set(names(other.text))):
            best = ("duplicate", other.id, share)
    if best:
        return Match(*best)

    # 2. the same event: candidates are found through any member sharing rare names, but
    # judged against the story's own first article, so one loosely related member does not
    # chain two events together, and a story spans at most EVENT_WINDOW from its first one.
    specific = [k for k in feats.keys if rarity.rare(k)]
    mass = sum(rarity.weight(k) for k in specific) or 1.0
    shared: dict[int, set[int]] = {}
    for key, other_id in index.story_candidates("names", specific, day, _days(EVENT_WINDOW), article_id):
        shared.setdefault(other_id, set()).add(key)
    scored = sorted(
        (-sum(rarity.weight(k) for k in keys) / mass, other_id, len(keys))
        for other_id, keys in shared.items()
        if len(keys) >= LIKELY_MIN_KEYS
    )[:MAX_EVENT_CANDIDATES]
    top = [i for _, i, _ in scored]
    # the rules ask only a story brought up by a member sharing enough of the rare names
    eligible = [i for negative, i, n in scored if n >= EVENT_MIN_KEYS and -negative >= EVENT_KEY_SHARE]
    ruled = index.first_articles(sorted(eligible)) if eligible else []
    asked = index.first_articles(sorted(top[:LIKELY_CANDIDATES]))
    ruled_firsts, asked_firsts = {row[0] for row in ruled}, {row[0] for row in asked}
    events: list[tuple[float, _Other]] = []
    for first in sorted({_Other(*row) for row in (*ruled, *asked)}, key=lambda o: o.id):
        if abs(at - first.at) > EVENT_WINDOW:
            continue
        rules = _same_event(rarity, feats, first) if first.id in ruled_firsts else None
        if rules is not None:
            events.append((1 + rules, first))  # the rules' matches rank above the model's
            continue
        if first.source == source or first.id not in asked_firsts:
            continue  # the model was fitted on pairs of two outlets
        hours = (at - first.at).total_seconds() / 3600
        theirs = _event_features(first.title, first.text)
        probability = likeness.signals(feats, theirs, hours, rarity.relative).probability()
        if probability >= likeness.LIKELY:
            events.append((probability, first))
    if not events:
        return None
    score, chosen = max(events, key=lambda e: (e[0], -e[1].id))
    # Stories whose first articles are within the window of each other and both report this
    # article's event are one story that arrived in two parts.
    also = tuple(
        first.id for _, first in events if first is not chosen and abs(first.at - chosen.at) <= EVENT_WINDOW
    )
    return Match("event", chosen.id, score, also)


def assign(
    index: StoryIndex,
    article_id: int,
    source: str,
    title: str,
    text: str,
    at: datetime,
    published: datetime | None,
    feats: Features | None = None,
) -> Decision:
    """Put a stored article into a story and index it (in the caller's unit). ``at`` is its
    time (published, else fetched); ``feats`` may come precomputed from an extraction worker."""
    feats = feats or features(title, text)
    found = match(index, article_id, at, feats, source)
    stamp = iso_utc(published) if published else None
    if found is None:
        decision = Decision(index.start_story(article_id, source, title, stamp), True, "new")
    else:
        stories = sorted({_story(index, i) for i in (found.article_id, *found.also)})
        story_id = stories[0]  # the oldest keeps its id, first article and title
        for other in stories[1:]:
            index.merge_stories(story_id, other)
        index.join_story(story_id, source, stamp)
        decision = Decision(story_id, False, found.how, found.article_id, found.score, len(stories) - 1)
    index.index_article(article_id, decision.story_id, day_of(at), feats.bands, feats.keys)
    return decision


def _story(index: StoryIndex, article_id: int) -> int:
    story_id = index.story_of(article_id)
    if story_id is None:
        raise RuntimeError(f"article {article_id} matched but has no story")
    return story_id
