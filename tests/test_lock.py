"""The run lock: a second run exits at once with code 5; a killed holder never blocks."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import demo_seed, run_cli

from crawler.runtime.exits import EXIT_LOCKED
from pipelines.store import LockHeld, RunLock, lock_path

HOLD = (
    "import sys, time; from pathlib import Path; from pipelines.store import RunLock; "
    "RunLock(Path(sys.argv[1]), 'test').acquire(); print('held', flush=True); time.sleep(60)"
)


@contextmanager
def held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait(10)


def test_lock_file_sits_beside_the_database(tmp_path):
    assert lock_path(tmp_path / "data" / "w.db") == tmp_path / "data" / "w.db.lock"


def test_second_holder_is_refused_and_told_who_holds_it(tmp_path):
    path = tmp_path / "w.db.lock"
    with RunLock(path, "cron"):
        with pytest.raises(LockHeld) as refused, RunLock(path, "cli"):
            pass
        assert str(path) in str(refused.value)
        assert "cron run started" in refused.value.holder
    with RunLock(path):  # released: free again
        pass
    assert path.read_text() == ""


def test_run_exits_with_the_lock_code_while_another_process_holds_it(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    with held_by_another_process(lock_path(workspace.db)) as holder:
        result = workspace.run(timeout=30)
    assert result.returncode == EXIT_LOCKED == 5
    assert f"another run holds the lock {workspace.db}.lock (pid {holder.pid}" in result.stderr
    assert not [p for p, _ in site.log if p != "/robots.txt"]
    assert not workspace.db.exists() or not workspace.query("SELECT * FROM runs")


def test_lock_of_a_killed_process_is_taken_over(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    path = lock_path(workspace.db)
    with held_by_another_process(path) as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    assert f"pid {holder.pid}" in path.read_text()  # the file stays, naming a dead holder
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    assert workspace.query("SELECT status FROM runs")[0]["status"] == "ok"


def test_help_documents_the_lock_code():
    assert "5  another run holds the lock" in run_cli("--help").stdout
    assert "exits at once with code 5" in run_cli("run", "--help").stdout
