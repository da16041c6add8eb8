"""A source's health from its own history: silent when nothing new comes for much longer than
usual, degraded when its pages stop extracting well; `wirewatch status` says so (exit 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import demo_seed, runs_stored

from crawler.runtime.health import degraded, silent

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
HOURLY = [NOW - timedelta(hours=h) for h in range(100, 40, -1)]  # an article an hour, until 41 h ago


def test_silent_against_the_source_s_own_pace():
    assert silent(HOURLY, NOW) is not None and "nothing new for 41.0 h" in silent(HOURLY, NOW)
    assert silent(HOURLY, HOURLY[-1] + timedelta(hours=2, minutes=50)) is None  # within the 3 h floor
    # An outlet that has news every hour and none for 5 h: 5 of its usual hours missed.
    assert silent(HOURLY, HOURLY[-1] + timedelta(hours=5)) is not None
    daily = [NOW - timedelta(days=d) for d in range(40, 2, -1)]  # a weekly-ish outlet: a day apart
    assert silent(daily, NOW) is None  # 3 days quiet is within 4 usual gaps
    assert silent(HOURLY[:10], NOW) is None  # too little history to tell


def test_silent_by_hour_of_day():
    """Like APP in a real week: new articles every half hour from 07:00 to 19:00 UTC, none at night."""
    day = datetime(2026, 11, 23, tzinfo=UTC)
    daytime = [day + timedelta(days=d, hours=7, minutes=30 * i) for d in range(7) for i in range(25)]
    last = daytime[-1]  # day 7, 19:00
    # The night is its usual quiet: 11 h without news at 06:00 is not silence (one threshold
    # for all hours, from its 30-minute gaps, would say it is).
    assert silent(daytime, last + timedelta(hours=11)) is None
    # Nothing by 11:00, four of its busy hours later, is.
    reason = silent(daytime, last + timedelta(hours=16))
    assert reason is not None and "nothing new for 16.0 h" in reason
    # A freeze in the afternoon is seen within hours, not half a day.
    frozen = [t for t in daytime if t <= day + timedelta(days=6, hours=12)]
    assert silent(frozen, frozen[-1] + timedelta(hours=2, minutes=59)) is None
    assert silent(frozen, frozen[-1] + timedelta(hours=4)) is not None


def test_degraded_when_pages_stop_extracting():
    good_runs = [(10, 0)] * 20
    assert (
        degraded(good_runs + [(0, 6)] * 5, [])
        == "30 of the last 30 article pages held no article (usually 0%)"
    )
    assert degraded(good_runs + [(8, 1)] * 5, []) is None
    assert degraded([(0, 6)] * 5, []) is None  # no past to compare with
    articles = [(3000, "page")] * 100
    short = degraded([], articles + [(200, "page")] * 20)
    assert short is not None and "shorter than 600 characters" in short
    undated = degraded([], articles + [(3000, "none")] * 20)
    assert undated is not None and "no publication time" in undated


def test_status_reports_a_silent_source_with_exit_8(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    runs_stored(workspace.db, "demo", site.base, HOURLY)
    result = workspace.cli("status")
    assert result.returncode == 8, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("demo"))
    assert "silent" in line
    assert "ATTENTION: demo is silent: nothing new for" in result.stderr


def test_a_source_changing_state_sends_one_health_email_not_one_per_run(site, workspace, smtp):
    import socket

    handler, controller = smtp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    workspace.config.write_text(
        workspace.config.read_text()
        + '[alerts]\nhealth_to = ["ops@example.org"]\nsender = "wirewatch <alerts@example.org>"\n'
        f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\ntimeout = 5\n'
    )
    broken = demo_seed(site.base).replace(site.base, f"http://127.0.0.1:{closed}")
    workspace.add_seed("demo", broken)
    for _ in range(4):  # failing after the third run in a row; the fourth changes nothing
        assert workspace.run().returncode == 4
    health = [r.message for r in handler.received if r.message["Subject"].startswith("[wirewatch] sources:")]
    assert [m["Subject"] for m in health] == ["[wirewatch] sources: demo failing"]
    assert "connection refused" in health[0].get_body(("plain",)).get_content()
    assert health[0]["To"] == "ops@example.org"

    workspace.add_seed("demo", demo_seed(site.base))  # the site is back
    result = workspace.run()
    assert result.returncode == 0 and "source state: demo: failing -> recovered" in result.stderr
    health = [
        r.message["Subject"]
        for r in handler.received
        if r.message["Subject"].startswith("[wirewatch] sources:")
    ]
    assert health == ["[wirewatch] sources: demo failing", "[wirewatch] sources: demo recovered"]
    assert workspace.query("SELECT state FROM source_states WHERE source = 'demo'")[0][0] == "ok"
