"""A period's brief as one HTML page that opens offline and reads in mail clients.

Charts are PNG images drawn by matplotlib and embedded as data URIs (mail clients drop
scripts and often inline SVG); styles are inline; nothing is loaded from elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pipelines.watch.terms import compile_terms

if TYPE_CHECKING:
    from pipelines.store import Store
    from pipelines.watch.entities import Gazetteer

PLACE_LABELS = ("PLACE", "CPEC_SITE")  # gazetteer labels counted as places
TOP = 12  # places and outlets shown in their charts
TIERS = ("core", "mention")
TYPES = ("incident", "measures")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)


@dataclass
class Story:
    """A flagged story of the period, by its strongest flag."""

    id: int
    at: str
    title: str
    url: str
    tier: str
    type: str | None
    outlets: list[str]
    sentences: list[str] = field(default_factory=list)
    places: set[str] = field(default_factory=set)


def stories(rows: list[dict[str, Any]], places: dict[str, re.Pattern[str]]) -> list[Story]:
    """Flagged articles grouped into their stories, each with its strongest tier."""
    found: dict[int, Story] = {}
    for row in rows:
        key = row["story_id"] or -row["id"]
        outlets = json.loads(row["outlets"] or "[]") or [row["source"]]
        story = found.get(key)
        stronger = story is not None and row["tier"] == "core" and story.tier != "core"
        if story is None or stronger:
            sentences = [s for r in json.loads(row["reasons"]) for s in r.get("sentences", [])]
            found[key] = Story(
                row["story_id"] or row["id"],
                story.at if story else row["at"],
                row["title"],
                row["url"],
                row["tier"],
                row["type"],
                outlets,
                list(dict.fromkeys(sentences))[:3],
                story.places if story else set(),
            )
            story = found[key]
        text = f"{row['title']}\n{row['text']}"
        story.places |= {name for name, pattern in places.items() if pattern.search(text)}
    for story in found.values():  # "Gwadar Port" counts, not also "Gwadar" inside it
        story.places = {p for p in story.places if not any(p != q and p in q for q in story.places)}
    return sorted(found.values(), key=lambda s: s.at)


def place_patterns(gazetteer: Gazetteer | None) -> dict[str, re.Pattern[str]]:
    """One pattern per place name of the gazetteer's place labels."""
    if gazetteer is None:
        return {}
    patterns: dict[str, re.Pattern[str]] = {}
    for label in PLACE_LABELS:
        for term in gazetteer.labels.get(label, ()):
            text = term.text
            # a name (not a family of words, an acronym like CPEC or a common noun like "special
            # economic zone")
            if "(" not in text and "*" not in text and text[:1].isupper() and not term.case_sensitive:
                patterns.setdefault(term.text, compile_terms([term]))
    return patterns


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _charts(found: list[Story], period: Period, zone: ZoneInfo, titles: dict[str, str]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    first, last = (
        period.start.astimezone(zone).date(),
        (period.end - timedelta(seconds=1)).astimezone(zone).date(),
    )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]

    counts = Counter(
        (datetime.fromisoformat(s.at).astimezone(zone).date(), s.tier, s.type or "incident") for s in found
    )
    charts: dict[str, str] = {}
    figure, axes = plt.subplots(figsize=(8, 3))
    bottom = [0] * len(days)
    colours = {
        ("core", "incident"): "#b42318",
        ("core", "measures"): "#e8833a",
        ("mention", "incident"): "#6b8fc7",
        ("mention", "measures"): "#b7c9e8",
    }
    for (tier, kind), colour in colours.items():
        heights = [counts[(day, tier, kind)] for day in days]
        axes.bar(
            [d.strftime("%a %d") for d in days], heights, bottom=bottom, color=colour, label=f"{tier}, {kind}"
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_ylabel("stories")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize=8, frameon=False, ncols=2)
    axes.spines[["top", "right"]].set_visible(False)
    charts["days"] = _png(figure)
    plt.close(figure)
    for name, counter in (
        ("places", Counter(p for s in found for p in s.places)),
        ("outlets", Counter(titles.get(o, o) for s in found for o in s.outlets)),
    ):
        top = counter.most_common(TOP)[::-1]
        figure, axes = plt.subplots(figsize=(8, 0.35 * max(len(top), 2) + 0.6))
        axes.barh([k for k, _ in top], [v for _, v in top], color="#3d5a80")
        axes.set_xlabel("stories")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.spines[["top", "right"]].set_visible(False)
        charts[name] = _png(figure)
        plt.close(figure)
    return charts


def _summary(found: list[Story]) -> dict[str, int]:
    return {
        "core stories": sum(s.tier == "core" for s in found),
        "mention stories": sum(s.tier == "mention" for s in found),
        "incidents": sum(s.type == "incident" for s in found),
        "security measures": sum(s.type == "measures" for s in found),
        "outlets": len({o for s in found for o in s.outlets}),
    }


def _health(store: Store, period: Period) -> list[list[str]]:
    times = store.new_article_times(period.start, period.end)
    rows = []
    for run in store.runs_in(period.start, period.end):
        stamps = [
            period.start,
            *(datetime.fromisoformat(t) for t in times.get(run["source"], [])),
            period.end,
        ]
        silence = max(b - a for a, b in pairwise(stamps))
        rows.append(
            [
                run["source"],
                str(run["runs"]),
                str(run["failed"]),
                f"{run['blocked']} ({run['blocked_by']})" if run["blocked"] else "0",
                str(run["new_articles"]),
                str(run["dead_links"]),
                f"{silence.total_seconds() / 3600:.0f} h",
            ]
        )
    return rows


_STYLE = {
    "body": "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2433;max-width:860px;"
    "margin:0 auto;padding:24px;line-height:1.45",
    "h2": "font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px",
    "table": "border-collapse:collapse;font-size:14px;width:100%",
    "td": "padding:4px 8px;border-bottom:1px solid #eef0f4;text-align:left",
    "badge": "display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;color:#fff;",
    "quote": "margin:4px 0 4px 12px;color:#39424e;font-size:14px",
    "headline": "font-weight:600;color:#1d4ed8",
    "meta": "color:#5b6577;font-size:13px",
}


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th style="{_STYLE["td"]}">{html.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_STYLE["td"]}">{html.escape(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f'<table style="{_STYLE["table"]}"><tr>{head}</tr>{body}</table>'


def build(
    store: Store,
    period: Period,
    zone: ZoneInfo,
    watchlist: str | None = None,
    gazetteer: Gazetteer | None = None,
    titles: dict[str, str] | None = None,
) -> str:
    """The brief for ``period``: charts, this period against the previous one, every core story
    with why it was flagged, and the sources' health."""
    places = place_patterns(gazetteer)
    found = stories(store.flagged_in(period.start, period.end, watchlist), places)
    before = stories(store.flagged_in(period.previous.start, period.previous.end, watchlist), {})
    titles = titles or {}
    charts = _charts(found, period, zone, titles)
    now, then = _summary(found), _summary(before)

    def local(stamp: str) -> str:
        moment = datetime.fromisoformat(stamp).astimezone(zone)
        return f"{moment:%a %d %b %H:%M} {moment.tzname()}"

    last_day = (period.end - timedelta(seconds=1)).astimezone(zone)
    span = f"{period.start.astimezone(zone):%d %b %Y} to {last_day:%d %b %Y}"
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">',
        f"<title>wirewatch brief, {html.escape(span)}</title></head>",
        f'<body style="{_STYLE["body"]}"><h1 style="font-size:22px;margin:0">CPEC security brief</h1>',
        f'<p style="color:#5b6577;margin:4px 0 0">{html.escape(span)}'
        + (f" · watchlist {html.escape(watchlist)}" if watchlist else "")
        + "</p>",
        f'<h2 style="{_STYLE["h2"]}">This period against the previous one</h2>',
        _table(
            ["", "this period", "previous", "change"],
            [[k, str(now[k]), str(then[k]), f"{now[k] - then[k]:+d}"] for k in now],
        ),
        f'<h2 style="{_STYLE["h2"]}">Stories per day</h2><img alt="stories per day by tier and type" '
        f'style="max-width:100%" src="{charts["days"]}">',
        f'<h2 style="{_STYLE["h2"]}">Core stories ({now["core stories"]})</h2>',
    ]
    for story in (s for s in found if s.tier == "core"):
        outlets = ", ".join(titles.get(o, o) for o in story.outlets)
        colour = "#b42318" if story.type == "incident" else "#e8833a"
        quotes = "".join(
            f'<blockquote style="{_STYLE["quote"]}">{html.escape(s)}</blockquote>' for s in story.sentences
        )
        parts.append(
            f'<div style="margin:14px 0"><span style="{_STYLE["badge"]}background:{colour}">'
            f"{html.escape(story.type or 'core')}</span> "
            f'<a href="{html.escape(story.url)}" style="{_STYLE["headline"]}">{html.escape(story.title)}</a>'
            f'<div style="{_STYLE["meta"]}">{html.escape(local(story.at))} · {html.escape(outlets)} '
            f"· story {story.id}</div>{quotes}</div>"
        )
    parts += [
        f'<h2 style="{_STYLE["h2"]}">Stories by place</h2><img alt="stories by place" style="max-width:100%" '
        f'src="{charts["places"]}">',
        f'<h2 style="{_STYLE["h2"]}">Stories by outlet</h2>',
        f'<img alt="stories by outlet" style="max-width:100%" src="{charts["outlets"]}">',
        f'<h2 style="{_STYLE["h2"]}">Sources</h2>',
        _table(
            ["source", "runs", "failed", "blocked", "new articles", "dead links", "longest silence"],
            _health(store, period),
        ),
        '<p style="color:#5b6577;font-size:12px;margin-top:24px">Made by wirewatch.</p></body></html>',
    ]
    return "\n".join(parts)
