"""classify, evaluate, rescore and explain, end to end through the real command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import WIREWATCH, demo_seed, run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LABELLED = FIXTURES / "labelled.jsonl"


def test_quality_on_the_labelled_fixture_set():
    result = run_cli("evaluate", str(LABELLED), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stories"] == 12
    assert report["core_recall"] >= 0.95
    assert report["precision"] >= 0.90
    assert report["mention_recall"] >= 0.70
    # Ordinary news (sport, weather) is never flagged.
    assert not any(e["id"] in ("n4", "n6") for e in report["errors"])


def test_evaluate_prints_metrics_confusion_and_errors(tmp_path: Path):
    labels = tmp_path / "labels.jsonl"
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines()]
    rows[0]["label"] = 0  # a core story labelled "not relevant": a false alarm to report
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_cli("evaluate", str(labels))
    assert result.returncode == 0
    for text in ("core recall", "precision", "mention recall", "label \\ flagged", "misclassified"):
        assert text in result.stdout
    assert "c1  false alarm" in result.stdout


def test_evaluate_rejects_a_bad_labels_file(tmp_path: Path):
    labels = tmp_path / "bad.jsonl"
    labels.write_text('{"id": 1, "title": "t", "text": "x", "label": 2}\n{"id": 2, "title": "t"}\n')
    result = run_cli("evaluate", str(labels))
    assert result.returncode == 2
    assert f"{labels}:2: ValueError: label must be 0, 1 or 2" in result.stderr


def test_classify_json_lines_from_stdin():
    docs = [json.loads(line) for line in LABELLED.read_text().splitlines()][:3]
    stdin = "".join(json.dumps({"id": d["id"], "title": d["title"], "text": d["text"]}) + "\n" for d in docs)
    result = subprocess.run([*WIREWATCH, "classify", "-"], input=stdin, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["c1", "c2", "c3"]
    assert all(o["flagged"] and o["tier"] == "core" for o in out)
    assert set(out[0]) == {"id", "watchlist", "flagged", "tier", "type", "score", "reasons"}
    assert out[0]["reasons"][0]["sentences"]


def test_classify_plain_text_and_html_files(tmp_path: Path):
    text = tmp_path / "story.txt"
    text.write_text(
        "Chinese engineers attacked in Karachi\nGunmen attacked a van carrying Chinese engineers."
    )
    out = json.loads(run_cli("classify", str(text)).stdout)
    assert out["id"] == str(text) and out["flagged"]
    page = Path(__file__).resolve().parent.parent / "crawler/demo/site/sports"
    html = next(page.glob("*/index.html"))
    out = json.loads(run_cli("classify", str(html)).stdout)
    assert out["flagged"] is False and out["score"] == 0


def test_rescore_and_explain(site, workspace, tmp_path: Path):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    flagged_before = workspace.query("SELECT article_id, tier, flagged_at FROM flags")
    assert flagged_before

    # A stricter copy of the bundled watchlist: nothing reaches its thresholds any more.
    bundled = (Path(__file__).resolve().parent.parent / "config/watchlists/cpec-security.toml").read_text()
    strict_dir = tmp_path / "watchlists"
    strict_dir.mkdir()
    (strict_dir / "cpec-security.toml").write_text(
        bundled.replace("[tiers]", "[tiers]\ncore = 1000\nmention = 999\n[unused]", 1)
    )
    strict = tmp_path / "strict.toml"
    strict.write_text(
        workspace.config.read_text().replace("[sources]", '[watchlists]\npaths = ["watchlists"]\n[sources]')
    )
    strict.write_text(strict.read_text().replace('database = "test.db"', f'database = "{workspace.db}"'))
    # The replacement above leaves the original thresholds under [unused]; drop that table.
    text = (strict_dir / "cpec-security.toml").read_text()
    start = text.index("[unused]")
    end = text.index("\n[", start + 1)
    (strict_dir / "cpec-security.toml").write_text(text[:start] + text[end + 1 :])
    assert run_cli("check", "--config", str(strict)).returncode == 0

    result = run_cli("rescore", "--config", str(strict))
    assert result.returncode == 0, result.stderr
    assert f"cpec-security: articles 12, new 0, changed 0, removed {len(flagged_before)}" in result.stdout
    assert "rescore ended: 12 of 12 articles (100%)" in result.stderr  # progress, logged without a terminal
    assert workspace.query("SELECT count(*) FROM flags")[0][0] == 0

    # Back to the bundled rules: the same flags again.
    result = workspace.cli("rescore", "--since", "30d")
    assert f"new {len(flagged_before)}" in result.stdout
    assert len(workspace.query("SELECT * FROM flags")) == len(flagged_before)

    # A core flag (the crawl stores pages in the order they arrive, so not the first row).
    article_id = next(r["article_id"] for r in flagged_before if r["tier"] == "core")
    url = workspace.query("SELECT url FROM articles WHERE id = ?", (article_id,))[0]["url"]
    by_id = workspace.cli("explain", str(article_id))
    assert by_id.returncode == 0
    assert "cpec-security: core" in by_id.stdout and "rule " in by_id.stdout and "    > " in by_id.stdout
    assert workspace.cli("explain", url + "?utm_source=x").stdout == by_id.stdout

    unflagged = workspace.query(
        "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM flags) LIMIT 1"
    )[0]["id"]
    assert "not flagged. With the current rules:" in workspace.cli("explain", str(unflagged)).stdout
    missing = workspace.cli("explain", "999999")
    assert missing.returncode == 2 and "no stored article" in missing.stderr
