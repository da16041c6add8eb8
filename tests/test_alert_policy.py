"""Alert routing, quiet hours and backoff: the pure policy behind the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from pipelines.alerts.policy import AlertPolicy, Route, backoff, plan, quiet_until
from pipelines.core.records import Verdict

POLICY = AlertPolicy(
    routes=(
        Route(watchlist="w", to=("desk@example.org",), tiers=("core", "mention")),
        Route(watchlist="w", to=("duty@example.org",), tiers=("core",)),
    ),
    quiet_hours=(time(22, 0), time(7, 0)),
    timezone="Asia/Karachi",
)
CORE = {"w": Verdict(True, "core", "incident", 9.0)}
MENTION = {"w": Verdict(True, "mention", "measures", 3.0)}


def karachi(hour: int, minute: int = 0) -> datetime:
    # Asia/Karachi is UTC+5 all year.
    return datetime(2026, 11, 26, hour, minute, tzinfo=UTC) - timedelta(hours=5)


def test_routes_by_tier():
    now = karachi(12)
    core = plan(POLICY, CORE, now - timedelta(hours=1), now)
    assert sorted((a.recipient, a.kind) for a in core) == [
        ("desk@example.org", "core"),
        ("duty@example.org", "core"),
    ]
    mention = plan(POLICY, MENTION, now, now)
    assert [(a.recipient, a.kind) for a in mention] == [("desk@example.org", "digest")]
    assert plan(POLICY, {"w": Verdict(False, None, None, 1.0)}, now, now) == []
    assert plan(POLICY, {"other": Verdict(True, "core", None, 9.0)}, now, now) == []


def test_old_stories_are_flagged_but_not_alerted():
    now = karachi(12)
    assert plan(POLICY, CORE, now - timedelta(days=3), now) == []


def test_quiet_hours_hold_core_alerts_until_the_morning():
    assert quiet_until(POLICY, karachi(12)) is None
    late = karachi(23, 30)
    morning = quiet_until(POLICY, late)
    assert morning is not None and morning.astimezone(POLICY.zone).time() == time(7, 0)
    assert morning - late == timedelta(hours=7, minutes=30)
    early = karachi(5)
    assert quiet_until(POLICY, early) - early == timedelta(hours=2)  # type: ignore[operator]
    assert all(a.next_attempt_at == morning for a in plan(POLICY, CORE, late, late))
    assert all(a.next_attempt_at == late for a in plan(POLICY, MENTION, late, late))  # digests are not held


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(POLICY, n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert backoff(POLICY, 20) == POLICY.max_backoff


def test_the_alerts_table_reads_like_the_config_file():
    policy = AlertPolicy.model_validate(
        {
            "routes": [{"watchlist": "w", "to": ["desk@example.org"]}],
            "quiet_hours": " 22:00 - 7:00 ",
            "retry_backoff": "90s",
            "max_age": "1.5d",
        }
    )
    assert policy.routes[0].tiers == ("core", "mention")
    assert policy.quiet_hours == (time(22, 0), time(7, 0))
    assert policy.retry_backoff == timedelta(seconds=90) and policy.max_age == timedelta(hours=36)
    assert AlertPolicy.model_validate({"quiet_hours": ""}).quiet_hours is None


def test_sender_address_and_domain_come_from_the_sender():
    policy = AlertPolicy(sender='"Desk, Wirewatch" <alerts@news.example.org>')
    assert policy.sender_address == "alerts@news.example.org"
    assert policy.sender_domain == "news.example.org"
    assert AlertPolicy().sender_address == "wirewatch@localhost"
    assert AlertPolicy(sender="bare@example.org").sender_domain == "example.org"
