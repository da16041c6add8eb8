"""What happens to each page: extract -> watch (flag) -> stories (group) -> store -> alerts.

One package per stage; `flow` calls them in order, and `scrapy_stages` is the thin Scrapy shell."""
