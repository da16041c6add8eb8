"""Alert and digest emails: a plain-text and an HTML part, every scraped value made safe.

Scraped text never reaches a header unsanitised (control characters become spaces, so a
headline cannot add a header) and is always escaped in the HTML part; links are shown as
text as well as linked, and only http(s) links are linked.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from pipelines.alerts.policy import AlertPolicy

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
MAX_SUBJECT = 180


def clean_header(value: str, limit: int = MAX_SUBJECT) -> str:
    text = " ".join(_CONTROL.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local(value: str | None, policy: AlertPolicy) -> str:
    if not value:
        return "time unknown"
    moment = datetime.fromisoformat(value).astimezone(policy.zone)
    return f"{moment:%d %b %Y, %H:%M} {moment.tzname()}"


def _terms_pattern(reasons: list[dict[str, Any]]) -> re.Pattern[str] | None:
    terms = {t for r in reasons for t in r.get("terms", []) if t.strip()}
    terms |= {e.rsplit(" (", 1)[0] for r in reasons for e in r.get("entities", [])}
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)


def highlight_text(sentence: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(lambda m: f"*{m[0]}*", sentence) if pattern else sentence


def highlight_html(sentence: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return html.escape(sentence)
    out, pos = [], 0
    for match in pattern.finditer(sentence):
        out.append(html.escape(sentence[pos : match.start()]))
        out.append(f"<mark>{html.escape(match[0])}</mark>")
        pos = match.end()
    out.append(html.escape(sentence[pos:]))
    return "".join(out)


def _excerpt(reasons: list[dict[str, Any]], limit: int = 2) -> list[str]:
    seen: list[str] = []
    for reason in reasons:
        for sentence in reason.get("sentences", []):
            if sentence not in seen:
                seen.append(sentence)
    return seen[:limit]


def _link_html(url: str) -> str:
    text = html.escape(url)
    if url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>'
    return text


def _why(reasons: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in reasons:
        found = ", ".join([*r.get("terms", []), *r.get("entities", [])])
        lines.append(f"{r['rule']} (+{r['score']}): {found}")
    return lines


def label_commands(article_id: int) -> list[str]:
    """The two commands an analyst pastes to judge an alert: not relevant, or core."""
    return [f"wirewatch label {article_id} not", f"wirewatch label {article_id} core"]


def _label_html(article_id: int) -> str:
    commands = " &nbsp; ".join(f"<code>{html.escape(c)}</code>" for c in label_commands(article_id))
    return f"Article {article_id}. Label it: {commands}"


def _message(
    policy: AlertPolicy, recipient: str, message_id: str, subject: str, text: str, body: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = clean_header(subject)
    msg["From"] = policy.sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(f"<!DOCTYPE html><html><body>{body}</body></html>", subtype="html")
    return msg


def compose_alert(row: dict[str, Any], policy: AlertPolicy, source_title: str) -> EmailMessage:
    """One core alert: headline, source, time, excerpt with the matched terms, why, link."""
    reasons = [r for r in _reasons(row) if r.get("score", 0) > 0]
    pattern = _terms_pattern(reasons)
    tier = (row.get("tier") or "core").upper()
    title = clean_header(row["title"], 1000)
    when = _local(row.get("published_at"), policy)
    kind = f" ({row['type']})" if row.get("type") else ""
    excerpt = _excerpt(reasons)
    text = "\n".join(
        [
            title,
            "",
            f"{source_title}, {when}",
            f"Watchlist {row['watchlist']}: {tier}{kind}, score {row.get('score')}",
            "",
            *(f"> {highlight_text(s, pattern)}" for s in excerpt),
            "",
            "Why it was flagged:",
            *(f"  - {line}" for line in _why(reasons)),
            "",
            f"Link: {row['url']}",
            "",
            f"wirewatch explain {row['article_id']}",
            "",
            f"Article {row['article_id']}. Not relevant, or core? Label it:",
            *(f"  {command}" for command in label_commands(row["article_id"])),
        ]
    )
    body = "".join(
        [
            f"<h2>{html.escape(title)}</h2>",
            f"<p>{html.escape(source_title)}, {html.escape(when)}<br>",
            f"Watchlist <b>{html.escape(row['watchlist'])}</b>: {html.escape(tier + kind)}, score "
            f"{html.escape(str(row.get('score')))}</p>",
            *(f"<blockquote>{highlight_html(s, pattern)}</blockquote>" for s in excerpt),
            "<p>Why it was flagged:</p><ul>",
            *(f"<li>{html.escape(line)}</li>" for line in _why(reasons)),
            f"</ul><p>Link: {_link_html(row['url'])}</p>",
            f"<p>{_label_html(row['article_id'])}</p>",
        ]
    )
    subject = f"[wirewatch] {row['watchlist']} {tier}: {title}"
    return _message(policy, row["recipient"], row["message_id"], subject, text, body)


def _by_story(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Digest items grouped by story (event), newest story first, each group oldest first."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        key = item.get("story_id") or ("alert", item.get("alert_id"))
        groups.setdefault(key, []).append(item)
    return [list(reversed(group)) for group in groups.values()]


def compose_digest(
    digest: dict[str, Any], policy: AlertPolicy, source_titles: dict[str, str]
) -> EmailMessage:
    """Every waiting mention of one recipient in one email, one entry per story: its first
    copy in full, the outlets of the other copies as "also reported by". Copies of a story
    that already had a core alert are listed under it the same way."""
    stories = _by_story(digest["items"])
    lines, parts = [], []
    for i, group in enumerate(stories, 1):
        alerted = group[0].get("alerted_source")
        lead = group[0]
        copies = group if alerted else group[1:]
        reasons = [r for r in _reasons(lead) if r.get("score", 0) > 0]
        pattern = _terms_pattern(reasons)
        title = clean_header((lead.get("story_title") if alerted else None) or lead["title"], 1000)
        excerpt = [] if alerted else _excerpt(reasons, 1)
        if alerted:
            about = f"core alert sent earlier ({source_titles.get(alerted, alerted)})"
        else:
            source = source_titles.get(lead["source"], lead["source"])
            about = f"{source}, {_local(lead.get('published_at'), policy)}"
        also = ", ".join(dict.fromkeys(source_titles.get(c["source"], c["source"]) for c in copies))
        lines += [f"{i}. {title}", f"   {about} ({lead['watchlist']}, {lead.get('tier')})"]
        lines += [f"   > {highlight_text(s, pattern)}" for s in excerpt]
        lines += [] if alerted else [f"   {lead['url']}"]
        lines += [f"   article {lead['article_id']}: " + " | ".join(label_commands(lead["article_id"]))]
        if copies:
            lines += [f"   also reported by: {also}", *(f"     {c['url']}" for c in copies)]
        lines.append("")
        parts.append(
            f"<li><b>{html.escape(title)}</b><br>{html.escape(about)} "
            f"({html.escape(lead['watchlist'])}, {html.escape(str(lead.get('tier')))})"
            + "".join(f"<blockquote>{highlight_html(s, pattern)}</blockquote>" for s in excerpt)
            + ("" if alerted else _link_html(lead["url"]))
            + f"<br>{_label_html(lead['article_id'])}"
            + (
                f"<br>also reported by: {html.escape(also)}<ul>"
                + "".join(f"<li>{_link_html(c['url'])}</li>" for c in copies)
                + "</ul>"
                if copies
                else ""
            )
            + "</li>"
        )
    count = f"{len(stories)} flagged {'story' if len(stories) == 1 else 'stories'}"
    text = "\n".join([f"wirewatch digest: {count}", "", *lines])
    body = f"<h2>wirewatch digest: {count}</h2><ol>{''.join(parts)}</ol>"
    return _message(
        policy, digest["recipient"], digest["message_id"], f"[wirewatch] digest: {count}", text, body
    )


def _reasons(row: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(row.get("reasons") or "[]")
