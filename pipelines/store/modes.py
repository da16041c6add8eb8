"""Each source's evidence about trafilatura's fallback, as pipelines/extract/modes.py counts it."""

from __future__ import annotations

from typing import Any

from pipelines.store.connection import Connection, now_iso

_FIELDS = ("pages", "checked", "disagreed", "agreed_in_row", "last_disagreed_url", "last_disagreed_at")


class Modes(Connection):
    def extraction_evidence(self) -> dict[str, dict[str, Any]]:
        """Source id -> its counts (the columns of ``extraction_modes``)."""
        cursor = self.db.execute(f"SELECT source, {', '.join(_FIELDS)}, updated_at FROM extraction_modes")
        return {row[0]: dict(zip((*_FIELDS, "updated_at"), row[1:], strict=True)) for row in cursor}

    def save_extraction_evidence(self, rows: list[dict[str, Any]]) -> None:
        """Keep sources' counts (each row has ``source`` and the fields), in the caller's batch."""
        if not rows:
            return
        stamp = now_iso()
        with self.write() as db:
            db.conn.executemany(
                f"INSERT OR REPLACE INTO extraction_modes (source, {', '.join(_FIELDS)}, updated_at) "
                f"VALUES (?, {', '.join('?' for _ in _FIELDS)}, ?)",
                [[r["source"], *(r[f] for f in _FIELDS), stamp] for r in rows],
            )
