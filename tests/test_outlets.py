"""End to end across several loopback outlets carrying copies of the same stories: the wire
(the demo site), a paper reprinting it word for word under other headlines with its own
boilerplate and no dateline, and one trimming the last paragraph. One core alert per story,
the digest names the other outlets, `flagged` groups, and reclustering agrees."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import demo_seed
from test_alerts import RECIPIENTS, configure

from crawler.demo.server import DEMO_SITE, DemoSite

RECENT = 72  # hours: the demo seed's max_age
_DATELINE = re.compile(r"<p>[A-Z ]+, \{\{DATELINE:-?\d+\}\} \(APP\): ")
_END = "</div><!-- .entry-content -->"


def reprint(target: Path, manifest, headline: str, boilerplate: str | None, trim: bool) -> Path:
    """A copy of the demo site whose stories carry another headline, no dateline, the
    outlet's boilerplate, and (``trim``) one paragraph fewer."""
    shutil.copytree(DEMO_SITE, target)
    for article in manifest:
        page = target / article["path"].strip("/") / "index.html"
        html = page.read_text().replace(article["title"], headline.format(article["title"]))
        html = _DATELINE.sub("<p>", html)
        body, end, rest = html.partition(_END)
        if trim:
            body = body[: body.rstrip().rstrip("\n").rfind("<p>")]
        if boilerplate:
            body += f"<p>{boilerplate}</p>\n"
        page.write_text(body + end + rest)
    return target


def seed(base: str, name: str, title: str) -> str:
    return (
        demo_seed(base)
        .replace('id = "demo"', f'id = "{name}"')
        .replace('title = "Demo Press of Pakistan (bundled sample site)"', f'title = "{title}"')
    )


@pytest.fixture
def outlets(tmp_path, manifest):
    observer = reprint(
        tmp_path / "observer",
        manifest,
        "{} - report",
        "Pakistan Observer is now on WhatsApp: follow us.",
        False,
    )
    dailytimes = reprint(tmp_path / "dailytimes", manifest, "Officials: {}", None, True)
    with DemoSite() as wire, DemoSite(root=observer) as obs, DemoSite(root=dailytimes) as daily:
        yield {"wire": wire, "observer": obs, "dailytimes": daily}


def test_one_core_alert_per_story_digest_names_outlets_flagged_groups(outlets, workspace, smtp, manifest):
    handler, controller = smtp
    workspace.add_seed("app", seed(outlets["wire"].base, "app", "APP"))
    workspace.add_seed("observer", seed(outlets["observer"].base, "observer", "Pakistan Observer"))
    workspace.add_seed("dailytimes", seed(outlets["dailytimes"].base, "dailytimes", "Daily Times"))
    configure(workspace, controller.port)
    result = workspace.run()
    assert result.returncode == 0, result.stderr

    recent = [a for a in manifest if a["hours_ago"] < RECENT]
    assert workspace.query("SELECT count(*) FROM articles")[0][0] == 3 * len(recent)
    stories = workspace.query("SELECT * FROM stories")
    assert len(stories) == len(recent)  # each event once...
    for story in stories:  # ...with every outlet that carried it
        assert story["article_count"] == 3
        assert sorted(json.loads(story["outlets"])) == ["app", "dailytimes", "observer"]

    core = [a for a in manifest if a["expect"] == "core" and a["hours_ago"] < 48]
    assert len(handler.received) == len(core) * len(RECIPIENTS)  # one per story, not per copy
    rows = workspace.query(
        "SELECT a.story_id, count(*) AS n FROM alerts al JOIN articles a ON a.id = al.article_id "
        "WHERE al.kind = 'core' GROUP BY a.story_id, al.recipient"
    )
    assert {r["n"] for r in rows} == {1}

    before = len(handler.received)
    assert workspace.cli("alerts", "digest").returncode == 0
    digests = handler.received[before:]
    assert sorted(d.rcpt[0] for d in digests) == sorted(RECIPIENTS)
    plain = digests[0].message.get_body(("plain",)).get_content()
    assert "core alert sent earlier (" in plain
    for line in (x for x in plain.splitlines() if "also reported by:" in x):
        assert len(line.split(":", 1)[1].split(",")) == 2  # the two other outlets
    assert {"APP", "Pakistan Observer", "Daily Times"} <= set(
        re.findall(r"APP|Pakistan Observer|Daily Times", plain)
    )

    flagged = [json.loads(x) for x in workspace.cli("flagged", "--format", "json").stdout.splitlines()]
    flagged_stories = workspace.query(
        "SELECT count(DISTINCT a.story_id) FROM flags f JOIN articles a ON a.id = f.article_id"
    )
    assert len(flagged) == flagged_stories[0][0] > 0
    assert all(r["articles"] == 3 and len(r["outlets"].split(", ")) == 3 for r in flagged)
    table = workspace.cli("flagged").stdout
    assert "Besham" in table and table.count("Besham") == 1

    # A rerun stores nothing new and sends nothing; a full recluster gives the same stories.
    grouping = workspace.query("SELECT id, story_id FROM articles ORDER BY id")
    snapshot = [tuple(r) for r in workspace.query("SELECT * FROM stories ORDER BY id")]
    recluster = workspace.cli("recluster")
    assert (
        recluster.returncode == 0
        and f"{3 * len(recent)} articles in {len(recent)} stories" in recluster.stdout
    )
    # not a terminal: its progress is one log line at the end, the same figures
    n = 3 * len(recent)
    assert f"recluster ended: {n} of {n} articles (100%), stories {len(recent)}" in recluster.stderr
    assert workspace.query("SELECT id, story_id FROM articles ORDER BY id") == grouping
    assert [tuple(r) for r in workspace.query("SELECT * FROM stories ORDER BY id")] == snapshot
    assert workspace.cli("alerts", "send").returncode == 0
    assert len(handler.received) == before + len(RECIPIENTS)
