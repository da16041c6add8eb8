"""Browser mode: a source's pages rendered by headless Chromium, through scrapy-playwright.

A seed with ``fetch = "browser"`` gets scrapy-playwright's download handler in its own crawler
(plain sources keep Scrapy's HTTP client and pay nothing). Its requests keep going through the
same downloader middlewares and slots as plain ones, so robots.txt, the User-Agent, the
per-domain delay, retries and the bot-protection check are the same; on top of that:

- every request the page makes (scripts, XHR, frames, redirects) passes the address guard
  (``RequestFilter``, a route interceptor), and images, media and fonts are not loaded;
- a bot check that sets a cookie and reloads is given a bounded time to pass before the page
  is read (``BrowserMiddleware._settle``); one that does not pass is reported as blocked;
- the answer the crawler sees is the last document's status and headers, with the rendered
  HTML, or the bytes as served when it is not HTML (feeds, sitemaps, robots.txt);
- one Chromium serves every browser source of a run (``SharedBrowser``), a context each, and
  every page is closed after use.

scrapy-playwright and playwright are an optional extra (``pip install 'wirewatch[browser]'``),
imported only here and only when a browser source runs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import logging
import shutil
import time
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured, NotSupported
from scrapy.http import Headers, TextResponse
from scrapy.responsetypes import responsetypes

from crawler.fetch.challenges import challenge
from crawler.fetch.middlewares import AddressPolicy

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, WebSocketRoute
    from playwright.async_api import Request as PageRequest
    from playwright.async_api import Response as PageResponse
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.config.seeds import Source
    from crawler.config.wirewatch import CrawlSettings

logger = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # looked for on PATH, in this order
INSTALL_PACKAGE = "pip install 'wirewatch[browser]'"
INSTALL_CHROMIUM = "apt-get install chromium"
SKIPPED_RESOURCES = frozenset({"image", "media", "font"})  # never needed for a story's text
CHALLENGE_WAIT = 15.0  # seconds a bot check may take to pass (at most the download timeout)
MAX_PAGES = 4  # pages open at once per browser source: each is a renderer process
IDLE_WAIT = 3.0  # seconds, at most, for a page's own requests (a story loaded by script) to end
HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


def chromium_path(configured: str) -> str | None:
    """The Chromium executable: ``configured`` (a path or a name on PATH), or the first of
    BROWSERS on PATH when it is empty; None when there is none."""
    if configured:
        path = Path(configured).expanduser()
        if "/" in configured:
            return str(path) if path.is_file() else None
        return shutil.which(configured)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def browser_problem(source: Source, crawl: CrawlSettings) -> str | None:
    """Why ``source`` cannot be fetched as its seed asks (the package or Chromium missing), or None."""
    if source.fetch != "browser":
        return None
    seed = f"seed {source.id} ({source.file or 'no file'})"
    if importlib.util.find_spec("scrapy_playwright") is None:
        return f'{seed} has fetch = "browser", but scrapy-playwright is not installed: {INSTALL_PACKAGE}'
    if chromium_path(crawl.chromium) is None:
        looked = repr(crawl.chromium) if crawl.chromium else f"none of {', '.join(BROWSERS)} on PATH"
        return (
            f'{seed} has fetch = "browser", but Chromium was not found ({looked}): {INSTALL_CHROMIUM}, '
            "or set [crawl] chromium to its path"
        )
    return None


def browser_settings(crawl: CrawlSettings, source: Source) -> dict[str, Any]:
    """The Scrapy settings that make ``source``'s crawler fetch with Chromium."""
    policy = AddressPolicy(crawl.allow_private_addresses, crawl.allow_private_hosts)
    return {
        "WIREWATCH_BROWSER": True,
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_BROWSER_PROVIDER": "crawler.fetch.browser.SharedBrowser",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": chromium_path(crawl.chromium),
            "headless": True,
            # /dev/shm is small in containers; no prefetching of names the guard has not seen.
            "args": ["--disable-dev-shm-usage", "--dns-prefetch-disable", "--disable-quic"],
        },
        # One context per source: its cookies (a passed bot check) are its own. Service
        # workers would fetch outside the page's routes, so the guard could not see them.
        "PLAYWRIGHT_CONTEXTS": {
            "default": {"user_agent": crawl.resolved_user_agent, "service_workers": "block"}
        },
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": MAX_PAGES,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": crawl.download_timeout * 1000,
        # The browser's own headers (its cookies, its Accept) with our User-Agent (the context's).
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": None,
        "PLAYWRIGHT_ABORT_REQUEST": RequestFilter(source.id, policy),
    }


class RequestFilter:
    """scrapy-playwright's PLAYWRIGHT_ABORT_REQUEST: called for every request a page makes;
    True aborts it. Images, media and fonts are skipped; addresses the guard refuses are refused."""

    def __init__(self, source: str, policy: AddressPolicy):
        self.source = source
        self.policy = policy
        self.refused = 0
        self.skipped = 0

    def __repr__(self) -> str:  # Scrapy logs its settings
        return f"<RequestFilter {self.source}>"

    async def __call__(self, request: PageRequest) -> bool:
        if request.resource_type in SKIPPED_RESOURCES:
            self.skipped += 1
            return True
        if request.url.startswith(("data:", "blob:", "about:")):
            return False  # nothing goes over the network
        reason = await self.policy.refusal(request.url)
        if reason:
            self.refused += 1
            logger.warning("[%s] browser request %s (%s)", self.source, reason, request.resource_type)
            return True
        return False


async def _no_websocket(route: WebSocketRoute) -> None:
    """WebSockets bypass the page's routes: none is connected (a story needs none)."""
    await route.close(code=1008, reason="not allowed by wirewatch")


class PageTooLarge(IgnoreRequest):
    """A rendered page or served body larger than max_page_bytes."""


class BrowserMiddleware:
    """A browser source's requests go to Chromium; its answers come back as the last document
    seen, after a bot check that reloads had its chance (see the module's docstring)."""

    def __init__(self, crawler: Crawler):
        from scrapy_playwright.page import PageMethod

        self.page_method = PageMethod
        self.crawler = crawler
        self.max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.challenge_wait = min(CHALLENGE_WAIT, crawler.settings.getfloat("DOWNLOAD_TIMEOUT"))
        self.filter = crawler.settings["PLAYWRIGHT_ABORT_REQUEST"]
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserMiddleware:
        if not crawler.settings.getbool("WIREWATCH_BROWSER"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        navigations: list[PageResponse] = []  # the page's main-frame documents, in order
        request.meta.pop("browser_answer", None)
        request.meta.update(
            playwright=True,
            playwright_page_init_callback=partial(self._watch, navigations),
            playwright_page_methods=[self.page_method(self._settle, request, navigations)],
        )

    @staticmethod
    async def _watch(navigations: list[PageResponse], page: Page, request: Request) -> None:
        def seen(response: PageResponse) -> None:
            if response.request.is_navigation_request() and response.request.frame == page.main_frame:
                navigations.append(response)

        page.on("response", seen)
        await page.route_web_socket("**", _no_websocket)

    async def _settle(self, page: Page, request: Request, navigations: list[PageResponse]) -> None:
        """Wait (a bounded time) for a bot check to reload into the page, and for the page's own
        requests to end; keep the last document's status, headers and, if not HTML, its bytes."""
        from playwright.async_api import Error

        deadline = time.monotonic() + self.challenge_wait
        while navigations:
            response = navigations[-1]
            try:
                html = await page.content()
            except Error:
                html = None  # navigating: the check reloads
            headers = {k: v.lower() for k, v in (await response.all_headers()).items()}
            if html is not None and challenge(response.status, headers, html.encode()) is None:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break  # still a challenge: BotProtectionMiddleware reports the block
            with suppress(Error):  # timed out: the loop's test says what it is
                await page.wait_for_event("load", timeout=remaining * 1000)
        if not navigations:
            return  # a download: scrapy-playwright's answer stands
        with suppress(Error):  # a page that keeps polling: read it as it is
            await page.wait_for_load_state("networkidle", timeout=IDLE_WAIT * 1000)
        final = navigations[-1]
        headers = await final.all_headers()
        raw = None
        if "html" not in headers.get("content-type", "html"):
            try:
                raw = await final.body()
            except Error:
                raw = None
        address = None
        try:
            served = await final.server_addr()
            address = ipaddress.ip_address(served["ipAddress"]) if served else None
        except (Error, ValueError):
            pass
        request.meta["browser_answer"] = (final.status, headers, raw, address)

    def process_response(self, request: Request, response: Response) -> Response:
        answer = request.meta.pop("browser_answer", None)
        if answer is None:
            return response
        status, served, raw, address = answer
        headers = Headers(
            {k: v for k, v in served.items() if k not in ("content-encoding", "content-length", "set-cookie")}
        )
        body = raw if raw is not None else response.body
        size = max(len(body), int(served.get("content-length") or 0))
        if size > self.max_bytes:
            raise PageTooLarge(f"{request.url}: {size} bytes, more than max_page_bytes ({self.max_bytes})")
        cls = responsetypes.from_args(headers=headers, url=response.url, body=body)
        kwargs: dict[str, Any] = {}
        if raw is None and issubclass(cls, TextResponse) and isinstance(response, TextResponse):
            kwargs["encoding"] = response.encoding  # the rendered HTML, as scrapy-playwright encoded it
        return cls(
            url=response.url,
            status=status,
            headers=headers,
            body=body,
            request=request,
            flags=response.flags,
            ip_address=address or response.ip_address,
            **kwargs,
        )

    def spider_closed(self, reason: str) -> None:
        stats = self.crawler.stats
        if stats is not None and isinstance(self.filter, RequestFilter):
            stats.set_value("wirewatch/browser/refused", self.filter.refused)
            stats.set_value("wirewatch/browser/skipped_resources", self.filter.skipped)


class _Borrowed:
    """The shared browser as one source's handler sees it: closing it is the provider's job."""

    def __init__(self, browser: Browser):
        self._browser = browser

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    async def close(self) -> None:
        pass


class SharedBrowser:
    """PLAYWRIGHT_BROWSER_PROVIDER: one Playwright driver and one Chromium for all the browser
    sources of a run (each source's handler gets a context of its own), closed with the last."""

    _manager: Any = None
    _playwright: Any = None
    _browser: Browser | None = None
    _users = 0
    _lock: asyncio.Lock | None = None

    def __init__(self, config: Any):
        self.config = config

    async def start(self) -> None:
        cls = SharedBrowser
        cls._users += 1
        if cls._playwright is None:
            from playwright.async_api import async_playwright

            cls._manager = async_playwright()
            cls._playwright = await cls._manager.start()

    async def launch_browser(self) -> Any:
        cls = SharedBrowser
        if cls._lock is None:
            cls._lock = asyncio.Lock()
        async with cls._lock:
            if cls._browser is None or not cls._browser.is_connected():
                logger.info("launching Chromium (%s)", self.config.launch_options.get("executable_path"))
                cls._browser = await cls._playwright.chromium.launch(**self.config.launch_options)
        return _Borrowed(cls._browser)

    async def launch_persistent_context(self, context_kwargs: dict[str, Any]) -> Any:
        raise NotSupported("wirewatch's browser mode uses no persistent contexts")

    async def close(self) -> None:
        cls = SharedBrowser
        cls._users -= 1
        if cls._users > 0:
            return
        if cls._browser is not None:
            await cls._browser.close()
        if cls._manager is not None:
            await cls._manager.__aexit__()
        cls._manager = cls._playwright = cls._browser = None
