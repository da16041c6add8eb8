"""The item that travels from the spider through the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipelines.core.records import Verdict

if TYPE_CHECKING:
    from pipelines.core.records import Article


@dataclass
class ArticlePage:
    source: str
    url: str  # the normalised URL that was requested
    final_url: str  # where redirects ended
    html: str
    fetched_at: datetime
    hint_published: datetime | None = None  # from the feed, sitemap or listing that linked it
    hint_title: str | None = None
    # Filled in by the stages:
    article: Article | None = None
    error: str | None = None
    transient: bool = False  # an error of ours (a dead worker), not of the page
    features: Any = None  # clustering features (pipelines.stories.Features), computed by a worker
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    # With [storage] archive = "warc": the page as fetched (pipelines.archive.Capture), until
    # ArchiveStage writes it; then where it was written (WARC file, offset of its record).
    capture: Any = None
    archived: tuple[str, int] | None = None

    def __repr__(self) -> str:  # Scrapy logs dropped items; keep the page's HTML out of the log
        return f"<ArticlePage {self.source} {self.url}>"


@dataclass
class DeadLink:
    """An article URL that answered 404 or 410: remembered, and asked again only with backoff."""

    source: str
    url: str
    status: int
