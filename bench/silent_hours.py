"""Does hour of day matter for `silent`? Replays a real week of two outlets' publication times.

    python bench/silent_hours.py [../shared/eval/stories-week/articles.jsonl]

Every 15 minutes of the week (after two days of history), each outlet's history so far (its last
200 articles) is judged by the rule in crawler/runtime/health.py and by the single threshold it
replaced (silent after max(6 h, 4 x the 90th-percentile gap)). The outlets were alive all
week, so every "silent" is a false alarm. Then a freeze: the history is cut at 14:00 and at
23:30 Karachi time on each day, and the time until each rule calls the outlet silent is shown.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.runtime.health import silent

STEP = timedelta(minutes=15)
KARACHI = timedelta(hours=5)


def one_threshold(fetched: list[datetime], now: datetime) -> bool:
    if len(fetched) < 20:
        return False
    gaps = sorted(b - a for a, b in pairwise(fetched))
    return now - fetched[-1] > max(timedelta(hours=6), 4 * gaps[int(0.9 * (len(gaps) - 1))])


def by_hour(fetched: list[datetime], now: datetime) -> bool:
    return silent(fetched, now) is not None


def seen_after(
    times: list[datetime], cut: datetime, rule: Callable[[list[datetime], datetime], bool]
) -> float:
    history = [t for t in times if t <= cut][-200:]
    now = cut
    while not rule(history, now) and now < cut + timedelta(days=3):
        now += STEP
    return round((now - cut).total_seconds() / 3600, 1)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/stories-week/articles.jsonl")
    outlets: dict[str, list[datetime]] = defaultdict(list)
    for line in path.read_text().splitlines():
        row = json.loads(line)
        outlets[row["source"]].append(datetime.fromisoformat(row["published"].replace("Z", "+00:00")))
    for outlet, times in outlets.items():
        times.sort()
        start = times[0] + timedelta(days=2)
        for name, rule in (("one threshold (before)", one_threshold), ("by hour of day (now)", by_hour)):
            now, false, days = start, 0, set()
            while now <= times[-1]:
                if rule([t for t in times if t <= now][-200:], now):
                    false += 1
                    days.add((now + KARACHI).date())
                now += STEP
            freezes = []
            for hour, minute in ((9, 0), (18, 30)):  # 14:00 and 23:30 in Karachi
                cut, delays = start.replace(hour=hour, minute=minute, second=0), []
                while cut < times[-1]:
                    delays.append(seen_after(times, cut, rule))
                    cut += timedelta(days=1)
                freezes.append(delays)
            print(
                f"{outlet:5} {name:24} wrongly silent {false * STEP.total_seconds() / 3600:5.1f} h on {len(days)} days; "
                f"a freeze at 14:00 seen after {freezes[0]} h, at 23:30 after {freezes[1]} h"
            )


if __name__ == "__main__":
    main()
