"""The command line: check, flagged, search, sources, demo, and packaging of the defaults."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import demo_seed, run_cli


def test_check_reports_every_problem_with_file_and_key(workspace):
    assert workspace.cli("check").returncode == 3  # the seeds folder is empty
    workspace.add_seed(
        "one", 'id = "one"\ntitle = 1\nallowed_domains = ["a.org"]\nfeeds = ["gopher://a.org/"]\n'
    )
    workspace.add_seed(
        "two",
        'id = "two"\ntitle = "Two"\nallowed_domains = ["b.org"]\nfeeds = ["https://b.org/f"]\n'
        "[articles]\nallow = ['(']\n",
    )
    result = workspace.cli("check")
    assert result.returncode == 3
    assert "one.toml: feeds[0]: not an http(s) URL" in result.stderr
    assert "one.toml: title: expected a string" in result.stderr
    assert "two.toml: articles.allow[0]: bad regular expression" in result.stderr
    # `run` refuses to start on the same files, with the same messages.
    run = workspace.run()
    assert run.returncode == 3 and "two.toml: articles.allow[0]" in run.stderr


def test_check_passes_on_the_bundled_defaults():
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert "13 sources, 1 watchlists" in result.stdout


def test_unknown_source_is_a_config_error(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    result = workspace.run("--source", "nope")
    assert result.returncode == 3 and "unknown source nope" in result.stderr


def test_flagged_search_and_sources_after_a_run(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    run = workspace.run()
    assert run.returncode == 0
    assert "demo" in run.stdout and "run 1: ok" in run.stdout

    rows = [json.loads(line) for line in workspace.cli("flagged", "--format", "json").stdout.splitlines()]
    assert rows and all(r["tier"] in ("core", "mention") for r in rows)
    assert any("Besham" in r["title"] for r in rows)
    assert workspace.cli("flagged", "--since", "1m", "--format", "json").stdout == ""
    csv_out = workspace.cli("flagged", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("id,published_at,tier")

    found = workspace.cli("search", '"Chinese engineers" AND convoy', "--format", "json").stdout.splitlines()
    assert any("Besham" in json.loads(line)["title"] for line in found)
    bad = workspace.cli("search", '"unbalanced')
    assert bad.returncode == 2 and "bad search query" in bad.stderr

    sources = workspace.cli("sources")
    assert sources.returncode == 0 and "demo" in sources.stdout and " ok " in sources.stdout


def test_demo_runs_end_to_end(tmp_path: Path):
    result = run_cli("demo", "--keep", str(tmp_path), timeout=180)
    assert result.returncode == 0, result.stderr
    assert "flagged stories:" in result.stdout
    assert "Besham" in result.stdout
    assert (tmp_path / "demo.db").exists()
    assert "alerts: " in result.stderr and list((tmp_path / "outbox").glob("*.eml"))


def test_wheel_carries_the_bundled_config_and_seeds(tmp_path: Path):
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(root)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("wirewatch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "crawler/_bundled/config/wirewatch.toml",
        "crawler/_bundled/config/watchlists/cpec-security.toml",
        "crawler/_bundled/seeds/app.toml",
        "crawler/demo/site/feed/index.xml",
        "crawler/demo/seed.toml",
    ):
        assert expected in names
