"""Schedule specs as the config file writes them: a crontab expression or `every 10m`.

Parsed and checked when the config is loaded; crawler/runtime/schedule.py plans jobs with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipelines.core.validation import parse_duration

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NUMERIC = re.compile(r"^(\d+)(?:-(\d+))?$")


def _cron_weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 Sunday) as names, which APScheduler 3.x reads like cron.

    APScheduler 3.x counts weekdays from Monday = 0, so "1-5" would mean Tuesday to Saturday;
    names mean the same to both.
    """
    names: list[str] = []
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        if (step_text and not step_text.isdigit()) or step_text == "0":
            raise ValueError(f"bad step in weekday field {field!r}")
        step = int(step_text or 1)
        match = _NUMERIC.match(base)
        if base == "*" and step_text:
            numbers = range(0, 7, step)
        elif match:
            low = int(match[1])
            high = int(match[2]) if match[2] else (6 if step_text else low)
            if not 0 <= low <= high <= 7:
                raise ValueError(f"weekday {base!r} out of range 0-7 (0 and 7 are Sunday)")
            numbers = range(low, high + 1, step)
        else:
            names.append(item)  # "*", names like "mon-fri": the same in both
            continue
        names.extend(_WEEKDAYS[n] for n in numbers)
    return ",".join(dict.fromkeys(names))


@dataclass(frozen=True)
class Spec:
    """A validated schedule: a crontab expression or an interval."""

    text: str
    cron: str | None = None
    every: timedelta | None = None

    def trigger(self, timezone: tzinfo) -> BaseTrigger:
        if self.every is not None:
            return IntervalTrigger(seconds=self.every.total_seconds(), timezone=timezone)
        assert self.cron is not None, "a Spec is either cron or every"
        minute, hour, day, month, weekday = self.cron.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_cron_weekdays(weekday),
            timezone=timezone,
        )


def parse_spec(value: str) -> Spec:
    """``"*/15 * * * *"`` or ``"every 10m"``; ValueError naming what is wrong otherwise."""
    text = " ".join(value.split())
    if text.startswith("every "):
        every = parse_duration(text[6:].replace(" ", ""))
        if every.total_seconds() < 1:
            raise ValueError(f"an interval of at least 1s, got {value!r}")
        return Spec(text, every=every)
    if len(text.split()) != 5:
        raise ValueError(
            f"expected a crontab expression like '*/15 * * * *' (five fields) "
            f"or an interval like 'every 10m', got {value!r}"
        )
    spec = Spec(text, cron=text)
    spec.trigger(UTC)  # validates every field
    return spec
