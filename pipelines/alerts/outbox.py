"""Queueing alerts with their flags, gathering digests, and the bookkeeping of sending them.

What each flag calls for comes from `policy.plan`; the store keeps the outbox (one row per
article, watchlist and recipient, so nothing is alerted twice whatever reruns and rescores
do). A core alert is an email of its own; a digest alert waits for the next digest.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import TYPE_CHECKING

from pipelines.alerts.policy import AlertPolicy, backoff, plan
from pipelines.core.dates import iso_utc
from pipelines.core.records import Verdict

if TYPE_CHECKING:
    from pipelines.store import Store

STALE_CLAIM = timedelta(minutes=15)  # a sender that held a claim this long has died


def queue(
    store: Store,
    article_id: int,
    verdicts: dict[str, Verdict],
    published: datetime | None,
    policy: AlertPolicy,
) -> int:
    """Queue the alerts an article's verdicts call for (in the caller's unit); how many."""
    planned = plan(policy, verdicts, published, datetime.now(UTC), store.story_alerted(article_id))
    for alert in planned:
        store.queue_alert(
            article_id,
            alert.watchlist,
            alert.recipient,
            alert.kind,
            alert.next_attempt_at,
            make_msgid("alert", policy.sender_domain),
        )
    return len(planned)


def open_digests(store: Store, policy: AlertPolicy) -> int:
    """Gather each recipient's waiting digest alerts into a new digest; returns how many."""
    recipients = store.digest_recipients()
    for recipient in recipients:
        store.open_digest(recipient, make_msgid("digest", policy.sender_domain))
    return len(recipients)


def queue_reports(
    store: Store, policy: AlertPolicy, start: datetime, end: datetime, page: Callable[[str], str]
) -> tuple[int, int]:
    """Queue the brief of [start, end) for every recipient of a route whose tiers list
    "report", once per recipient, watchlist and period; ``page(watchlist)`` makes the brief.
    Returns (queued, queued before)."""
    pages: dict[str, str] = {}
    queued = again = 0
    for route in policy.routes:
        if "report" not in route.tiers:
            continue
        brief = pages.setdefault(route.watchlist, page(route.watchlist))
        for recipient in route.to:
            message_id = make_msgid("brief", policy.sender_domain)
            if store.queue_report(
                recipient, route.watchlist, iso_utc(start), iso_utc(end), brief, message_id
            ):
                queued += 1
            else:
                again += 1
    return queued, again


def notice_health(store: Store, policy: AlertPolicy, states: dict[str, tuple[str, str]]) -> list[str]:
    """Record each source's (state, reason) and, when some changed, queue one email about the
    changes for each address of `health_to`. A source first seen ok is recorded quietly; one
    that comes back to ok is "recovered". Returns the changes, as lines."""
    before = store.source_states()
    changes = {s: new for s, new in states.items() if s not in before or before[s][0] != new[0]}
    told = []  # (source, was, now, reason)
    for source, (state, reason) in sorted(changes.items()):
        was = before.get(source, ("ok", ""))[0]
        if state != was:
            told.append(
                (source, was, "recovered" if state == "ok" else state, reason if state != "ok" else "")
            )
    lines = [f"{source}: {was} -> {now}" + (f": {why}" if why else "") for source, was, now, why in told]
    notices = []
    if told and policy.health_to:
        subject = "[wirewatch] sources: " + ", ".join(f"{source} {now}" for source, _, now, _ in told)
        text = "\n".join(
            ["Sources whose state changed:", "", *(f"  {line}" for line in lines), "", STATUS_HINT]
        )
        notices = [(to, subject, text, make_msgid("health", policy.sender_domain)) for to in policy.health_to]
    store.change_source_states(changes, notices)
    return lines


STATUS_HINT = "`wirewatch status` shows every source; README 'Health and status' says what the states mean."


def me() -> str:
    """This sender, as its claims name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(claimer: str | None) -> bool:
    host, _, pid = (claimer or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's sender: only its age can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_stale_claims(store: Store) -> None:
    """Claims left by a sender that died (its process is gone, or it held them too long) go
    back to pending; the resend keeps the Message-ID, so a copy the server had accepted is
    recognisable."""
    cutoff = datetime.now(UTC) - STALE_CLAIM

    def stale(claimed_at: str, claimed_by: str | None) -> bool:
        return datetime.fromisoformat(claimed_at) < cutoff or not _alive(claimed_by)

    store.release_claims(stale)


def failed(store: Store, table: str, row_id: int, error: str, temporary: bool, policy: AlertPolicy) -> str:
    """Record a failed attempt: pending again after a backoff, or failed for good (a
    permanent failure or too many attempts). Returns the new status."""

    def decide(attempts: int) -> tuple[str, timedelta]:
        status = "pending" if temporary and attempts < policy.max_attempts else "failed"
        return status, backoff(policy, attempts)

    return store.mark_failed(table, row_id, error, decide)
