"""Seed files: one TOML file per news outlet, loaded into validated Source objects."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipelines.core.validation import ConfigError, Problems, check_keys, parse_duration, read_toml, toml_files


@dataclass(frozen=True)
class Listing:
    """A section listing page and how to reach its older pages."""

    url: str
    page_url: str | None = None  # template for page n >= 2, e.g. ".../national/page/{n}/"
    max_pages: int = 10


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    file: str
    allowed_domains: tuple[str, ...]
    language: str
    timezone: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[Listing, ...] = ()
    article_allow: tuple[re.Pattern[str], ...] = ()
    article_deny: tuple[re.Pattern[str], ...] = ()
    max_age: timedelta | None = None
    download_delay: float | None = None
    concurrent_requests_per_domain: int | None = None
    enabled: bool = True
    # Site-specific extraction hints ([extraction] in the seed file):
    favor: str = "balanced"  # trafilatura: "precision" (less boilerplate) or "recall" (less loss)
    boilerplate: tuple[re.Pattern[str], ...] = ()  # lines of extracted text that are not the story
    fallback: bool = True  # trafilatura's readability and jusText comparison (a third of its CPU)

    def __repr__(self) -> str:  # Scrapy logs its settings; keep that line short
        return f"<Source {self.id} from {self.file}>"

    def is_article(self, url: str) -> bool:
        """True when the URL matches an allow pattern and no deny pattern."""
        return any(p.search(url) for p in self.article_allow) and not any(
            p.search(url) for p in self.article_deny
        )


_TOP_KEYS = {
    "id",
    "title",
    "language",
    "timezone",
    "allowed_domains",
    "max_age",
    "feeds",
    "sitemaps",
    "listings",
    "articles",
    "politeness",
    "enabled",
    "extraction",
}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _url(value: Any, key: str, domains: tuple[str, ...], problems: Problems) -> str | None:
    if not isinstance(value, str):
        problems.add(key, f"expected a URL string, got {value!r}")
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(key, f"not an http(s) URL: {value!r}")
        return None
    host = parts.hostname
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        problems.add(key, f"host {host!r} is outside allowed_domains {list(domains)}")
        return None
    return value


def _strings(data: dict[str, Any], key: str, problems: Problems, prefix: str = "") -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(prefix + key, f"expected a list of strings, got {value!r}")
        return []
    return value


def _patterns(values: list[str], key: str, problems: Problems) -> tuple[re.Pattern[str], ...]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(re.compile(value))
        except re.error as exc:
            problems.add(f"{key}[{i}]", f"bad regular expression {value!r}: {exc}")
    return tuple(out)


def parse_source(data: dict[str, Any], path: Path | str) -> Source:
    """Validate one seed's parsed TOML; raise ConfigError listing every problem."""
    problems = Problems(path)
    check_keys(data, _TOP_KEYS, "", problems)
    for key in ("id", "title", "allowed_domains"):
        if key not in data:
            problems.add(key, "missing (required)")
    source_id = data.get("id", "")
    if not isinstance(source_id, str) or not _ID.match(source_id):
        problems.add("id", f"expected lower-case letters, digits, '-' or '_', got {source_id!r}")
    domains = tuple(d.lower().lstrip(".") for d in _strings(data, "allowed_domains", problems))
    if "allowed_domains" in data and not domains:
        problems.add("allowed_domains", "must name at least one domain")

    feeds = [
        _url(u, f"feeds[{i}]", domains, problems) for i, u in enumerate(_strings(data, "feeds", problems))
    ]
    sitemaps = [
        _url(u, f"sitemaps[{i}]", domains, problems)
        for i, u in enumerate(_strings(data, "sitemaps", problems))
    ]
    listings = []
    raw_listings = data.get("listings", [])
    if not isinstance(raw_listings, list):
        problems.add("listings", "expected an array of tables ([[listings]])")
        raw_listings = []
    for i, item in enumerate(raw_listings):
        key = f"listings[{i}]"
        if not isinstance(item, dict):
            problems.add(key, "expected a table with url, page_url, max_pages")
            continue
        check_keys(item, {"url", "page_url", "max_pages"}, f"{key}.", problems)
        url = _url(item.get("url"), f"{key}.url", domains, problems)
        page_url = item.get("page_url")
        if (
            page_url is not None
            and _url(page_url, f"{key}.page_url", domains, problems)
            and "{n}" not in page_url
        ):
            problems.add(f"{key}.page_url", "must contain {n}, the page number")
        max_pages = item.get("max_pages", 10)
        if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
            problems.add(f"{key}.max_pages", f"expected a positive integer, got {max_pages!r}")
        if url:
            listings.append(Listing(url, page_url, max_pages if isinstance(max_pages, int) else 10))
    if not (feeds or sitemaps or listings) and not problems.items:
        problems.add("", "a source needs at least one of feeds, sitemaps or listings")

    articles = data.get("articles", {})
    if not isinstance(articles, dict):
        problems.add("articles", "expected a table with allow and deny lists")
        articles = {}
    check_keys(articles, {"allow", "deny"}, "articles.", problems)
    allow = _patterns(_strings(articles, "allow", problems, "articles."), "articles.allow", problems)
    deny = _patterns(_strings(articles, "deny", problems, "articles."), "articles.deny", problems)
    if not allow and "allow" not in articles:
        problems.add("articles.allow", "missing: which URLs are articles (regular expressions)")

    timezone = data.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        problems.add("timezone", f"unknown time zone {timezone!r} (use a name like 'Asia/Karachi')")
    language = data.get("language", "en")
    if not isinstance(language, str) or not re.match(r"^[a-z]{2,3}$", language):
        problems.add("language", f"expected an ISO 639-1 code like 'en', got {language!r}")
    max_age = None
    if "max_age" in data:
        try:
            max_age = parse_duration(data["max_age"])
        except ValueError as exc:
            problems.add("max_age", str(exc))

    polite = data.get("politeness", {})
    if not isinstance(polite, dict):
        problems.add("politeness", "expected a table")
        polite = {}
    check_keys(polite, {"download_delay", "concurrent_requests_per_domain"}, "politeness.", problems)
    delay = polite.get("download_delay")
    if delay is not None and (not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0):
        problems.add("politeness.download_delay", f"expected seconds >= 0, got {delay!r}")
    concurrency = polite.get("concurrent_requests_per_domain")
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 4
    ):
        problems.add("politeness.concurrent_requests_per_domain", f"expected 1 to 4, got {concurrency!r}")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add("enabled", f"expected true or false, got {enabled!r}")
    for key in ("title",):
        if key in data and not isinstance(data[key], str):
            problems.add(key, f"expected a string, got {data[key]!r}")
    extraction = data.get("extraction", {})
    if not isinstance(extraction, dict):
        problems.add("extraction", "expected a table with favor, boilerplate and fallback")
        extraction = {}
    check_keys(extraction, {"favor", "boilerplate", "fallback"}, "extraction.", problems)
    favor = extraction.get("favor", "balanced")
    if favor not in ("balanced", "precision", "recall"):
        problems.add("extraction.favor", f"expected balanced, precision or recall, got {favor!r}")
    boilerplate = _patterns(
        _strings(extraction, "boilerplate", problems, "extraction."), "extraction.boilerplate", problems
    )
    fallback = extraction.get("fallback", True)
    if not isinstance(fallback, bool):
        problems.add("extraction.fallback", f"expected true or false, got {fallback!r}")
    problems.raise_if_any()

    return Source(
        id=source_id,
        title=data["title"],
        file=str(path),
        allowed_domains=domains,
        language=language,
        timezone=timezone,
        feeds=tuple(u for u in feeds if u),
        sitemaps=tuple(u for u in sitemaps if u),
        listings=tuple(listings),
        article_allow=allow,
        article_deny=deny,
        max_age=max_age,
        download_delay=delay,
        concurrent_requests_per_domain=concurrency,
        enabled=enabled,
        favor=favor,
        boilerplate=boilerplate,
        fallback=fallback,
    )


def parse_source_text(text: str, path: Path | str) -> Source:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_source(data, path)


def load_sources(paths: tuple[Path, ...]) -> list[Source]:
    """Load every seed file; raise one ConfigError listing the problems of all of them."""
    sources: list[Source] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for file in toml_files(paths, "seed"):
        try:
            source = parse_source(read_toml(file), file)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if source.id in seen:
            problems.append(f"{file}: id: {source.id!r} is already used by {seen[source.id]}")
            continue
        seen[source.id] = str(file)
        sources.append(source)
    if problems:
        raise ConfigError(problems)
    if not sources:
        raise ConfigError([f"{', '.join(map(str, paths))}: no seed files (*.toml) found"])
    return sources


def select(sources: list[Source], names: tuple[str, ...]) -> list[Source]:
    """The enabled sources, or those named (enabled or not); unknown names are an error."""
    if not names:
        return [s for s in sources if s.enabled]
    by_id = {s.id: s for s in sources}
    unknown = [n for n in names if n not in by_id]
    if unknown:
        raise ConfigError([f"--source: unknown source {', '.join(unknown)} (known: {', '.join(by_id)})"])
    return [by_id[n] for n in names]
