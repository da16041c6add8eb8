"""Stories (events) and the index the stories stage groups articles by, plus regrouping progress.

The stage (pipelines/stories) decides; these methods only read and write what it decided,
in the caller's unit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pipelines.store.connection import Connection, now_iso

_INDEXES = {"bands": "story_bands", "names": "story_keys"}
# What regrouping clears, with the columns that identify a row (two tables have no rowid).
_GROUPING = {
    "story_bands": "key, day, article_id",
    "story_keys": "key, day, article_id",
    "story_links": "story_id, key",
    "story_names": "rowid",
    "stories": "rowid",
}
CLEAR_ROWS = 20_000  # rows cleared per transaction when regrouping starts


class Stories(Connection):
    def story_candidates(
        self, index: str, keys: list[int], day: int, days: int, before: int
    ) -> list[tuple[int, int]]:
        """(key, article id) of earlier articles (id below ``before``) sharing a key of the
        ``bands`` (near-duplicate) or ``names`` index within ``days`` days of ``day``."""
        if not keys:
            return []
        table = _INDEXES[index]
        rows = self.db.execute(
            f"SELECT key, article_id FROM {table} WHERE key IN ({','.join('?' * len(keys))}) "
            "AND day BETWEEN ? AND ? AND article_id < ?",
            [*keys, day - days, day + days, before],
        ).fetchall()
        return [(key, article_id) for key, article_id in rows]

    def grouped_articles(self, ids: list[int]) -> list[tuple[int, int, datetime, str, str]]:
        """(id, story id, time, title, text) of the given articles that are in a story, in id order."""
        if not ids:
            return []
        rows = self.db.execute(
            "SELECT id, story_id, coalesce(published_at, fetched_at), title, text FROM articles "
            f"WHERE id IN ({','.join('?' * len(ids))}) AND story_id IS NOT NULL ORDER BY id",
            ids,
        ).fetchall()
        return [(r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4]) for r in rows]

    def first_articles(self, ids: list[int]) -> list[tuple[int, int, datetime, str, str, str]]:
        """(id, story id, time, title, text, source) of the first article of each story the
        given articles are in, in id order."""
        if not ids:
            return []
        rows = self.db.execute(
            "SELECT a.id, a.story_id, coalesce(a.published_at, a.fetched_at), a.title, a.text, a.source "
            "FROM articles a JOIN stories s ON s.first_article_id = a.id WHERE s.id IN "
            f"(SELECT story_id FROM articles WHERE id IN ({','.join('?' * len(ids))})) ORDER BY a.id",
            ids,
        ).fetchall()
        return [(r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4], r[5]) for r in rows]

    def name_counts(self, keys: list[int]) -> tuple[int, dict[int, int]]:
        """How many stories there are, and in how many of them each name occurs."""
        row = self.db.execute("SELECT stories FROM story_names WHERE key = 0").fetchone()
        counts: dict[int, int] = {}
        for chunk in range(0, len(keys), 500):
            part = keys[chunk : chunk + 500]
            counts.update(
                self.db.execute(
                    f"SELECT key, stories FROM story_names WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
            )
        return (row[0] if row else 0), counts

    def story_of(self, article_id: int) -> int | None:
        row = self.db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
        return row[0] if row else None

    def start_story(self, article_id: int, source: str, title: str, published: str | None) -> int:
        """A new story whose first article is this one."""
        cursor = self.db.execute(
            "INSERT INTO stories (title, first_article_id, first_published, last_published, outlets, "
            "article_count) VALUES (?, ?, ?, ?, ?, 1)",
            [title, article_id, published, published, json.dumps([source])],
        )
        self.db.execute(
            "INSERT INTO story_names (key, stories) VALUES (0, 1) ON CONFLICT (key) DO "
            "UPDATE SET stories = stories + 1"
        )
        story_id = cursor.lastrowid
        if story_id is None:
            raise RuntimeError("INSERT INTO stories set no rowid")
        return story_id

    def join_story(self, story_id: int, source: str, published: str | None) -> None:
        """One more article in a story: its outlets and time span grow."""
        first, last, outlets = self.db.execute(
            "SELECT first_published, last_published, outlets FROM stories WHERE id = ?", [story_id]
        ).fetchone()
        sources = json.loads(outlets)
        if source not in sources:
            sources.append(source)
        if published:
            first = min(first, published) if first else published
            last = max(last, published) if last else published
        self.db.execute(
            "UPDATE stories SET first_published = ?, last_published = ?, outlets = ?, "
            "article_count = article_count + 1 WHERE id = ?",
            [first, last, json.dumps(sources), story_id],
        )

    def merge_stories(self, story_id: int, other_id: int) -> None:
        """Move every article of story ``other_id`` into ``story_id`` and forget the other story:
        its outlets, time span and count join, and each name shared by both counts once."""
        db = self.db
        row = db.execute(
            "SELECT first_published, last_published, outlets, article_count FROM stories WHERE id = ?",
            [other_id],
        ).fetchone()
        first, last, outlets, count = db.execute(
            "SELECT first_published, last_published, outlets, article_count FROM stories WHERE id = ?",
            [story_id],
        ).fetchone()
        sources = json.loads(outlets)
        sources += [s for s in json.loads(row[2]) if s not in sources]
        first = min(x for x in (first, row[0]) if x) if first or row[0] else None
        last = max(x for x in (last, row[1]) if x) if last or row[1] else None
        db.execute(
            "UPDATE stories SET first_published = ?, last_published = ?, outlets = ?, article_count = ? "
            "WHERE id = ?",
            [first, last, json.dumps(sources), count + row[3], story_id],
        )
        db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [story_id, other_id])
        db.execute(  # names in both stories: one story fewer has them
            "UPDATE story_names SET stories = stories - 1 WHERE key IN (SELECT key FROM story_links "
            "WHERE story_id = ? AND key IN (SELECT key FROM story_links WHERE story_id = ?))",
            [other_id, story_id],
        )
        db.execute("UPDATE story_names SET stories = stories - 1 WHERE key = 0")
        db.execute("UPDATE OR IGNORE story_links SET story_id = ? WHERE story_id = ?", [story_id, other_id])
        db.execute("DELETE FROM story_links WHERE story_id = ?", [other_id])
        db.execute("DELETE FROM stories WHERE id = ?", [other_id])

    def index_article(
        self, article_id: int, story_id: int, day: int, bands: Iterable[int], names: Iterable[int]
    ) -> None:
        """Put an article in its story and in the index."""
        db = self.db
        db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        db.conn.executemany(
            "INSERT OR IGNORE INTO story_bands (key, day, article_id) VALUES (?, ?, ?)",
            [(key, day, article_id) for key in set(bands)],
        )
        names = list(names)
        db.conn.executemany(
            "INSERT OR IGNORE INTO story_keys (key, day, article_id) VALUES (?, ?, ?)",
            [(key, day, article_id) for key in names],
        )
        for key in names:  # a name new to this story makes it one story more common
            if db.execute(
                "INSERT OR IGNORE INTO story_links (story_id, key) VALUES (?, ?)", [story_id, key]
            ).rowcount:
                db.execute(
                    "INSERT INTO story_names (key, stories) VALUES (?, 1) "
                    "ON CONFLICT (key) DO UPDATE SET stories = stories + 1",
                    [key],
                )

    # -- regrouping, in short transactions --------------------------------------------------

    def regrouping(self) -> dict[str, Any] | None:
        """The regrouping under way (or interrupted), or None."""
        rows = self.rows("SELECT * FROM story_rebuild")
        return rows[0] if rows else None

    def begin_regrouping(self) -> dict[str, Any]:
        """Start regrouping every article (or carry on with one that was interrupted)."""
        with self.write() as db:
            if not self.regrouping():
                (last,) = db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()
                db.execute(
                    "INSERT INTO story_rebuild (id, next_article_id, first_new_id, started_at) "
                    "VALUES (1, 0, ?, ?)",
                    [last + 1, now_iso()],
                )
        state = self.regrouping()
        if state is None:
            raise RuntimeError("story_rebuild row missing right after its insert")
        return state

    def clear_grouping_step(self) -> bool:
        """Forget part of the old grouping (CLEAR_ROWS rows); True once it is all gone."""
        with self.write() as db:
            left = CLEAR_ROWS
            left -= db.execute(
                "UPDATE articles SET story_id = NULL WHERE id IN "
                "(SELECT id FROM articles WHERE story_id IS NOT NULL LIMIT ?)",
                [left],
            ).rowcount
            for table, key in _GROUPING.items():
                if left <= 0:
                    break
                left -= db.execute(
                    f"DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} LIMIT ?)", [left]
                ).rowcount
            done = left > 0
            if done:
                db.execute("UPDATE story_rebuild SET cleared = 1")
        return done

    def regrouped_up_to(self, next_article_id: int) -> None:
        with self.write() as db:
            db.execute("UPDATE story_rebuild SET next_article_id = ?", [next_article_id])

    def end_regrouping(self) -> bool:
        """Finish when no article is left to regroup (in one transaction with that check)."""
        with self.write() as db:
            state = self.regrouping()
            if state is None:
                return True
            if db.execute(
                "SELECT 1 FROM articles WHERE id >= ? LIMIT 1", [state["next_article_id"]]
            ).fetchone():
                return False
            db.execute("DELETE FROM story_rebuild")
        return True

    def regrouping_articles(self) -> int:
        """Articles left to regroup, for progress."""
        state = self.regrouping()
        if state is None:
            return 0
        (left,) = self.db.execute(
            "SELECT count(*) FROM articles WHERE id >= ?", [state["next_article_id"]]
        ).fetchone()
        return int(left)
