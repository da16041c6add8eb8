"""Scrapy settings for one source's crawl, built from the config and the seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.settings import default_settings

from crawler.config.seeds import Source
from crawler.config.wirewatch import Config
from crawler.fetch.browser import browser_settings
from pipelines.analyse import WatchlistFiles
from pipelines.watch.watchlist import Watchlist

# Scrapy components wirewatch never uses. Left out of Scrapy's base lists, not just disabled
# (None), because Scrapy imports every listed component: the cookie jar brings tldextract,
# the feed exporter and the telnet console their own stacks, and Scrapy 2.19's RemoteControl
# (an HTTP server on localhost that runs Python code sent to it) brings aiohttp. Together
# they were a third of the CPU of a run that finds nothing new.
_UNUSED = {
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.closespider.CloseSpider",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.logstats.LogStats",
    "scrapy.extensions.spiderstate.SpiderState",
    "scrapy.extensions.remote_control.RemoteControl",
    # A warning for spider authors about copied request meta, checked on every request.
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware",
}


def _base(name: str) -> dict[str, int]:
    return {k: v for k, v in getattr(default_settings, name).items() if k not in _UNUSED}


def crawl_settings(
    config: Config, source: Source, watchlists: list[Watchlist], database: Path
) -> dict[str, Any]:
    crawl = config.crawl
    delay = source.download_delay if source.download_delay is not None else crawl.download_delay
    per_domain = source.concurrent_requests_per_domain or crawl.concurrent_requests_per_domain
    polite = {
        # Identify ourselves and keep to what the site asks and can bear.
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(delay, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": delay,
        "RANDOMIZE_DOWNLOAD_DELAY": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "WIREWATCH_RETRY_BACKOFF": crawl.retry_backoff,
    }
    impolite = {
        # crawl.polite = false: loopback test sites and benchmarks only.
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "WIREWATCH_RETRY_BACKOFF": 0.0,
    }
    downloader_middlewares = {
        "crawler.fetch.middlewares.AddressGuardMiddleware": 50,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawler.fetch.middlewares.BackoffRetryMiddleware": 550,
        "crawler.fetch.middlewares.ConditionalGetMiddleware": 560,
        # Sees answers decompressed (590) and before they are retried (550).
        "crawler.fetch.challenges.BotProtectionMiddleware": 580,
    }
    browser: dict[str, Any] = {}
    if source.fetch == "browser":
        browser = browser_settings(crawl, source)
        # Turns the browser's answer into the last document's before the challenge check sees it.
        downloader_middlewares["crawler.fetch.browser.BrowserMiddleware"] = 585
    return {
        "BOT_NAME": "wirewatch",
        "USER_AGENT": crawl.resolved_user_agent,
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": config.log_level,
        "LOGSTATS_INTERVAL": 0,
        "STATS_DUMP": config.log_level == "DEBUG",
        "CONCURRENT_REQUESTS": 16,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DNS_TIMEOUT": min(crawl.download_timeout, 20),
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": 5,
        "DUPEFILTER_CLASS": "crawler.fetch.middlewares.LoopAwareDupeFilter",
        "RETRY_ENABLED": crawl.retry_times > 0,
        "RETRY_TIMES": crawl.retry_times,
        "RETRY_HTTP_CODES": [408, 429, 500, 502, 503, 504, 522, 524],
        **(polite if crawl.polite else impolite),
        "REMOTE_CONTROL_ENABLED": False,
        "EXTENSIONS_BASE": _base("EXTENSIONS_BASE"),
        "DOWNLOADER_MIDDLEWARES_BASE": _base("DOWNLOADER_MIDDLEWARES_BASE"),
        "SPIDER_MIDDLEWARES_BASE": _base("SPIDER_MIDDLEWARES_BASE"),
        "DOWNLOADER_MIDDLEWARES": downloader_middlewares,
        # Scrapy starts CONCURRENT_ITEMS tasks for every response's output (100 by default),
        # though an article page yields one item: a few are plenty and cost far less.
        "CONCURRENT_ITEMS": 1,
        "SPIDER_MIDDLEWARES": {
            "crawler.fetch.middlewares.KnownUrlsMiddleware": 600,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,  # no depth limits here
        },
        "ITEM_PIPELINES": {
            "pipelines.scrapy_stages.ArchiveStage": 50,
            "pipelines.scrapy_stages.AnalyseStage": 100,
            "pipelines.scrapy_stages.KeepStage": 300,
        },
        "WIREWATCH_SOURCE": source,
        "WIREWATCH_WATCHLISTS": watchlists,
        "WIREWATCH_WATCHLIST_FILES": WatchlistFiles(
            config.watchlist_paths, config.gazetteer, config.nlp_model
        ),
        "WIREWATCH_WORKERS": crawl.workers,
        "WIREWATCH_DB": str(database),
        # [storage] archive = "warc": the crawl's WARC files go to `archive/` beside the database.
        "WIREWATCH_ARCHIVE": str(database.parent / "archive") if config.storage.archive == "warc" else None,
        "WIREWATCH_ARCHIVE_BYTES": config.storage.archive_file_mb << 20,
        "WIREWATCH_ALLOW_PRIVATE": crawl.allow_private_addresses,
        "WIREWATCH_ALLOW_PRIVATE_HOSTS": list(crawl.allow_private_hosts),
        "WIREWATCH_ALERTS": config.alerts,
        **browser,
    }
