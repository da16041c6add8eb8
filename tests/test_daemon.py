"""`wirewatch daemon` for real: scheduled runs in child processes against the loopback site.

Intervals of a second or two keep real time short; assertions are on the SQLite file and
the daemon's log.
"""

from __future__ import annotations

import itertools
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import WIREWATCH, Workspace, demo_seed

from crawler.demo.server import DemoSite
from crawler.runtime.exits import EXIT_LOCKED

RECENT = 72  # hours: the demo seed's max_age


def wait_for(check: Callable[[], Any], timeout: float = 40, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except sqlite3.OperationalError:  # no tables yet
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


class Daemon:
    def __init__(self, workspace: Workspace, process: subprocess.Popen[str], log: Path):
        self.workspace = workspace
        self.process = process
        self.log = log

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def runs(self, where: str = "1") -> list[sqlite3.Row]:
        if not self.workspace.db.exists():
            return []
        return self.workspace.query(f"SELECT * FROM runs WHERE {where} ORDER BY id")

    def stop(self, timeout: float = 40) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


@contextmanager
def daemon(workspace: Workspace, schedule: str) -> Iterator[Daemon]:
    workspace.config.write_text(workspace.config.read_text() + "[schedule]\n" + schedule)
    log = workspace.root / "daemon.log"
    process = subprocess.Popen(
        [*WIREWATCH, "daemon", "--config", str(workspace.config), "--log-file", str(log)], text=True
    )
    running = Daemon(workspace, process, log)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def assert_no_overlap(runs: list[sqlite3.Row]) -> None:
    for before, after in itertools.pairwise(runs):
        assert before["finished_at"] is not None and after["started_at"] >= before["finished_at"]


def test_daemon_runs_scheduled_crawls_in_child_processes(site, workspace, manifest):
    workspace.add_seed("demo", demo_seed(site.base))
    with daemon(workspace, 'default = "every 2s"\n') as d:
        wait_for(lambda: len(d.runs("status = 'ok'")) >= 2, what="two finished runs")
        assert d.stop() == 0
    runs = d.runs()
    assert {r["trigger"] for r in runs} == {"daemon"} and {r["status"] for r in runs} == {"ok"}
    assert len({r["pid"] for r in runs}) == len(runs)  # a process per run
    assert_no_overlap(runs)
    urls = [r["url"] for r in workspace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == sum(1 for a in manifest if a["hours_ago"] < RECENT)
    log = d.text()
    assert "scheduled crawl demo (every 2s)" in log
    assert "run 1 ended: ok in " in log and "demo: ok, " in log
    assert "daemon stopped" in log


def test_a_run_due_again_while_running_is_skipped_and_a_manual_run_is_locked_out(workspace):
    with DemoSite(page_delay=0.3) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        with daemon(workspace, 'default = "every 1s"\n') as d:
            wait_for(lambda: d.runs("status = 'running'"), what="a running run")
            manual = workspace.run(timeout=30)
            wait_for(lambda: len(d.runs()) >= 2, what="a second run")
            assert d.stop() == 0
    assert manual.returncode == EXIT_LOCKED, manual.stderr
    assert "another run holds the lock" in manual.stderr and "daemon run started" in manual.stderr
    runs = d.runs()
    assert {r["trigger"] for r in runs} == {"daemon"}
    assert_no_overlap(runs)
    assert "skipped: maximum number of running instances reached (1)" in d.text()


def test_sigterm_during_a_run_ends_cleanly_and_nothing_is_lost(workspace, manifest):
    # Pages slow enough that the run is still fetching when its first stories are stored, even
    # on a loaded machine where the extraction worker takes seconds to start.
    # (the slow lane serves one page at a time: a queue of them must not time out)
    workspace.config.write_text(
        workspace.config.read_text().replace("download_timeout = 3", "download_timeout = 60")
    )
    with DemoSite(page_delay=1.0) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        with daemon(workspace, 'default = "every 1s"\n') as d:
            wait_for(
                lambda: (
                    d.runs("status = 'running'")
                    and workspace.query("SELECT count(*) FROM articles")[0][0] >= 2
                ),
                what="a run that has stored two stories",
            )
            assert d.stop() == 0
        runs = d.runs()
        assert [r["status"] for r in runs] == ["interrupted"] and runs[0]["finished_at"]
        assert workspace.query("SELECT count(*) FROM run_sources")[0][0] == 1
        assert "the current one, if any, is asked to stop" in d.text() and "daemon stopped" in d.text()

        slow.page_delay = 0
        assert workspace.run().returncode == 0
    urls = [r["url"] for r in workspace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == sum(1 for a in manifest if a["hours_ago"] < RECENT)


def test_a_run_past_its_time_limit_is_stopped_and_recorded_as_timeout(workspace):
    with DemoSite(page_delay=1.0) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        with daemon(workspace, 'default = "every 1s"\nrun_timeout = "3s"\n') as d:
            timed_out = wait_for(lambda: d.runs("status = 'timeout'"), what="a timed-out run")
            assert d.stop() == 0
    row = workspace.query("SELECT * FROM run_sources WHERE run_id = ?", (timed_out[0]["id"],))[0]
    assert row["status"] == "timeout" and "schedule.run_timeout" in row["errors"]
    assert timed_out[0]["duration"] >= 3
    assert "crawl demo: still running after 3.0s, stopping it" in d.text()


def test_sighup_reloads_the_config_and_keeps_the_old_schedule_if_the_new_one_is_bad(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    with daemon(workspace, 'default = "0 0 1 1 *"\n') as d:
        wait_for(lambda: "scheduled crawl demo (0 0 1 1 *)" in d.text(), what="the first schedule")
        workspace.config.write_text(workspace.config.read_text().replace("0 0 1 1 *", "every 1h"))
        d.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "scheduled crawl demo (every 1h)" in d.text(), what="the new schedule")
        workspace.config.write_text(workspace.config.read_text().replace("every 1h", "every hour"))
        d.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the current schedule" in d.text(), what="the refusal")
        assert "schedule.default: expected a duration" in d.text()
        assert d.stop() == 0
    assert not d.runs()
