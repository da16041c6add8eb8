"""Who is alerted about a flag, and when: routing, quiet hours, retry backoff.

Pure functions over the alert policy; the store writes what `plan` returns in the same
transaction as the flag, and `pipelines.alerts.delivery` sends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.utils import getaddresses, parseaddr
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StrictInt, StrictStr

from pipelines.core.models import Duration, Model, TimeZoneName
from pipelines.core.records import Verdict

_ADDRESS = re.compile(r"^[^@\s<>\x00-\x1f]+@[^@\s<>\x00-\x1f]+$")
_CLOCK_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"expected an e-mail address like 'desk@example.org', got {value!r}")
    return value


def _sender(value: str) -> str:
    addresses = getaddresses([value])
    if len(addresses) != 1 or not _ADDRESS.match(addresses[0][1]):
        raise ValueError(f"expected an address like 'wirewatch <alerts@example.org>', got {value!r}")
    return value


def _clock_range(value: object) -> object:
    """``"22:00-07:00"`` as (start, end); ``""`` as None."""
    if value is None or isinstance(value, tuple):
        return value
    if value == "":
        return None
    match = _CLOCK_RANGE.fullmatch(value) if isinstance(value, str) else None
    try:
        if match:
            return time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
    except ValueError:
        pass
    raise ValueError(f"expected 'HH:MM-HH:MM', got {value!r}")


Address = Annotated[StrictStr, AfterValidator(_address)]
Tier = Literal["core", "mention", "report"]  # report: the weekly brief (`wirewatch report --send`)


class Route(Model):
    """Who gets the flags of one watchlist, and of which tiers."""

    watchlist: StrictStr
    to: Annotated[tuple[Address, ...], Field(min_length=1)]
    tiers: Annotated[tuple[Tier, ...], Field(min_length=1)] = ("core", "mention")


class SmtpSettings(Model):
    host: StrictStr = ""  # empty: no SMTP, alerts become .eml files in AlertPolicy.outbox_dir
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: StrictStr = ""
    password_env: StrictStr = "WIREWATCH_SMTP_PASSWORD"
    timeout: Annotated[float, Strict(), Field(gt=0)] = 30.0


class AlertPolicy(Model):
    """The [alerts] table of the configuration."""

    routes: tuple[Route, ...] = ()
    sender: Annotated[StrictStr, AfterValidator(_sender)] = "wirewatch <wirewatch@localhost>"
    timezone: TimeZoneName = "Asia/Karachi"
    max_age: Duration = timedelta(days=2)  # older stories are flagged but not alerted
    # Core alerts wait until the end; written "22:00-07:00".
    quiet_hours: Annotated[tuple[time, time] | None, BeforeValidator(_clock_range)] = None
    retry_backoff: Duration = timedelta(minutes=5)
    max_backoff: Duration = timedelta(hours=6)
    max_attempts: Annotated[StrictInt, Field(ge=1)] = 10
    outbox_dir: StrictStr = "alerts-outbox"
    health_to: tuple[Address, ...] = ()  # who hears when a source changes state (failing, silent...)
    smtp: SmtpSettings = SmtpSettings()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sender_address(self) -> str:
        """The bare address of ``sender``, e.g. ``alerts@example.org``."""
        return parseaddr(self.sender)[1]

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2]


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
