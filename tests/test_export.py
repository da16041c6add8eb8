"""`wirewatch export`: articles with story and flags, JSON lines or CSV, that other tools read back."""

from __future__ import annotations

import csv
import io
import json

from conftest import demo_seed


def test_export_round_trips_as_json_lines_and_csv(site, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    articles = {r["id"]: r for r in workspace.query("SELECT * FROM articles")}
    flagged = {r[0] for r in workspace.query("SELECT DISTINCT article_id FROM flags")}

    lines = workspace.cli("export").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert {r["id"] for r in rows} == set(articles) and [r["id"] for r in rows] == sorted(articles)
    for row in rows:
        stored = articles[row["id"]]
        assert (row["url"], row["text"], row["story_id"]) == (
            stored["url"],
            stored["text"],
            stored["story_id"],
        )
        assert row["story_outlets"] == ["demo"]
        assert bool(row["flags"]) == (row["id"] in flagged)
        assert all({"watchlist", "tier", "type", "score", "reasons"} <= set(f) for f in row["flags"])

    only = [json.loads(line) for line in workspace.cli("export", "--flagged").stdout.splitlines()]
    assert {r["id"] for r in only} == flagged

    out = tmp_path / "articles.csv"
    result = workspace.cli("export", "--format", "csv", "--out", str(out))
    assert result.returncode == 0 and f"{len(articles)} articles written to {out}" in result.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [int(r["id"]) for r in table] == sorted(articles)
    assert all(r["text"] == articles[int(r["id"])]["text"] for r in table)  # multi-line text survives
    assert {int(r["id"]) for r in table if json.loads(r["flags"])} == flagged

    assert workspace.cli("export", "--since", "1s").stdout == ""  # nothing published in the last second
