"""Alert and digest emails look designed: inline styles mail clients honour, badges, the
headline as the link, matched terms marked, why in one block, the story id and label commands;
both rendered by headless Chromium (the PNG is kept in the test's folder to look at)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from conftest import needs_chromium, not_blank, screenshot

from pipelines.alerts.compose import compose_alert, compose_digest
from pipelines.alerts.policy import AlertPolicy, Route

POLICY = AlertPolicy(routes=(Route(watchlist="cpec-security", to=("desk@example.org",)),))
REASONS = json.dumps(
    [
        {
            "rule": "chinese-attacked",
            "score": 9.0,
            "terms": ["attacked", "convoy"],
            "entities": ["Chinese engineers (CHINESE_NATIONALS)"],
            "sentences": ["Gunmen attacked a convoy of Chinese engineers near Besham <b>today</b>."],
        }
    ]
)
ROW = {
    "article_id": 41,
    "story_id": 7,
    "watchlist": "cpec-security",
    "recipient": "desk@example.org",
    "message_id": "<a41@example.org>",
    "title": "Convoy of Chinese engineers attacked near Besham",
    "url": "https://www.app.com.pk/national/convoy-attacked/",
    "source": "app",
    "outlets": json.dumps(["app", "dawn"]),
    "published_at": datetime(2026, 11, 30, 9, 15, tzinfo=UTC).isoformat(),
    "tier": "core",
    "type": "incident",
    "score": 16.5,
    "reasons": REASONS,
}
TITLES = {"app": "Associated Press of Pakistan", "dawn": "Dawn"}


def test_the_alert_is_laid_out_with_inline_styles():
    rich = (
        compose_alert(ROW, POLICY, "Associated Press of Pakistan", TITLES).get_body(("html",)).get_content()
    )
    assert "<style" not in rich and "<script" not in rich and 'style="' in rich
    assert ">core</span>" in rich and ">incident</span>" in rich  # the badges
    assert f'<a href="{ROW["url"]}" style=' in rich  # the headline is the link
    assert '<mark style="' in rich and "attacked</mark>" in rich
    assert "&lt;b&gt;today&lt;/b&gt;" in rich  # scraped text stays text
    assert "also carried by Dawn" in rich and "Why it was flagged" in rich
    assert "story 7 · article 41" in rich and "<code>wirewatch label 41 not</code>" in rich


def test_the_digest_groups_stories_by_tier_and_type():
    items = [
        {
            **ROW,
            "alert_id": n,
            "article_id": 40 + n,
            "story_id": n,
            "tier": tier,
            "type": kind,
            "title": f"Story {n}",
        }
        for n, (tier, kind) in enumerate(
            [("mention", "measures"), ("core", "incident"), ("mention", "incident")], 1
        )
    ]
    digest = {"recipient": "desk@example.org", "message_id": "<d1@example.org>", "items": items}
    rich = compose_digest(digest, POLICY, TITLES).get_body(("html",)).get_content()
    order = [rich.index(h) for h in ("core, incident (1)", "mention, incident (1)", "mention, measures (1)")]
    assert order == sorted(order)


@needs_chromium
def test_both_emails_render_in_headless_chromium(tmp_path: Path):
    alert = compose_alert(ROW, POLICY, "Associated Press of Pakistan", TITLES)
    digest = compose_digest(
        {
            "recipient": "desk@example.org",
            "message_id": "<d2@example.org>",
            "items": [{**ROW, "alert_id": 1}],
        },
        POLICY,
        TITLES,
    )
    for name, message in (("alert", alert), ("digest", digest)):
        page = tmp_path / f"{name}.html"
        page.write_text(message.get_body(("html",)).get_content())
        assert not_blank(screenshot(page.as_uri(), tmp_path / f"{name}.png", "700,900"))
