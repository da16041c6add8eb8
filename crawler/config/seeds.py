"""Seed files: one TOML file per news outlet, loaded into validated Source objects."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipelines.core.models import Duration, Model, Regex, Seconds, TimeZoneName, validated
from pipelines.core.validation import ConfigError, read_toml, toml_files

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"expected lower-case letters, digits, '-' or '_', got {value!r}")
    return value


def _language(value: str) -> str:
    if not _LANGUAGE.match(value):
        raise ValueError(f"expected an ISO 639-1 code like 'en', got {value!r}")
    return value


def _site_url(value: str, info: ValidationInfo) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    host = parts.hostname
    domains = (info.context or {}).get("domains", ())
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        raise ValueError(f"host {host!r} is outside allowed_domains {list(domains)}")
    return value


# An http(s) URL on one of the seed's allowed_domains (Source puts them in the context).
SiteUrl = Annotated[StrictStr, AfterValidator(_site_url)]


class Listing(Model):
    """A section listing page and how to reach its older pages."""

    url: SiteUrl
    page_url: SiteUrl | None = None  # template for page n >= 2, e.g. ".../national/page/{n}/"
    max_pages: Annotated[StrictInt, Field(ge=1)] = 10

    @field_validator("page_url")
    @classmethod
    def _numbered(cls, value: str | None) -> str | None:
        if value is not None and "{n}" not in value:
            raise ValueError("must contain {n}, the page number")
        return value


class Articles(Model):
    allow: tuple[Regex, ...] = Field(description="which URLs are articles (regular expressions)")
    deny: tuple[Regex, ...] = ()


class Politeness(Model):
    download_delay: Seconds | None = None
    concurrent_requests_per_domain: Annotated[StrictInt, Field(ge=1, le=4)] | None = None


class Extraction(Model):
    """Site-specific hints for trafilatura."""

    favor: Literal["balanced", "precision", "recall"] = "balanced"  # less boilerplate, or less loss
    boilerplate: tuple[Regex, ...] = ()  # lines of extracted text that are not the story
    # trafilatura's readability and jusText comparison (a third of its CPU): True always, False
    # never, unset: learnt from the source's pages (pipelines/extract/modes.py)
    fallback: StrictBool | None = None


class Source(Model):
    """One seed file: a news outlet, where to find its stories and how to treat them."""

    id: Annotated[StrictStr, AfterValidator(_id)]
    title: StrictStr
    # Before the URLs: its validator hands the domains to theirs.
    allowed_domains: Annotated[tuple[StrictStr, ...], Field(min_length=1)]
    language: Annotated[StrictStr, AfterValidator(_language)] = "en"
    timezone: TimeZoneName = "UTC"
    max_age: Duration | None = None
    feeds: tuple[SiteUrl, ...] = ()
    sitemaps: tuple[SiteUrl, ...] = ()
    listings: tuple[Listing, ...] = ()
    articles: Articles = Field(default_factory=dict, validate_default=True)
    politeness: Politeness = Politeness()
    enabled: StrictBool = True
    # "browser": every page rendered by headless Chromium (pages that need JavaScript, or a bot
    # check that a browser passes); "plain": Scrapy's HTTP client, far cheaper.
    fetch: Literal["plain", "browser"] = "plain"
    extraction: Extraction = Extraction()
    _file: str = PrivateAttr("")

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        domains = tuple(d.lower().lstrip(".") for d in value)
        if info.context is not None:
            info.context["domains"] = domains
        return domains

    @model_validator(mode="after")
    def _somewhere_to_start(self) -> Source:
        if not (self.feeds or self.sitemaps or self.listings):
            raise ValueError("a source needs at least one of feeds, sitemaps or listings")
        return self

    def __repr__(self) -> str:  # Scrapy logs its settings; keep that line short
        return f"<Source {self.id} from {self.file}>"

    def is_article(self, url: str) -> bool:
        """True when the URL matches an allow pattern and no deny pattern."""
        return any(p.search(url) for p in self.article_allow) and not any(
            p.search(url) for p in self.article_deny
        )

    @property
    def file(self) -> str:
        return self._file

    @property
    def article_allow(self) -> tuple[re.Pattern[str], ...]:
        return self.articles.allow

    @property
    def article_deny(self) -> tuple[re.Pattern[str], ...]:
        return self.articles.deny

    @property
    def download_delay(self) -> float | None:
        return self.politeness.download_delay

    @property
    def concurrent_requests_per_domain(self) -> int | None:
        return self.politeness.concurrent_requests_per_domain

    @property
    def favor(self) -> str:
        return self.extraction.favor

    @property
    def boilerplate(self) -> tuple[re.Pattern[str], ...]:
        return self.extraction.boilerplate

    @property
    def fallback(self) -> bool | None:
        """The seed's explicit fallback setting; None: learn it."""
        return self.extraction.fallback


def parse_source(data: dict[str, Any], path: Path | str) -> Source:
    """Validate one seed's parsed TOML; raise ConfigError listing every problem."""
    source = validated(Source, data, path, context={})
    source._file = str(path)
    return source


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


def source_of(sources: list[Source], url: str) -> Source | None:
    """The source a (normalised) URL belongs to: its host in the source's allowed_domains and
    the URL matching its story patterns, as a crawl decides which links are stories."""
    host = (urlsplit(url).hostname or "").lower()
    for source in sources:
        if any(host == d or host.endswith("." + d) for d in source.allowed_domains) and source.is_article(
            url
        ):
            return source
    return None


def select(sources: list[Source], names: tuple[str, ...]) -> list[Source]:
    """The enabled sources, or those named (enabled or not); unknown names are an error."""
    if not names:
        return [s for s in sources if s.enabled]
    by_id = {s.id: s for s in sources}
    unknown = [n for n in names if n not in by_id]
    if unknown:
        raise ConfigError([f"--source: unknown source {', '.join(unknown)} (known: {', '.join(by_id)})"])
    return [by_id[n] for n in names]
