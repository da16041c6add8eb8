"""wirewatch: a scheduled news-monitoring crawler (fetch, discover, schedule, CLI)."""

__version__ = "0.1.0"
