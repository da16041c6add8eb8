"""`wirewatch status`: last run per source, next due time, sources failing repeatedly."""

from __future__ import annotations

from dataclasses import asdict

from conftest import demo_seed, run_cli

from crawler.runtime.run import SourceResult
from pipelines.store import Store


def record(workspace, *statuses: str, kind: str = "run") -> None:
    store = Store(workspace.db)
    try:
        for status in statuses:
            run_id = store.start_run("cron", ["demo"], kind)
            errors = [] if status == "ok" else [f"{status}: http://127.0.0.1:9/feed/: Connection refused"]
            row = asdict(SourceResult("demo", status, new_articles=2, errors=errors))
            store.finish_run(run_id, "ok" if status == "ok" else "failed", [row], 1.5)
    finally:
        store.close()


def test_status_before_any_run(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    result = workspace.cli("status")
    assert result.returncode == 0, result.stderr
    assert "never" in result.stdout and "PKT" in result.stdout  # next due, in the schedule's zone
    assert "no database yet" in result.stderr


def test_status_shows_last_run_and_flags_a_source_failing_repeatedly(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    record(workspace, "ok", "failed", "errors", "failed")
    result = workspace.cli("status")
    assert result.returncode == 7
    line = next(line for line in result.stdout.splitlines() if line.startswith("demo"))
    assert "failed" in line and "3 runs" in line and "PKT" in line
    assert "last run: 4 (cron)" in result.stdout and "in 1.5s" in result.stdout
    assert "FAILING: demo failed its last 3 runs" in result.stderr

    assert workspace.cli("status", "--failing-after", "4").returncode == 0
    record(workspace, "ok")
    result = workspace.cli("status")
    assert result.returncode == 0 and "FAILING" not in result.stderr


def test_backfills_neither_fail_a_source_nor_end_its_streak(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    record(workspace, "ok")
    record(workspace, "failed", "failed", "failed", kind="backfill")
    result = workspace.cli("status")
    assert result.returncode == 0 and "FAILING" not in result.stderr
    assert "last run: 1 (cron)" in result.stdout
    record(workspace, "failed", "errors")
    record(workspace, "ok", kind="backfill")
    record(workspace, "failed")
    result = workspace.cli("status")
    assert result.returncode == 7 and "FAILING: demo failed its last 3 runs" in result.stderr
    assert "last run: 8 (cron)" in result.stdout


def test_a_killed_run_or_backfill_is_ended_by_the_next_of_its_kind(site, workspace):
    """Each holds the lock of its kind (the run lock, the backfill lock), which vouches only for
    its own: a run starting while a backfill goes on must not mark the backfill interrupted."""
    workspace.add_seed("demo", demo_seed(site.base))
    store = Store(workspace.db)
    try:
        backfill = store.start_run("cli", ["demo"], "backfill")
        run = store.start_run("cron", ["demo"])
        assert {r["id"]: r["kind"] for r in store.running()} == {backfill: "backfill", run: "run"}
        result = workspace.cli("status")
        assert f"running now: backfill {backfill} (cli, pid" in result.stdout
        store.start_run("cron", ["demo"])  # the run above was killed
        status = dict(store.db.execute("SELECT id, status FROM runs").fetchall())
        assert status[backfill] == "running" and status[run] == "interrupted"
        store.start_run("cli", ["demo"], "backfill")
        assert (
            store.db.execute("SELECT status FROM runs WHERE id = ?", [backfill]).fetchone()[0]
            == "interrupted"
        )
    finally:
        store.close()


def test_status_names_a_run_whose_process_is_gone(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    store = Store(workspace.db)
    try:
        run_id = store.start_run("daemon", ["demo"])
        store.db.execute("UPDATE runs SET pid = 999999999 WHERE id = ?", [run_id])
    finally:
        store.close()
    result = workspace.cli("status")
    assert result.returncode == 0
    assert f"running now: run {run_id} (daemon, pid 999999999, which is gone" in result.stdout


def test_help_documents_the_status_code():
    assert "7  `wirewatch status` only" in run_cli("--help").stdout


def test_status_tells_of_an_unfinished_recluster_and_a_run_finishes_it(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    stored = workspace.query("SELECT count(*) FROM articles")[0][0]
    store = Store(workspace.db)
    try:
        store.begin_regrouping()  # as a recluster killed before it did anything
    finally:
        store.close()
    result = workspace.cli("status")
    assert f"{stored} articles still to regroup" in result.stderr
    assert workspace.query("SELECT count(*) FROM story_rebuild")[0][0] == 1

    assert workspace.run().returncode == 0  # nothing new to crawl; it finishes the recluster
    assert workspace.query("SELECT count(*) FROM story_rebuild")[0][0] == 0
    assert workspace.query("SELECT count(*) FROM articles WHERE story_id IS NULL")[0][0] == 0
    assert "still to regroup" not in workspace.cli("status").stderr
