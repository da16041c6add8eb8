"""Bot protection: telling a challenge or block page from a real answer, and stopping there.

Outlets behind Cloudflare, Sucuri, DDoS-Guard, Akamai or Imperva (Incapsula) may answer a
crawler with a challenge ("Just a moment...", a script that sets a cookie and reloads) or a
block page instead of the feed or article. Retrying every page of such a source only digs the
hole deeper, and an "HTTP 403" tells the operator nothing. A challenge is recognised by its
vendor's own markers, never by the status alone (a 503 can be an outage, a 403 a real
"forbidden"); the source is then reported as `blocked (bot protection: VENDOR)` and not asked
again for the rest of the run.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from pipelines.scrapy_stages import record_error

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

BLOCK_STATUSES = frozenset({403, 429, 503})
SNIFF_BYTES = 65_536  # challenge pages are smaller than this; their markers are near the top

# Per vendor: response headers that only its block or challenge answers carry, and markers of
# its challenge or block pages (lower case). A header alone decides only with a block status;
# a 200 page counts only with a body marker (a real page served through the vendor carries
# its ordinary headers, such as Cloudflare's cf-ray, too).
_VENDORS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "cloudflare": (
        (("cf-mitigated", "challenge"),),
        (
            "<title>just a moment...</title>",
            "/cdn-cgi/challenge-platform/",
            "window._cf_chl_opt",
            "cf-browser-verification",
            "attention required! | cloudflare",
        ),
    ),
    "sucuri": (
        (("x-sucuri-block", ""), ("server", "sucuri")),
        ("sucuri website firewall", "sucuri_cloudproxy_js", "cloudproxy@sucuri.net"),
    ),
    "ddos-guard": (
        (("server", "ddos-guard"),),
        ("ddos-guard.net/", "check.ddos-guard.net", "__ddg1"),
    ),
    "akamai": (
        (("server", "akamaighost"),),
        ("errors.edgesuite.net", "akamai bot manager", "_abck"),
    ),
    "imperva": (
        (("x-iinfo", ""), ("x-cdn", "incapsula")),
        ("_incapsula_resource", "incapsula incident id", "request unsuccessful. incapsula"),
    ),
}
# A page that is nothing but a script setting a cookie and reloading: a challenge of some kind.
_SCRIPT_ONLY = re.compile(r"document\.cookie\s*=.*?(location\.reload|location\.href|location\.replace)", re.S)
_TEXT = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


class Blocked(IgnoreRequest):
    """A request not made, or an answer not used, because the source's bot protection blocks us."""


def challenge(status: int, headers: dict[str, str], body: bytes) -> str | None:
    """The vendor whose challenge or block this answer is ("cloudflare", ...), "javascript
    challenge" for a page that is only a cookie-setting script, or None for a real answer."""
    if status not in BLOCK_STATUSES and status != 200:
        return None
    if status == 200 and len(body) > SNIFF_BYTES:
        return None  # a challenge page is a few kilobytes; reading every article page cost 0.26 ms
    text = body[:SNIFF_BYTES].decode("latin-1").lower()
    for vendor, (vendor_headers, markers) in _VENDORS.items():
        if any(marker in text for marker in markers):
            return vendor
        if status in BLOCK_STATUSES and any(
            name in headers and value in headers[name] for name, value in vendor_headers
        ):
            return vendor
    if len(body) < 16_384 and _SCRIPT_ONLY.search(text) and len(" ".join(_TEXT.sub(" ", text).split())) < 200:
        return "javascript challenge"
    return None


class BotProtectionMiddleware:
    """Recognises a challenge or block answer, records it once as the source's error and asks
    the source nothing more in this crawl (each request not made is counted, not reported)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.vendor: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BotProtectionMiddleware:
        return cls(crawler)

    def _message(self) -> str:
        return f"blocked (bot protection: {self.vendor})"

    def process_request(self, request: Request) -> None:
        if self.vendor is not None:
            raise Blocked(self._message())

    def process_response(self, request: Request, response: Response) -> Response:
        headers = {
            key.decode("latin-1").lower(): b", ".join(values).decode("latin-1").lower()
            for key, values in response.headers.items()
        }
        vendor = challenge(response.status, headers, response.body)
        if vendor is None:
            return response
        first = self.vendor is None
        self.vendor = vendor
        stats = self.crawler.stats
        if first and stats is not None:
            source = self.crawler.settings["WIREWATCH_SOURCE"]
            stats.set_value("wirewatch/blocked", vendor)
            record_error(
                stats,
                source.id if source else "?",
                request.url,
                f"{self._message()}: HTTP {response.status}; not asking this source again in this run",
                request.meta.get("kind", "page"),
            )
        raise Blocked(self._message())
