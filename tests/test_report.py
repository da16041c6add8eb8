"""`wirewatch report`: the brief of a period, one HTML page that needs nothing from elsewhere."""

from __future__ import annotations

import re

from conftest import demo_seed, needs_chromium, not_blank, screenshot


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


def test_the_brief_by_mail_reaches_a_real_smtp_server_once_with_its_charts_inline(site, workspace, smtp):
    handler, controller = smtp
    workspace.config.write_text(
        workspace.config.read_text()
        + '[alerts]\nroutes = [{ watchlist = "cpec-security", to = ["desk@example.org"], tiers = ["core", "report"] }, '
        '{ watchlist = "cpec-security", to = ["chief@example.org"], tiers = ["report"] }]\n'
        'sender = "wirewatch <alerts@example.org>"\n'
        f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\ntimeout = 5\n'
    )
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    handler.received.clear()  # the crawl's own core alerts
    sent = workspace.cli("report", "--send", "--from", "2026-11-24", "--to", "2026-12-07")
    assert sent.returncode == 0, sent.stderr
    assert "queued for 2 recipient(s)" in sent.stderr
    briefs = [r.message for r in handler.received]
    assert sorted(m["To"] for m in briefs) == ["chief@example.org", "desk@example.org"]
    for message in briefs:
        assert message["Subject"].startswith("[wirewatch] brief, cpec-security: ")
        images = [part for part in message.walk() if part.get_content_type() == "image/png"]
        assert len(images) == 3 and all(part["Content-ID"] and part.get_content() for part in images)
        html = message.get_body(("html",)).get_content()
        assert "data:image/png" not in html
        assert all(f"cid:{part['Content-ID'][1:-1]}" in html for part in images)
    assert workspace.query("SELECT count(*) FROM reports WHERE status = 'sent'")[0][0] == 2

    again = workspace.cli("report", "--send", "--from", "2026-11-24", "--to", "2026-12-07")
    assert again.returncode == 0 and "already had this period's brief queued" in again.stderr
    assert len(handler.received) == 2 and workspace.query("SELECT count(*) FROM reports")[0][0] == 2

    # Sent again the same day with no period given: the same whole days, nothing new.
    first = workspace.cli("report", "--send")
    second = workspace.cli("report", "--send")
    assert first.returncode == second.returncode == 0
    assert "queued for 2 recipient(s)" in first.stderr and "queued for 0 recipient(s)" in second.stderr


def test_sending_the_brief_to_nobody_is_an_error(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    result = workspace.cli("report", "--send")
    assert result.returncode == 1 and 'no route lists the "report" tier' in result.stderr


@needs_chromium
def test_the_brief_renders_in_headless_chromium(site, workspace, tmp_path):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    page = tmp_path / "brief.html"
    assert workspace.cli("report", "--out", str(page)).returncode == 0
    assert not_blank(screenshot(page.as_uri(), tmp_path / "brief.png", "900,2400"))
