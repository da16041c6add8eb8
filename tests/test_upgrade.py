"""A database made by the release before the refactor (tests/fixtures/release-0.1.0.db: the
demo crawl, made with commit 563959c) opens with this one: read-only commands migrate it first,
and nothing stored is lost."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import sqlite_utils
from conftest import run_cli

from pipelines.store.schema import MIGRATIONS

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "release-0.1.0.db"


def test_a_database_of_the_last_release_migrates_on_first_use(tmp_path: Path):
    db = tmp_path / "wirewatch.db"
    shutil.copy(FIXTURE, db)
    before = sqlite3.connect(db)
    counts = {
        t: before.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("articles", "flags", "stories", "alerts")
    }
    flagged_stories = before.execute(
        "SELECT count(DISTINCT a.story_id) FROM flags f JOIN articles a ON a.id = f.article_id"
    ).fetchone()[0]
    before.close()
    assert all(counts.values())

    flagged = run_cli("flagged", "--since", "3650d", "--format", "json", "--db", str(db), cwd=tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    assert len(flagged.stdout.splitlines()) == flagged_stories > 0

    after = sqlite3.connect(db)
    applied = [r[0] for r in after.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    # The previous release's four, as it applied them, then every one added since, each once.
    assert applied[:4] == ["0001_initial", "0003_alerts", "0004_stories", "0002_runs_health"]
    assert len(applied) == len(set(applied)) and not MIGRATIONS.pending(sqlite_utils.Database(after))
    assert {t: after.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts} == counts
    indexed = after.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'the'").fetchone()[0]
    assert (
        indexed == after.execute("SELECT count(*) FROM articles WHERE text LIKE '% the %'").fetchone()[0] > 0
    )
    after.close()

    regrouped = run_cli("recluster", "--db", str(db), cwd=tmp_path)
    assert regrouped.returncode == 0, regrouped.stderr
    assert f"{counts['articles']} articles in {counts['stories']} stories" in regrouped.stdout
