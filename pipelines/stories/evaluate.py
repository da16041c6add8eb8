"""Measuring grouping on a labelled week (the format of shared/eval/stories-week/).

``articles.jsonl``: id, source, url, published, title, text. ``pairs.jsonl``: a, b (article
ids of two outlets), ``same`` (both readers said one event) and ``agreed`` (the readers did
not split). Pairwise precision and recall are counted over cross-outlet pairs: a pair is
"same" when listed, agreed and judged same; pairs not listed count as different; the pairs
the readers split on are left out.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from pipelines.core.dates import parse_date
from pipelines.core.validation import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeekArticle:
    id: str
    source: str
    url: str
    published: datetime
    title: str
    text: str


@dataclass(frozen=True)
class Week:
    articles: list[WeekArticle]
    same: set[frozenset[str]]  # agreed same-event pairs
    split: set[frozenset[str]]  # pairs the readers split on: left out
    different: set[frozenset[str]] = field(default_factory=set)  # agreed different (listed)


@dataclass
class Report:
    articles: int
    stories: int
    judged_same: int
    true_pairs: int
    false_pairs: list[dict[str, Any]] = field(default_factory=list)
    missed_pairs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        grouped = self.true_pairs + len(self.false_pairs)
        return self.true_pairs / grouped if grouped else 1.0

    @property
    def recall(self) -> float:
        return self.true_pairs / self.judged_same if self.judged_same else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "stories": self.stories,
            "judged_same": self.judged_same,
            "grouped_cross_outlet": self.true_pairs + len(self.false_pairs),
            "true_pairs": self.true_pairs,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "false_pairs": self.false_pairs,
            "missed_pairs": self.missed_pairs,
        }


def _lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON: {exc}")
    if problems:
        raise ConfigError(problems)
    return rows


def read_week(folder: Path) -> Week:
    """Read ``articles.jsonl`` and ``pairs.jsonl`` of a labelled week; every bad line is named."""
    articles, problems = [], []
    for number, row in _lines(folder / "articles.jsonl"):
        try:
            published = parse_date(row.get("published"))
            if published is None:
                raise ValueError("no published time")
            articles.append(
                WeekArticle(
                    str(row["id"]), str(row["source"]), str(row["url"]), published, row["title"], row["text"]
                )
            )
        except (KeyError, ValueError) as exc:
            problems.append(f"{folder / 'articles.jsonl'}:{number}: {exc}")
    known = {a.id for a in articles}
    same, split, different = set(), set(), set()
    for number, row in _lines(folder / "pairs.jsonl"):
        pair = frozenset((str(row.get("a")), str(row.get("b"))))
        if not pair <= known or len(pair) != 2:
            problems.append(f"{folder / 'pairs.jsonl'}:{number}: a and b must be two article ids")
        elif not row.get("agreed", True):
            split.add(pair)
        elif row.get("same"):
            same.add(pair)
        else:
            different.add(pair)
    if problems:
        raise ConfigError(problems)
    return Week(articles, same, split, different)


def score(week: Week, story_of: dict[str, int]) -> Report:
    """Pairwise precision and recall of a grouping (article id -> story id) over the week's
    cross-outlet pairs, with the false and missed pairs."""
    by_id = {a.id: a for a in week.articles}

    def described(pair: frozenset[str]) -> dict[str, Any]:
        a, b = sorted((by_id[i] for i in pair), key=lambda x: (x.source, x.id))
        return {
            "a": a.id,
            "b": b.id,
            "titles": [f"{a.source}: {a.title}", f"{b.source}: {b.title}"],
            "published": [a.published.isoformat(), b.published.isoformat()],
        }

    members: dict[int, list[WeekArticle]] = {}
    for article in week.articles:
        members.setdefault(story_of[article.id], []).append(article)
    report = Report(len(week.articles), len(members), len(week.same), 0)
    for group in members.values():
        for a, b in combinations(group, 2):
            pair = frozenset((a.id, b.id))
            if a.source == b.source or pair in week.split:
                continue
            if pair in week.same:
                report.true_pairs += 1
            else:
                report.false_pairs.append(described(pair))
    report.missed_pairs = [described(pair) for pair in week.same if len({story_of[i] for i in pair}) == 2]
    report.false_pairs.sort(key=lambda p: p["published"])
    report.missed_pairs.sort(key=lambda p: p["published"])
    return report
