"""The brief: a period's flagged stories as one self-contained HTML page with charts.

`brief.build` reads the store, counts stories by day, type, place and outlet, draws the charts
(matplotlib, as PNG images inside the page), and lists every core story with why it was flagged."""

from pipelines.report.brief import Period, build

__all__ = ["Period", "build"]
