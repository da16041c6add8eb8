"""Running: one crawl cycle (`run`), regrouping, the schedule and the daemon.

Exit codes for cron live in `run`."""
