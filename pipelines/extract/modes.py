"""Per-source adaptive extraction: learn whether trafilatura's fallback changes a source's stories.

trafilatura compares its own extraction with readability's and jusText's (the fallback) and
keeps theirs when its own looks deficient: about a third of its CPU, and on most sites'
article pages the text comes out the same without it. So a source starts *learning*: each
of its pages is extracted both ways (the stored text is the full extraction's) and the texts
compared. After LEARN agreeing pages in a row it turns *fast* (no fallback), still checking
one page in SAMPLE both ways, so a change of layout that makes the fallback matter is noticed.
A check that differs sends the source back to *full* extraction, where one page in SAMPLE is
still checked; it turns fast again only after LEARN << disagreements (at most LEARN * 16)
agreeing checks in a row, so a source where the fallback matters now and then stays full.

A seed's explicit `[extraction] fallback = true/false` overrides all this. The counts live in
the store (table ``extraction_modes``), so a crawl from cron that stores a few stories a run
learns across runs; the crawling or importing process plans each page here, the worker
extracts as told and answers whether the check agreed, and the answer is recorded here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pipelines.store import Store

logger = logging.getLogger(__name__)

LEARN = 20  # agreeing checks in a row before a source skips the fallback
SAMPLE = 50  # once learnt (fast or full), one page in SAMPLE is extracted both ways
MAX_DOUBLINGS = 4  # the run of agreements needed doubles with each disagreement, up to LEARN * 16

Plan = Literal["full", "fast", "check"]


@dataclass
class Evidence:
    """What a source's pages have shown so far."""

    source: str
    pages: int = 0
    checked: int = 0
    disagreed: int = 0
    agreed_in_row: int = 0
    last_disagreed_url: str | None = None
    last_disagreed_at: str | None = None

    @property
    def needed(self) -> int:
        """Agreeing checks in a row that make the source fast."""
        return LEARN << min(self.disagreed, MAX_DOUBLINGS)

    @property
    def mode(self) -> str:
        """``fast``, ``full`` (the fallback has mattered), or ``learning`` (never differed yet)."""
        if self.agreed_in_row >= self.needed:
            return "fast"
        return "full" if self.disagreed else "learning"

    def plan(self) -> Plan:
        """How to extract the next page (and count it)."""
        self.pages += 1
        mode = self.mode
        if mode == "learning" or self.pages % SAMPLE == 0:
            return "check"
        return "fast" if mode == "fast" else "full"

    def record(self, agreed: bool, url: str) -> None:
        self.checked += 1
        if agreed:
            self.agreed_in_row += 1
            return
        self.disagreed += 1
        self.agreed_in_row = 0
        self.last_disagreed_url = url
        self.last_disagreed_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Modes:
    """Every source's evidence, read from the store once, planned and counted in memory, and
    written back when a check's answer changes it (in the store's current batch) and on `save`."""

    def __init__(self, store: Store):
        self.store = store
        self.evidence = {
            source: Evidence(source, **{k: v for k, v in row.items() if k != "updated_at"})
            for source, row in store.extraction_evidence().items()
        }
        self._dirty: set[str] = set()

    def of(self, source: str) -> Evidence:
        if source not in self.evidence:
            self.evidence[source] = Evidence(source)
        return self.evidence[source]

    def plan(self, source: str, hint: bool | None) -> Plan:
        """How to extract a page of ``source``; ``hint`` is its seed's explicit fallback setting
        (None: learn)."""
        if hint is not None:
            return "full" if hint else "fast"
        self._dirty.add(source)
        return self.of(source).plan()

    def record(self, source: str, agreed: bool | None, url: str) -> None:
        """A page's answer: whether its two extractions agreed (None: it was not checked)."""
        if agreed is None:
            return
        evidence = self.of(source)
        before = evidence.mode
        evidence.record(agreed, url)
        if evidence.mode != before:
            logger.info(
                "[%s] extraction now %s: %d pages checked both ways, %d differed%s",
                source,
                evidence.mode,
                evidence.checked,
                evidence.disagreed,
                f" (last {url})" if not agreed else "",
            )
        self._dirty.add(source)
        self.save()

    def save(self) -> None:
        """Write the changed sources' counts (in the store's open batch, if any)."""
        if self._dirty:
            self.store.save_extraction_evidence([asdict(self.evidence[s]) for s in sorted(self._dirty)])
            self._dirty.clear()


_SHARED: dict[int, Modes] = {}


def shared_modes(store: Store) -> Modes:
    """One Modes per store in a process (a crawl's sources share the store)."""
    modes = _SHARED.get(id(store))
    if modes is None or modes.store is not store:
        modes = _SHARED[id(store)] = Modes(store)
    return modes


def describe(hint: bool | None, row: dict[str, object] | None) -> str:
    """A source's extraction mode and its evidence, for `wirewatch sources`: ``fast (120 checked,
    0 differed)``, ``learning (5 of 20 checked)``, ``full (seed)``."""
    if hint is not None:
        return f"{'full' if hint else 'fast'} (seed)"
    fields = {k: v for k, v in (row or {}).items() if k != "updated_at"}
    evidence = Evidence("", **fields)  # type: ignore[arg-type]
    mode = evidence.mode
    if mode == "learning":
        return f"learning ({evidence.agreed_in_row} of {evidence.needed} checked)"
    return f"{mode} ({evidence.checked} checked, {evidence.disagreed} differed)"
