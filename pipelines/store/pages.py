"""Where articles' pages are kept in web archives, and extraction redone from them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pipelines.core.dates import iso_utc
from pipelines.core.records import Article
from pipelines.core.text import clean_text
from pipelines.store.connection import Connection
from pipelines.store.schema import none_if


@dataclass(frozen=True)
class ArchivedArticle:
    """What extracting an article again needs: its page's place and what the crawl knew."""

    id: int
    source: str
    url: str
    title: str
    published_at: datetime | None
    date_source: str
    fetched_at: datetime
    file: str | None  # None: no archived page
    offset: int | None


class Pages(Connection):
    def set_page(self, article_id: int, file: str, offset: int) -> None:
        """Remember where an article's page is (in the caller's unit)."""
        with self.write() as db:
            db.execute(
                "INSERT INTO article_pages (article_id, file, offset) VALUES (?, ?, ?) "
                "ON CONFLICT (article_id) DO UPDATE SET file = excluded.file, offset = excluded.offset",
                [article_id, file, offset],
            )

    def archived_articles(
        self, source: str | None = None, since: datetime | None = None, after: int = 0, batch: int = 200
    ) -> Iterator[list[ArchivedArticle]]:
        """Articles in id order with their page's place (None when none is kept), ``batch`` at a
        time, each batch read afresh."""
        where, params = "", []
        if source:
            where += " AND a.source = ?"
            params.append(source)
        if since:
            where += " AND coalesce(a.published_at, a.fetched_at) >= ?"
            params.append(iso_utc(since))
        while True:
            rows = self.db.execute(
                "SELECT a.id, a.source, a.url, a.title, a.published_at, a.date_source, a.fetched_at, "
                "p.file, p.offset FROM articles a LEFT JOIN article_pages p ON p.article_id = a.id "
                f"WHERE a.id > ? {where} ORDER BY a.id LIMIT ?",
                [after, *params, batch],
            ).fetchall()
            if not rows:
                return
            yield [
                ArchivedArticle(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    datetime.fromisoformat(r[4]) if r[4] else None,
                    r[5],
                    datetime.fromisoformat(r[6]),
                    r[7],
                    r[8],
                )
                for r in rows
            ]
            after = rows[-1][0]

    def replace_extraction(self, article_id: int, article: Article) -> bool:
        """Put a new extraction of a stored article in place of the old (its URL and story stay);
        True when anything changed."""
        with self.write() as db:
            before = db.execute(
                "SELECT title, author, published_at, date_source, language, text FROM articles WHERE id = ?",
                [article_id],
            ).fetchone()
            after = (
                article.title,
                article.author,
                iso_utc(article.published_at) if article.published_at else None,
                article.date_source,
                article.language,
                article.text,
            )
            if before is None or tuple(before) == after:
                return False
            db.execute(
                "UPDATE articles SET title = ?, author = ?, published_at = ?, date_source = ?, "
                "language = ?, text = ?, content_hash = ?, match_title = ?, match_text = ? WHERE id = ?",
                [
                    *after,
                    article.content_hash,
                    none_if(clean_text(article.title), article.title),
                    none_if(clean_text(article.text), article.text),
                    article_id,
                ],
            )
        return True
