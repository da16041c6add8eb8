"""Alert and digest emails: a plain-text and an HTML part, every scraped value made safe.

Scraped text never reaches a header unsanitised (control characters become spaces, so a
headline cannot add a header) and is always escaped in the HTML part; links are shown as
text as well as linked, and only http(s) links are linked.
"""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from pipelines.alerts.policy import AlertPolicy

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
MAX_SUBJECT = 180

# Inline styles (mail clients drop <style> blocks and scripts): one narrow column, system fonts.
_CSS = {
    "page": "margin:0;padding:0;background:#f3f4f7",
    "column": "max-width:640px;margin:0 auto;padding:20px 16px;font-family:-apple-system,'Segoe UI',"
    "Helvetica,Arial,sans-serif;color:#1d2433;font-size:15px;line-height:1.5",
    "card": "background:#ffffff;border:1px solid #e1e5ec;border-radius:8px;padding:16px 18px;margin:0 0 14px",
    "badge": "display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600;"
    "letter-spacing:.03em;color:#ffffff;text-transform:uppercase",
    "headline": "display:block;margin:8px 0 4px;font-size:19px;line-height:1.3;font-weight:700;"
    "color:#1d4ed8;text-decoration:none",
    "meta": "color:#5b6577;font-size:13px;margin:0 0 10px",
    "quote": "margin:8px 0;padding:6px 12px;border-left:3px solid #d0d5dd;color:#39424e",
    "mark": "background:#fff1a8;color:inherit;padding:0 1px",
    "why": "margin:10px 0 0;padding:8px 12px;background:#f6f7f9;border-radius:6px;font-size:13px;"
    "color:#39424e",
    "foot": "margin:10px 0 0;font-size:12px;color:#5b6577",
    "section": "margin:22px 0 10px;font-size:14px;font-weight:700;color:#5b6577;text-transform:uppercase;"
    "letter-spacing:.05em",
}
_TIER_COLOURS = {"core": "#b42318", "mention": "#3d5a80"}
_TYPE_COLOURS = {"incident": "#9a3412", "measures": "#1f6f5c"}


def _badges(tier: str | None, kind: str | None) -> str:
    out = []
    for word, colour in ((tier, _TIER_COLOURS.get(tier or "")), (kind, _TYPE_COLOURS.get(kind or ""))):
        if word:
            style = f"{_CSS['badge']};background:{colour or '#5b6577'}"
            out.append(f'<span style="{style}">{html.escape(word)}</span>')
    return " ".join(out)


def _headline(title: str, url: str) -> str:
    if url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}" style="{_CSS["headline"]}">{html.escape(title)}</a>'
    return f'<span style="{_CSS["headline"]};color:#1d2433">{html.escape(title)}</span>'


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
        out.append(f'<mark style="{_CSS["mark"]}">{html.escape(match[0])}</mark>')
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


def _label_html(article_id: int, story_id: Any = None) -> str:
    commands = " &nbsp; ".join(f"<code>{html.escape(c)}</code>" for c in label_commands(article_id))
    story = f"story {html.escape(str(story_id))} · " if story_id else ""
    return f'<p style="{_CSS["foot"]}">{story}article {article_id} · label it: {commands}</p>'


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
    msg.add_alternative(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width"></head><body style="{_CSS["page"]}"><div style="{_CSS["column"]}">'
        f"{body}</div></body></html>",
        subtype="html",
    )
    return msg


def compose_alert(
    row: dict[str, Any], policy: AlertPolicy, source_title: str, titles: dict[str, str] | None = None
) -> EmailMessage:
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
    carried = [(titles or {}).get(o, o) for o in json.loads(row.get("outlets") or "[]") if o != row["source"]]
    why = "<br>".join(html.escape(line) for line in _why(reasons))
    body = "".join(
        [
            f'<div style="{_CSS["card"]}">',
            _badges((row.get("tier") or "core").lower(), row.get("type")),
            _headline(title, row["url"]),
            f'<p style="{_CSS["meta"]}">{html.escape(when)} · {html.escape(source_title)}'
            + (f" · also carried by {html.escape(', '.join(carried))}" if carried else "")
            + f" · watchlist {html.escape(row['watchlist'])}, score {html.escape(str(row.get('score')))}</p>",
            *(
                f'<blockquote style="{_CSS["quote"]}">{highlight_html(s, pattern)}</blockquote>'
                for s in excerpt
            ),
            f'<div style="{_CSS["why"]}"><b>Why it was flagged</b><br>{why}</div>',
            _label_html(row["article_id"], row.get("story_id")),
            f'<p style="{_CSS["foot"]}">{_link_html(row["url"])} · '
            f"<code>wirewatch explain {row['article_id']}</code></p>",
            "</div>",
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
    lines: list[str] = []
    parts: list[tuple[tuple[str, str], str]] = []
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
            (
                (lead.get("tier") or "mention", lead.get("type") or ""),
                f'<div style="{_CSS["card"]}">'
                + _badges(lead.get("tier"), lead.get("type"))
                + _headline(title, "" if alerted else lead["url"])
                + f'<p style="{_CSS["meta"]}">{html.escape(about)} · '
                + f"watchlist {html.escape(lead['watchlist'])}</p>"
                + "".join(
                    f'<blockquote style="{_CSS["quote"]}">{highlight_html(s, pattern)}</blockquote>'
                    for s in excerpt
                )
                + (
                    f'<p style="{_CSS["meta"]}">also reported by {html.escape(also)}: '
                    + ", ".join(_link_html(c["url"]) for c in copies)
                    + "</p>"
                    if copies
                    else ""
                )
                + _label_html(lead["article_id"], lead.get("story_id"))
                + "</div>",
            )
        )
    count = f"{len(stories)} flagged {'story' if len(stories) == 1 else 'stories'}"
    text = "\n".join([f"wirewatch digest: {count}", "", *lines])
    sections = []
    for tier in ("core", "mention"):
        for kind in ("incident", "measures", ""):
            cards = [card for (t, k), card in parts if t == tier and k == kind]
            if cards:
                heading = f"{tier}, {kind or 'other'} ({len(cards)})"
                sections.append(f'<p style="{_CSS["section"]}">{html.escape(heading)}</p>{"".join(cards)}')
    sections += [card for (t, _), card in parts if t not in ("core", "mention")]
    body = f'<h1 style="font-size:20px;margin:0 0 4px">wirewatch digest: {count}</h1>{"".join(sections)}'

    return _message(
        policy, digest["recipient"], digest["message_id"], f"[wirewatch] digest: {count}", text, body
    )


def _reasons(row: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(row.get("reasons") or "[]")


def compose_notice(row: dict[str, Any], policy: AlertPolicy) -> EmailMessage:
    """A health email: which sources changed state, and why."""
    lines = "".join(
        f"<li>{html.escape(line.strip())}</li>" for line in row["text"].splitlines() if line.startswith("  ")
    )
    heading = f'<p style="{_CSS["section"]};margin-top:0">sources whose state changed</p>'
    foot = f'<p style="{_CSS["foot"]}">`wirewatch status` shows every source.</p>'
    body = f'<div style="{_CSS["card"]}">{heading}<ul style="padding-left:18px">{lines}</ul>{foot}</div>'
    return _message(policy, row["recipient"], row["message_id"], row["subject"], row["text"], body)


_DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def compose_report(row: dict[str, Any], policy: AlertPolicy) -> EmailMessage:
    """The brief as an email: its page as the HTML part, each chart an inline image (mail
    clients show those, not data URIs), and a plain-text part saying where to read it."""
    charts: list[tuple[str, bytes]] = []

    def inline(match: re.Match[str]) -> str:
        cid = make_msgid("chart", policy.sender_domain)
        charts.append((cid, base64.b64decode(match[1])))
        return f'src="cid:{cid[1:-1]}"'

    page = _DATA_PNG.sub(inline, row["page"])
    start, end = (_local(row[k], policy) for k in ("period_start", "period_end"))
    msg = EmailMessage()
    msg["Subject"] = clean_header(f"[wirewatch] brief, {row['watchlist']}: {start} to {end}")
    msg["From"] = policy.sender
    msg["To"] = row["recipient"]
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = row["message_id"]
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        f"The wirewatch brief of {row['watchlist']} from {start} to {end} is the HTML part of this email,\n"
        "with its charts. `wirewatch report` writes the same page to a file.\n"
    )
    msg.add_alternative(page, subtype="html")
    rich = msg.get_body(("html",))
    if rich is None:
        raise RuntimeError("the brief's HTML part is missing")
    for cid, png in charts:
        rich.add_related(png, "image", "png", cid=cid)
    return msg
