"""The desk's labels: `label` by id or URL, relabelling, unknown articles, `evaluate --from-db`
and `labels export`, through the real command on a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_cli

from pipelines.core.records import Article
from pipelines.store import Store

LABELLED = Path(__file__).resolve().parent / "fixtures" / "labelled.jsonl"
WORDS = {2: "core", 1: "mention", 0: "not"}


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, list[dict]]:
    """The labelled fixture stories stored as articles of two outlets, unlabelled."""
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines()]
    db = tmp_path / "w.db"
    store = Store(db)
    now = datetime(2025, 3, 1, tzinfo=UTC)
    for i, row in enumerate(rows):
        url = f"https://news.example/{row['id']}"
        article = Article(url, row["title"], None, now, "page", "en", row["text"], row["id"])
        row["article_id"] = store.add_article("app" if i % 2 else "dawn", article, now, url)
        row["url"] = url
    store.close()
    return db, rows


def labels_of(db: Path) -> list[dict]:
    store = Store(db, readonly=True)
    try:
        return store.labelled()
    finally:
        store.close()


def test_label_by_id_and_by_url_and_a_later_judgement_replaces_the_first(stored):
    db, rows = stored
    first = run_cli("label", str(rows[0]["article_id"]), "mention", "--db", str(db), "--who", "ana")
    assert first.returncode == 0, first.stderr
    assert f"[{rows[0]['article_id']}] {rows[0]['title']}: mention" in first.stdout
    by_url = run_cli("label", rows[1]["url"] + "?utm_source=x", "not", "--note", "a drill", "--db", str(db))
    assert by_url.returncode == 0, by_url.stderr
    again = run_cli("label", str(rows[0]["article_id"]), "core", "--type", "incident", "--note", "convoy",
                    "--db", str(db), "--who", "bo")  # fmt: skip
    assert again.returncode == 0, again.stderr
    got = {r["id"]: r for r in labels_of(db)}
    assert len(got) == 2
    assert (got[rows[0]["article_id"]]["label"], got[rows[0]["article_id"]]["type"]) == (2, "incident")
    assert (got[rows[0]["article_id"]]["who"], got[rows[0]["article_id"]]["note"]) == ("bo", "convoy")
    assert (got[rows[1]["article_id"]]["label"], got[rows[1]["article_id"]]["note"]) == (0, "a drill")


def test_an_unknown_article_or_label_is_a_usage_error(stored):
    db, rows = stored
    unknown = run_cli("label", "999", "core", "--db", str(db))
    assert unknown.returncode == 2 and "no stored article with id or URL '999'" in unknown.stderr
    unknown_url = run_cli("label", "https://elsewhere.example/x", "not", "--db", str(db))
    assert unknown_url.returncode == 2 and "no stored article" in unknown_url.stderr
    bad_label = run_cli("label", str(rows[0]["article_id"]), "maybe", "--db", str(db))
    assert bad_label.returncode == 2 and "'maybe' is not one of 'core', 'mention', 'not'" in bad_label.stderr
    assert not labels_of(db)


def test_evaluate_from_db_and_the_export_round_trip(stored, tmp_path: Path):
    db, rows = stored
    store = Store(db)
    for row in rows:  # the desk agrees with the fixture's labels
        store.set_label(row["article_id"], row["label"], "ana", None, row.get("type"))
    store.close()
    flipped = run_cli("label", str(rows[-1]["article_id"]), "core", "--db", str(db))  # weather as core
    assert flipped.returncode == 0, flipped.stderr

    from_db = run_cli("evaluate", "--from-db", "--db", str(db), "--json")
    assert from_db.returncode == 0, from_db.stderr
    report = json.loads(from_db.stdout)
    assert report["stories"] == len(rows)
    assert report["confusion"]["core"]["none"] == 1  # the weather story, missed as "core"
    assert set(report["by_source"]) == {"app", "dawn"}
    assert sum(f["stories"] for f in report["by_source"].values()) == len(rows)
    assert [e["id"] for e in report["errors"] if e["problem"] == "missed core"] == [
        str(rows[-1]["article_id"])
    ]

    exported = run_cli("labels", "export", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == len(rows)
    assert {"id", "url", "published", "source", "title", "text", "label", "type"} <= set(lines[0])
    assert {(r["title"], r["label"]) for r in lines} == {
        (r["title"], 2 if r is rows[-1] else r["label"]) for r in rows
    }
    file = tmp_path / "desk.jsonl"
    file.write_text(exported.stdout)
    from_file = run_cli("evaluate", str(file), "--json")
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout) == report

    text = run_cli("evaluate", "--from-db", "--db", str(db))
    assert "core at core" in text.stdout and "app" in text.stdout and "missed core" in text.stdout


def test_since_limits_evaluate_and_export_to_recent_labels(stored):
    db, rows = stored
    store = Store(db)
    store.set_label(rows[0]["article_id"], 2, "ana")
    store.set_label(rows[1]["article_id"], 0, "ana")
    store.db.execute("UPDATE labels SET labelled_at = '2020-01-01T00:00:00+00:00' WHERE article_id = ?",
                     [rows[1]["article_id"]])  # fmt: skip
    store.close()
    recent = run_cli("labels", "export", "--since", "30d", "--db", str(db))
    assert [json.loads(line)["id"] for line in recent.stdout.splitlines()] == [str(rows[0]["article_id"])]
    report = json.loads(run_cli("evaluate", "--from-db", "--since", "30d", "--db", str(db), "--json").stdout)
    assert report["stories"] == 1
    assert run_cli("evaluate", "--since", "30d", str(LABELLED)).returncode == 2
    assert run_cli("evaluate").returncode == 2
