"""A generated WordPress-style news site of N stories, for benchmarks.

Pages weigh 100-250 KB like real ones (inline CSS and scripts, mega menus, sidebars,
related stories, comment forms); the site has RSS feeds, a sitemap index with monthly post
sitemaps and a news sitemap, and a paginated section listing. `add` appends stories and
rewrites only the index files that change, so a server that derives ETags from file
modification times answers 304 for everything else.
"""

from __future__ import annotations

import html
import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

WORDS = (
    "government minister said province federal project development meeting officials economic "
    "national security education health water energy growth reform provincial assembly court "
    "police district budget investment trade exports farmers wheat cotton prices inflation bank "
    "policy committee chairman senator karachi lahore islamabad peshawar quetta multan power "
    "electricity gas network road construction university students teachers hospital doctors "
    "citizens public services progress completion funds billion million rupees percent year "
    "week month sources agency report review plan framework strategy cooperation partners "
    "international delegation visit talks agreement memorandum signed launched inaugurated"
).split()
SECTIONS = ("national", "business", "world", "sports")
CPEC_SENTENCES = (
    "Security of Chinese nationals working on CPEC projects was reviewed and new SOPs were approved.",
    "Gunmen attacked a convoy of Chinese engineers near the Dasu hydropower project, police said.",
)
PER_LISTING_PAGE = 20
PER_SITEMAP = 1000


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(12, 28))
    return " ".join(words).capitalize() + "."


def _story(i: int, published: datetime) -> dict[str, object]:
    rng = random.Random(i)
    title = " ".join(rng.choices(WORDS, k=rng.randint(6, 11))).capitalize() + f" ({i})"
    paragraphs = [
        " ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(6, 14))
    ]
    if i % 20 == 0:  # one story in twenty is about the watchlist's subject
        paragraphs.insert(1, CPEC_SENTENCES[i % 40 // 20])
    slug = "-".join(title.lower().replace("(", "").replace(")", "").split()[:8]) + f"-{i}"
    return {
        "i": i,
        "title": title,
        "section": SECTIONS[i % len(SECTIONS)],
        "slug": slug,
        "published": published.isoformat(),
        "paragraphs": paragraphs,
        "weight": rng.randint(100, 250),
    }


def _url(base: str, story: dict[str, object]) -> str:
    return f"{base}/{story['section']}/{story['slug']}/"


def _chrome(
    base: str, rng: random.Random, size_kb: int, stories: list[dict[str, object]]
) -> tuple[str, str, str]:
    """Head extras, header and footer of the theme, padded to about ``size_kb``."""
    menu = "".join(
        f'<li class="menu-item"><a href="{base}/category/{w}-{k}/">{w.title()} {k}</a></li>'
        for k, w in enumerate(rng.choices(WORDS, k=140))
    )
    latest = "".join(
        f'<li><a href="{_url(base, s)}">{html.escape(str(s["title"]))}</a></li>' for s in stories[:30]
    )
    css = "".join(
        f".c{k}{{margin:{k % 7}px;padding:{k % 5}px;color:#{k * 2654435761 % 16777216:06x}}}"
        for k in range(size_kb * 9)
    )
    script = json.dumps({"l10n": {f"key{k}": " ".join(rng.choices(WORDS, k=6)) for k in range(size_kb * 6)}})
    head = f"<style id='theme-inline-css'>{css}</style><script>var wpData = {script};</script>"
    header = (
        f'<div class="top-bar"><a href="{base}/">Home</a> | <a href="{base}/about-us/">About</a></div>'
        f'<header id="masthead"><a class="logo" href="{base}/">Bench Press</a><nav><ul class="menu">{menu}</ul></nav></header>'
        f'<div class="ticker">{latest}</div>'
    )
    footer = (
        f'<aside id="sidebar"><h3>Latest news</h3><ul>{latest}</ul></aside>'
        f"<footer><ul>{menu}</ul><p>Copyright Bench Press. All rights reserved.</p></footer>"
    )
    return head, header, footer


def article_page(base: str, story: dict[str, object], recent: list[dict[str, object]]) -> str:
    rng = random.Random(-int(story["i"]))  # type: ignore[call-overload]
    head, header, footer = _chrome(base, rng, int(story["weight"]) - 22, recent)  # type: ignore[call-overload]
    title = html.escape(str(story["title"]))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in story["paragraphs"])  # type: ignore[attr-defined]
    related = "".join(
        f'<li><a href="{_url(base, s)}">{html.escape(str(s["title"]))}</a></li>' for s in recent[:6]
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": story["title"],
            "datePublished": story["published"],
            "author": {"@type": "Person", "name": "Staff Reporter"},
        }
    )
    return (
        f'<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8"><title>{title} - Bench Press</title>'
        f'<link rel="canonical" href="{_url(base, story)}">'
        f'<meta property="og:title" content="{title}"><meta property="article:published_time" content="{story["published"]}">'
        f'<script type="application/ld+json">{ld}</script>{head}</head><body>{header}'
        f'<main><article class="post"><h1 class="entry-title">{title}</h1>'
        f'<div class="byline">By Staff Reporter <time datetime="{story["published"]}">{story["published"]}</time></div>'
        f'<div class="entry-content">{body}</div><div class="share">Share: Facebook Twitter WhatsApp</div>'
        f'<section class="related"><h3>Related</h3><ul>{related}</ul></section>'
        f'<form id="commentform"><textarea name="comment"></textarea><input type="submit" value="Post Comment"></form>'
        f"</article></main>{footer}</body></html>"
    )


def _write(path: Path, text: str) -> bool:
    """Write only when the content changed, so unchanged files keep their ETag."""
    data = text.encode()
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _indexes(root: Path, base: str, stories: list[dict[str, object]], now: datetime) -> None:
    newest = sorted(stories, key=lambda s: str(s["published"]), reverse=True)
    items = "".join(
        f"<item><title>{html.escape(str(s['title']))}</title><link>{_url(base, s)}</link>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(str(s['published'])))}</pubDate></item>"
        for s in newest[:50]
    )
    _write(
        root / "feed/index.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>',
    )
    chunks = [
        sorted(stories, key=lambda s: int(s["i"]))[k : k + PER_SITEMAP]
        for k in range(0, len(stories), PER_SITEMAP)
    ]  # type: ignore[call-overload]
    entries = []
    for n, chunk in enumerate(chunks, 1):
        urls = "".join(
            f"<url><loc>{_url(base, s)}</loc><lastmod>{s['published']}</lastmod></url>" for s in chunk
        )
        _write(
            root / f"post-sitemap{n}.xml",
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        )
        last = max(str(s["published"]) for s in chunk)
        entries.append(f"<sitemap><loc>{base}/post-sitemap{n}.xml</loc><lastmod>{last}</lastmod></sitemap>")
    entries.append(f"<sitemap><loc>{base}/news-sitemap.xml</loc></sitemap>")
    _write(
        root / "sitemap_index.xml",
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{"".join(entries)}</sitemapindex>',
    )
    recent = [s for s in newest if datetime.fromisoformat(str(s["published"])) > now - timedelta(hours=48)][
        :1000
    ]
    news = "".join(
        f"<url><loc>{_url(base, s)}</loc><news:news><news:publication_date>{s['published']}</news:publication_date>"
        f"<news:title>{html.escape(str(s['title']))}</news:title></news:news></url>"
        for s in recent
    )
    _write(
        root / "news-sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{news}</urlset>',
    )
    rng = random.Random(7)
    head, header, footer = _chrome(base, rng, 60, newest)
    pages = [newest[k : k + PER_LISTING_PAGE] for k in range(0, len(newest), PER_LISTING_PAGE)]
    for n, page in enumerate(pages, 1):
        teasers = "".join(
            f'<article class="post"><h2><a href="{_url(base, s)}">{html.escape(str(s["title"]))}</a></h2>'
            f'<time datetime="{s["published"]}">{s["published"]}</time><p>{html.escape(str(s["paragraphs"][0])[:200])}</p></article>'  # type: ignore[index]
            for s in page
        )
        nav = f'<a class="next" href="{base}/news/page/{n + 1}/">Next</a>' if n < len(pages) else ""
        path = root / ("news/index.html" if n == 1 else f"news/page/{n}/index.html")
        _write(
            path,
            f"<!DOCTYPE html><html><head><title>News</title>{head}</head><body>{header}<main>{teasers}{nav}</main>{footer}</body></html>",
        )


def build(
    root: Path, base: str, count: int, now: datetime | None = None, span: timedelta = timedelta(hours=48)
) -> list[Path]:
    """Generate (or extend) the site to ``count`` stories, published over ``span`` up to
    ``now``; returns the article files written."""
    now = now or datetime.now(UTC)
    state = root / "stories.json"
    stories: list[dict[str, object]] = json.loads(state.read_text()) if state.exists() else []
    written = []
    existing = len(stories)
    step = span / max(count, 1)
    stories += [_story(i, now - step * (count - 1 - i)) for i in range(existing, count)]
    recent = sorted(stories, key=lambda s: str(s["published"]), reverse=True)[:30]
    for story in stories[existing:]:
        path = root / str(story["section"]) / str(story["slug"]) / "index.html"
        if _write(path, article_page(base, story, recent)):
            written.append(path)
    _indexes(root, base, stories, now)
    state.write_text(json.dumps(stories))
    return written


def article_files(root: Path) -> list[Path]:
    return sorted(p for section in SECTIONS for p in (root / section).glob("*/index.html"))


def seed(base: str) -> str:
    return (
        'id = "bench"\ntitle = "Bench Press (generated)"\nallowed_domains = ["127.0.0.1"]\ntimezone = "Asia/Karachi"\n'
        f'max_age = "3d"\nfeeds = ["{base}/feed/"]\nsitemaps = ["{base}/sitemap_index.xml"]\n'
        f'[[listings]]\nurl = "{base}/news/"\npage_url = "{base}/news/page/{{n}}/"\nmax_pages = 1000\n'
        "[articles]\nallow = ['/(national|business|world|sports)/[a-z0-9-]+/$']\n"
    )
