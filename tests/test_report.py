"""`wirewatch report`: the brief of a period, one HTML page that needs nothing from elsewhere."""

from __future__ import annotations

import re

from conftest import demo_seed


def test_the_brief_holds_charts_core_stories_and_sources_and_loads_nothing(site, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    out = tmp_path / "brief.html"
    result = workspace.cli("report", "--since", "7d", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 3  # per day, places, outlets
    core = workspace.query(
        "SELECT DISTINCT a.title, a.url FROM flags f JOIN articles a ON a.id = f.article_id WHERE f.tier = 'core'"
    )
    assert core and all(row["title"] in page or row["title"].replace("'", "&#x27;") in page for row in core)
    assert "Core stories (" in page and "Sources" in page and ">demo<" in page
    # Nothing loaded from elsewhere: no scripts, no stylesheets, images only as data.
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'src="(?!data:)', page)

    bad = workspace.cli("report", "--from", "2026-11-30", "--to", "2026-11-01")
    assert bad.returncode == 2 and "--from must not be after --to" in bad.stderr
    stdout = workspace.cli("report", "--from", "2026-11-01", "--to", "2026-11-07", "--out", "-")
    assert stdout.returncode == 0 and "01 Nov 2026 to 07 Nov 2026" in stdout.stdout
