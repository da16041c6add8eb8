"""What travels between the stages: an extracted article and a watchlist's verdict on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Origin = Literal["run", "backfill", "import"]  # what stored an article: a crawl run, a backfill, an import


@dataclass(frozen=True)
class Article:
    """One page of one outlet, as extraction found it (a *story* is the event that groups articles)."""

    url: str  # canonical, normalised
    title: str
    author: str | None
    published_at: datetime | None
    date_source: str  # "page", "page-day", "feed" (feed, sitemap or listing) or "none"
    language: str
    text: str
    content_hash: str


@dataclass(frozen=True)
class Verdict:
    """A watchlist's judgement of one article, with the reasons that explain it."""

    flagged: bool
    tier: str | None  # "core" or "mention"
    type: str | None  # "incident" or "measures"
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)
