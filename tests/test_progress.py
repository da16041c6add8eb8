"""The progress display: figures logged now and then without a terminal, a bar on one."""

from __future__ import annotations

import io
import logging

from rich.console import Console

from crawler.runtime.progress import Progress


def test_without_a_terminal_figures_are_logged_with_time_left(caplog):
    caplog.set_level(logging.INFO, logger="crawler.runtime.progress")
    with Progress(
        "import", unit="records", total=4, counters=("stored", "skipped"), every=0, live=False
    ) as p:
        p.advance(stored=1)
        p.advance(skipped=1)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("import: 1 of 4 records (25%), stored 1, skipped 0, about")
    assert lines[0].endswith(" left")
    assert lines[-1] == "import ended: 2 of 4 records (50%), stored 1, skipped 1"


def test_without_a_terminal_lines_are_spaced_out(caplog):
    caplog.set_level(logging.INFO, logger="crawler.runtime.progress")
    with Progress("backfill", unit="pages", every=3600, live=False) as p:
        for _ in range(1000):
            p.advance(stories=1)
    assert [r.getMessage() for r in caplog.records] == ["backfill ended: 1,000 pages, stories 1,000"]


def test_a_stopped_job_says_so(caplog):
    caplog.set_level(logging.INFO, logger="crawler.runtime.progress")
    try:
        with Progress("reextract", unit="articles", live=False) as p:
            p.advance()
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert caplog.records[-1].getMessage() == "reextract stopped: 1 articles"


def test_on_a_terminal_a_bar_shows_the_counts(monkeypatch):
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr("crawler.runtime.progress.Console", lambda stderr: console)
    with Progress("import", unit="records", total=10, counters=("stored",), live=True) as p:
        p.set_total(20)
        p.advance(5, stored=4)
    shown = screen.getvalue()
    assert "import" in shown and "5 of 20 records (25%), stored 4" in shown
