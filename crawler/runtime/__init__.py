"""Running: one crawl cycle (`run`), its lock, the schedule and the daemon.

Exit codes for cron live here."""
