"""The desk's labels: an analyst's judgement of an article, the latest one kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipelines.core.dates import iso_utc
from pipelines.store.connection import Connection, now_iso


class Labels(Connection):
    def set_label(
        self, article_id: int, label: int, who: str, note: str | None = None, kind: str | None = None
    ) -> None:
        """Record a judgement (2 core, 1 mention, 0 not relevant), replacing an earlier one."""
        with self.write() as db:
            db.execute(
                "INSERT INTO labels (article_id, label, type, note, who, labelled_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET label = excluded.label, "
                "type = excluded.type, note = excluded.note, who = excluded.who, "
                "labelled_at = excluded.labelled_at",
                [article_id, label, kind, note, who, now_iso()],
            )

    def labelled(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Labelled articles (oldest judgement first) with their text, labelled since ``since``."""
        return self.rows(
            "SELECT a.id, a.url, a.published_at AS published, a.source, a.title, a.text, l.label, "
            "l.type, l.note, l.who, l.labelled_at FROM labels l JOIN articles a ON a.id = l.article_id "
            "WHERE l.labelled_at >= ? ORDER BY l.labelled_at, a.id",
            [iso_utc(since) if since else ""],
        )
