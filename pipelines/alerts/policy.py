"""Who is alerted about a flag, and when: routing, quiet hours, retry backoff.

Pure functions over the alert policy; the store writes what `plan` returns in the same
transaction as the flag, and `pipelines.alerts.delivery` sends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipelines.core.records import Verdict
from pipelines.core.validation import Problems, check_keys, parse_duration

_ADDRESS = re.compile(r"^[^@\s<>\x00-\x1f]+@[^@\s<>\x00-\x1f]+$")


@dataclass(frozen=True)
class Route:
    watchlist: str
    to: tuple[str, ...]
    tiers: tuple[str, ...] = ("core", "mention")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""  # empty: no SMTP, alerts become .eml files in AlertPolicy.outbox_dir
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    password_env: str = "WIREWATCH_SMTP_PASSWORD"
    timeout: float = 30.0


@dataclass(frozen=True)
class AlertPolicy:
    routes: tuple[Route, ...] = ()
    sender: str = "wirewatch <wirewatch@localhost>"
    timezone: str = "Asia/Karachi"
    max_age: timedelta = timedelta(days=2)  # older stories are flagged but not alerted
    quiet_hours: tuple[time, time] | None = None  # core alerts wait until the end
    retry_backoff: timedelta = timedelta(minutes=5)
    max_backoff: timedelta = timedelta(hours=6)
    max_attempts: int = 10
    outbox_dir: str = "alerts-outbox"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class PlannedAlert:
    watchlist: str
    recipient: str
    kind: str  # "core": an email of its own; "digest": waits for the next digest
    next_attempt_at: datetime


def quiet_until(policy: AlertPolicy, now: datetime) -> datetime | None:
    """The end of the quiet period ``now`` falls in, or None outside quiet hours."""
    if policy.quiet_hours is None:
        return None
    start, end = policy.quiet_hours
    local = now.astimezone(policy.zone)
    clock = local.time()
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def plan(
    policy: AlertPolicy,
    verdicts: dict[str, Verdict],
    published: datetime | None,
    now: datetime,
    story_alerted: frozenset[tuple[str, str]] = frozenset(),
) -> list[PlannedAlert]:
    """The alerts an article's flags call for: one per routed recipient and watchlist.

    ``story_alerted`` holds the (watchlist, recipient) pairs already sent a core alert for
    another article of the same story (event): for them this copy is no new core email, it
    waits for the digest, which lists it as "also reported by".
    """
    if published is not None and now - published > policy.max_age:
        return []
    out: list[PlannedAlert] = []
    for route in policy.routes:
        verdict = verdicts.get(route.watchlist)
        if verdict is None or not verdict.flagged or verdict.tier not in route.tiers:
            continue
        for recipient in route.to:
            core = verdict.tier == "core" and (route.watchlist, recipient) not in story_alerted
            due = (quiet_until(policy, now) or now) if core else now
            out.append(PlannedAlert(route.watchlist, recipient, "core" if core else "digest", due))
    return out


def backoff(policy: AlertPolicy, attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` temporary failures."""
    return min(policy.retry_backoff * 2 ** max(attempts - 1, 0), policy.max_backoff)


def _clock(value: str) -> time:
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def policy_from_config(table: dict[str, Any], problems: Problems) -> AlertPolicy:
    """The [alerts] table of the configuration, validated; problems name the key."""
    routes = []
    for i, raw in enumerate(table.get("routes", [])):
        key = f"alerts.routes[{i}]"
        if not isinstance(raw, dict):
            problems.add(key, "expected { watchlist = ..., to = [...], tiers = [...] }")
            continue
        check_keys(raw, {"watchlist", "to", "tiers"}, f"{key}.", problems)
        to = raw.get("to", [])
        if (
            not isinstance(to, list)
            or not to
            or not all(isinstance(a, str) and _ADDRESS.match(a) for a in to)
        ):
            problems.add(f"{key}.to", f"expected a list of e-mail addresses, got {to!r}")
            continue
        tiers = raw.get("tiers", ["core", "mention"])
        if not isinstance(tiers, list) or not tiers or not set(tiers) <= {"core", "mention"}:
            problems.add(f"{key}.tiers", f"expected a list of 'core' and/or 'mention', got {tiers!r}")
            continue
        if not isinstance(raw.get("watchlist"), str):
            problems.add(f"{key}.watchlist", "expected a watchlist name")
            continue
        routes.append(Route(raw["watchlist"], tuple(to), tuple(tiers)))

    durations = {}
    for name in ("max_age", "retry_backoff", "max_backoff"):
        try:
            durations[name] = parse_duration(table[name])
        except ValueError as exc:
            problems.add(f"alerts.{name}", str(exc))
            durations[name] = timedelta(minutes=5)
    quiet = None
    if table.get("quiet_hours"):
        match = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*", table["quiet_hours"])
        try:
            if not match:
                raise ValueError
            quiet = (_clock(match[1]), _clock(match[2]))
        except ValueError:
            problems.add("alerts.quiet_hours", f"expected 'HH:MM-HH:MM', got {table['quiet_hours']!r}")
    try:
        ZoneInfo(table["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.add("alerts.timezone", f"unknown time zone {table['timezone']!r}")
    if not _ADDRESS.match(table["sender"].rsplit("<", 1)[-1].rstrip(">").strip()):
        problems.add(
            "alerts.sender",
            f"expected an address like 'wirewatch <alerts@example.org>', got {table['sender']!r}",
        )
    if table["max_attempts"] < 1:
        problems.add("alerts.max_attempts", "must be at least 1")

    smtp = table.get("smtp", {})
    check_keys(
        smtp, {"host", "port", "security", "username", "password_env", "timeout"}, "alerts.smtp.", problems
    )
    if smtp.get("security") not in ("starttls", "tls", "none"):
        problems.add("alerts.smtp.security", f"expected starttls, tls or none, got {smtp.get('security')!r}")
    port, timeout = smtp.get("port"), smtp.get("timeout")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.add("alerts.smtp.port", f"expected a port number, got {port!r}")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        problems.add("alerts.smtp.timeout", f"expected seconds > 0, got {timeout!r}")
    for name in ("host", "username", "password_env"):
        if not isinstance(smtp.get(name), str):
            problems.add(f"alerts.smtp.{name}", f"expected a string, got {smtp.get(name)!r}")
    if problems.items:
        return AlertPolicy()
    return AlertPolicy(
        routes=tuple(routes),
        sender=table["sender"],
        timezone=table["timezone"],
        max_age=durations["max_age"],
        quiet_hours=quiet,
        retry_backoff=durations["retry_backoff"],
        max_backoff=durations["max_backoff"],
        max_attempts=table["max_attempts"],
        outbox_dir=table["outbox_dir"],
        smtp=SmtpSettings(
            smtp["host"], port, smtp["security"], smtp["username"], smtp["password_env"], float(timeout)
        ),
    )
