"""Finding story links in RSS/Atom feeds, XML sitemaps and section listing pages.

Pure functions: bytes or text in, links out. A broken document raises DiscoveryError with a
message for the operator; a damaged one that still yields links returns them with a warning.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from urllib.parse import urljoin

import feedparser
from lxml import etree
from parsel import Selector

from pipelines.core.dates import parse_date


class DiscoveryError(Exception):
    """A feed, sitemap or listing that yields nothing usable."""


@dataclass(frozen=True)
class Link:
    url: str
    published: datetime | None = None
    title: str | None = None


@dataclass(frozen=True)
class Found:
    """What one discovery document yielded."""

    links: list[Link]
    sitemaps: list[Link]  # sub-sitemaps of a sitemap index
    next_page: str | None = None
    warning: str | None = None


# feedparser "bozo" conditions that do not make a feed unreliable.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def parse_feed(body: bytes, url: str, content_type: str = "application/xml") -> Found:
    """Links of an RSS or Atom feed."""
    feed = feedparser.parse(body, response_headers={"content-location": url, "content-type": content_type})
    links = []
    for entry in feed.entries:
        link = entry.get("link")
        if not link:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime(*stamp[:6]).replace(tzinfo=UTC) if stamp else None
        links.append(Link(link, published, entry.get("title")))
    problem = None
    if feed.bozo and not isinstance(feed.get("bozo_exception"), _HARMLESS):
        problem = f"malformed feed: {feed.get('bozo_exception')}"
    if not links:
        if problem:
            raise DiscoveryError(f"not a usable RSS/Atom feed ({problem})")
        if not feed.version:
            raise DiscoveryError("not an RSS/Atom feed")
    return Found(links, [], warning=problem if links and problem else None)


_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def _xml_root(body: bytes) -> tuple[etree._Element, str | None]:
    # No entity expansion, no network, no huge trees: an entity bomb parses to nothing.
    strict = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(body, parser=strict), None
    except etree.XMLSyntaxError as exc:
        loose = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
        try:
            root = etree.fromstring(body, parser=loose)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise DiscoveryError(f"not XML: {exc}") from None
        return root, f"damaged XML, read what could be recovered: {exc}"


def maybe_gunzip(body: bytes, max_size: int) -> bytes:
    """Sitemaps may be served as raw .xml.gz files (Content-Encoding is Scrapy's business).

    Decompresses at most ``max_size`` bytes, so a gzip bomb costs nothing.
    """
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_size + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"broken gzip data: {exc}") from None
    if len(data) > max_size:
        raise DiscoveryError(f"gzip data expands beyond the {max_size}-byte limit")
    return data


def parse_sitemap(body: bytes, default_tz: tzinfo = UTC) -> Found:
    """Pages of a urlset (Google News sitemaps included) or sitemaps of a sitemap index."""
    root, warning = _xml_root(body)
    kind = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap (root element <{kind or root.tag}>)")
    entries = []
    for element in root:
        loc = element.findtext(f"{_SITEMAP_NS}loc") or element.findtext("loc")
        if not loc or not loc.strip():
            continue
        date = element.findtext(f"{_NEWS_NS}news/{_NEWS_NS}publication_date") or element.findtext(
            f"{_SITEMAP_NS}lastmod"
        )
        title = element.findtext(f"{_NEWS_NS}news/{_NEWS_NS}title")
        entries.append(Link(loc.strip(), parse_date(date, default_tz), title))
    if kind == "sitemapindex":
        return Found([], entries, warning=warning)
    return Found(entries, [], warning=warning)


def parse_listing(text: str, url: str, default_tz: tzinfo = UTC) -> Found:
    """Links of a section listing, dated where a teaser carries a ``<time datetime>``."""
    page = Selector(text=text)
    dated: dict[str, datetime] = {}
    for teaser in page.css("article, .post, li"):
        stamp = parse_date(teaser.css("time::attr(datetime)").get(), default_tz)
        if stamp is None:
            continue
        for href in teaser.css("a::attr(href)").getall():
            dated.setdefault(urljoin(url, href.strip()), stamp)
    links, seen = [], set()
    for href in page.css("a::attr(href)").getall():
        absolute = urljoin(url, href.strip())
        if absolute.startswith(("http://", "https://")) and absolute not in seen:
            seen.add(absolute)
            links.append(Link(absolute, dated.get(absolute)))
    next_href = page.css('link[rel="next"]::attr(href), a[rel="next"]::attr(href), a.next::attr(href)').get()
    return Found(links, [], next_page=urljoin(url, next_href.strip()) if next_href else None)
