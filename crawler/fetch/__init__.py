"""Fetching: Scrapy settings and download middlewares (politeness, known URLs, safety).

Everything between a URL and a response the pipeline can read."""
