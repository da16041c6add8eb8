"""Dates from feeds, sitemaps, listings and pages, always as timezone-aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser


def parse_date(value: str | None, default_tz: tzinfo = UTC) -> datetime | None:
    """Parse ISO 8601, RFC 822 or a human date; naive results are placed in ``default_tz``.

    Returns None for anything that is not a date. A date with no time means the start of that
    day in ``default_tz``.
    """
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            try:
                parsed = dateutil_parser.parse(value)
            except (ValueError, OverflowError, TypeError):
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def iso_utc(value: datetime) -> str:
    """The form stored in the database: ISO 8601 in UTC, seconds precision, ``+00:00``."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Window:
    """The publication times a backfill keeps: from ``since`` (included) to ``until`` (excluded)."""

    since: datetime
    until: datetime

    def holds(self, moment: datetime | None) -> bool:
        """Whether a story published at ``moment`` belongs; an undated one does not."""
        return moment is not None and self.since <= moment < self.until
