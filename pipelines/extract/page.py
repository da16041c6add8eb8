"""Extraction: an article page's HTML in, a clean article (text and metadata) out, via trafilatura."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import py3langid
import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement, fromstring
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Document
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, HTML_PARSER, fromstring_bytes, load_html

from pipelines.core.dates import parse_date
from pipelines.core.records import Article
from pipelines.core.urls import normalize_url

logger = logging.getLogger(__name__)

# Fewer characters than this after extraction is not an article (a video page, a gallery, an
# index). Short wire items ("a few texts are very short") are still a few hundred.
MIN_TEXT_CHARS = 150
# The language is told from the first characters of the text: a paragraph is plenty, and the
# cost grows with the length.
LANGUAGE_SAMPLE = 400

# Ask htmldate for the time and the offset too, not just the day.
_DATE_PARAMS: dict[str, Any] = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
_NAIVE_MIDNIGHT = re.compile(r"T00:00:00$")
# The characters XML forbids (trafilatura's INVALID_XML_CHARS), which lxml refuses in a str.
_FORBIDDEN = tuple(map(chr, (*range(9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF)))


class ExtractionError(Exception):
    """The page holds no usable article; the message says why."""


def _same_site(url: str, allowed_domains: tuple[str, ...]) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


def choose_date(
    page_value: str | None,
    hint: datetime | None,
    fetched_at: datetime,
    tz: ZoneInfo,
) -> tuple[datetime | None, str]:
    """Pick the publication time: the page's own if it has a time, else the feed's, else the
    page's day; a candidate later than the fetch is never accepted."""
    page_day_only = bool(page_value and _NAIVE_MIDNIGHT.search(page_value))
    page = parse_date(page_value, tz)
    if page is not None and page > fetched_at:
        logger.debug("page date %s is after the fetch, ignored", page_value)
        page = None
    if hint is not None and hint > fetched_at:
        hint = None
    if page is not None and not page_day_only:
        return page, "page"
    if hint is not None:
        return hint, "feed"
    if page is not None:
        return page, "page-day"
    return None, "none"


def parse_html(html: str) -> HtmlElement | None:
    """A decoded page's tree, as trafilatura's `load_html` makes it (tests/test_stages.py
    compares the two), but for its removal of the characters XML forbids: a regular expression
    over the whole page, 0.6-0.8 ms of a 160 KB page (a twentieth of trafilatura's extraction),
    where looking for each of them takes 0.05 ms. A page holding one goes to `load_html`."""
    if any(c in html for c in _FORBIDDEN):
        return load_html(html)
    beginning = html[:50].lower()
    # libxml2 chokes on a "/" in a doctype (https://bugs.launchpad.net/lxml/+bug/1955915)
    if "doctype" in beginning:
        first, _, rest = html.partition("\n")
        html = DOCTYPE_TAG.sub("", first, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:  # a self-closing <html/> in the first lines
        if "<html" in line and line.endswith("/>"):
            html = FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    try:
        tree = fromstring(html, parser=HTML_PARSER)
    except Exception:  # an encoding declaration in a str (ValueError), or markup lxml refuses
        tree = None
    if tree is None or len(tree) < 1:  # then as bytes
        tree = fromstring_bytes(html)
    if tree is not None and "html" not in beginning and len(tree) < 2:
        return None  # not HTML at all
    return tree


def page_metadata(tree: HtmlElement, url: str) -> Document:
    """trafilatura's `extract_metadata`, for what an article keeps: title, author, canonical URL
    and date (htmldate, asked for the time too). Its scans for categories, tags, site name and
    licence are left out: on a WordPress page, with menus and footers full of links, they cost
    about a third of the whole extraction. tests/test_stages.py checks that the fields agree
    with `extract_metadata`'s."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as exc:  # trafilatura's own guard: its JSON-LD reader has bugs
        logger.debug("JSON-LD metadata of %s unreadable: %s", url, exc)
    if not meta.title:
        meta.title = extract_title(tree)
    if not meta.author:
        meta.author = extract_author(tree)
    if not meta.url:
        meta.url = extract_url(tree, url)
    meta.date = find_date(tree, **{**_DATE_PARAMS, "url": meta.url})
    meta.clean_and_trim()
    return meta


def extract(html: str, url: str, **options: Any) -> Article:
    """Extract the article of one page; raise ExtractionError when there is none. The options
    are `extract_checked`'s (without ``check``)."""
    article, _ = extract_checked(html, url, **options)
    return article


def extract_checked(
    html: str,
    url: str,
    *,
    fetched_at: datetime,
    allowed_domains: tuple[str, ...],
    timezone: str = "UTC",
    language: str = "en",
    hint_published: datetime | None = None,
    hint_title: str | None = None,
    favor: str = "balanced",
    boilerplate: tuple[re.Pattern[str], ...] = (),
    fallback: bool = True,
    check: bool = False,
) -> tuple[Article, bool | None]:
    """Extract the article of one page: (the article, whether a check agreed; None unchecked);
    raise ExtractionError when there is none.

    ``favor`` ("precision" or "recall"), ``boilerplate`` (patterns of lines that are not the
    story, e.g. a copyright line) and ``fallback`` (False: trust trafilatura's own extractor
    and skip its comparison with readability and jusText, a third of its CPU) are the
    source's hints from its seed file. With ``check`` the text is also extracted the other way
    and compared (pipelines/extract/modes.py); the article is always the ``fallback``
    extraction's, and a check costs the second extraction only (the page is parsed and its
    metadata read once)."""
    if not html or not html.strip():
        raise ExtractionError("empty page")
    try:
        tree = parse_html(html)
        if tree is None:
            raise ExtractionError("not an HTML document")
        meta = page_metadata(tree, url)
        doc = _main_text(tree, url, favor, fast=not fallback)
    except ExtractionError:
        raise
    except Exception as exc:  # trafilatura and lxml raise many kinds on hostile markup
        raise ExtractionError(f"extractor failed: {type(exc).__name__}: {exc}") from exc
    if doc is None:
        raise ExtractionError("no main text found")
    title = (meta.title or hint_title or "").strip()
    text = _story_text(doc, title, boilerplate)
    if len(text) < MIN_TEXT_CHARS:
        raise ExtractionError(f"text too short ({len(text)} characters, fewer than {MIN_TEXT_CHARS})")
    if not title:
        raise ExtractionError("no title found")
    agreed: bool | None = None
    if check:
        try:
            other = _main_text(tree, url, favor, fast=fallback)
        except Exception as exc:  # as above: the other way failing is a difference, not an error
            logger.debug("checking %s without the fallback failed: %s", url, exc)
            other = None
        agreed = other is not None and _story_text(other, title, boilerplate) == text

    canonical = normalize_url(url)
    if meta.url and meta.url.startswith(("http://", "https://")) and _same_site(meta.url, allowed_domains):
        canonical = normalize_url(meta.url)

    tz = ZoneInfo(timezone)
    published, date_source = choose_date(meta.date, hint_published, fetched_at, tz)
    detected, _ = py3langid.classify(text[:LANGUAGE_SAMPLE])
    article = Article(
        url=canonical,
        title=title,
        author=(meta.author or None),
        published_at=published,
        date_source=date_source,
        language=detected or language,
        text=text,
        content_hash=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
    )
    return article, agreed


def _main_text(tree: HtmlElement, url: str, favor: str, fast: bool) -> Document | None:
    """trafilatura's main text of a parsed page (it works on a copy), or None."""
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=False,
        favor_precision=favor == "precision",
        favor_recall=favor == "recall",
        fast=fast,
    )
    return doc if isinstance(doc, Document) and doc.text else None


def _story_text(doc: Document, title: str, boilerplate: tuple[re.Pattern[str], ...]) -> str:
    """The story's text: without boilerplate lines, and without the title as its first line."""
    text = (doc.text or "").strip()
    if boilerplate:
        text = "\n".join(line for line in text.split("\n") if not any(p.search(line) for p in boilerplate))
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:
        text = rest.strip()
    return text
