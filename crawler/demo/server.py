"""The bundled sample news site, served on loopback for `wirewatch demo`, tests and benchmarks.

Files under ``crawler/demo/site/`` are templates: ``{{BASE}}`` becomes the server's origin and
``{{ISO:-5}}`` (also RFC, HUMAN, DATELINE) the time five hours before the server started, so
the site always looks freshly published. Responses carry ETag and Last-Modified and answer
conditional requests with 304, like a WordPress site behind a cache.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

DEMO_SITE = Path(__file__).resolve().parent / "site"
DEMO_SEED = Path(__file__).resolve().parent / "seed.toml"
_PLACEHOLDER = re.compile(r"\{\{(BASE|ISO|RFC|HUMAN|DATELINE)(?::(-?\d+))?\}\}")
_KARACHI = ZoneInfo("Asia/Karachi")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_FEED_TYPE = "application/rss+xml; charset=utf-8"

# A route answers a request itself: (handler) -> None. Tests add fault endpoints this way.
Route = Callable[[BaseHTTPRequestHandler], None]


def render(template: str, base: str, anchor: datetime) -> str:
    def replace(match: re.Match[str]) -> str:
        kind, hours = match[1], int(match[2] or 0)
        if kind == "BASE":
            return base
        moment = (anchor + timedelta(hours=hours)).astimezone(_KARACHI)
        if kind == "ISO":
            return moment.isoformat()
        if kind == "RFC":
            return format_datetime(moment.astimezone(UTC))
        if kind == "HUMAN":
            return f"{moment:%B} {moment.day}, {moment.year}"
        return f"{moment:%b} {moment.day:02d}"

    return _PLACEHOLDER.sub(replace, template)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up (a timeout test) is not news


class DemoSite:
    """A threaded HTTP server on 127.0.0.1 and an ephemeral port, serving ``root``."""

    def __init__(
        self,
        root: Path = DEMO_SITE,
        routes: dict[str, Route] | None = None,
        page_delay: float = 0.0,
        static: bool = False,
        anchor: datetime | None = None,
    ):
        self.root = root
        self.static = static  # files are served as they are (benchmarks): no templating, cheap ETags
        self.routes = routes if routes is not None else {}
        self.page_delay = page_delay  # seconds before each HTML page: a slow site, for tests
        self.slow_lane = threading.Lock()
        # The time the site's dates are relative to: a minute ago, or an older one (a past site).
        self.anchor = anchor or datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        self.log: list[tuple[str, int]] = []  # (path, status) of every request served
        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def record(self, path: str, status: int) -> None:
        with self._lock:
            self.log.append((path, status))

    def file_for(self, path: str) -> Path | None:
        relative = path.split("?", 1)[0].lstrip("/")
        if ".." in relative.split("/") or relative.startswith("manifest"):
            return None
        target = self.root / relative
        if path.split("?", 1)[0].endswith("/"):
            for name in ("index.html", "index.xml"):
                if (target / name).is_file():
                    return target / name
            return None
        return target if target.is_file() else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                site.record(self.path, status)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in site.routes:
                    site.routes[path](self)
                    return
                file = site.file_for(self.path)
                if file is None:
                    self.send(
                        404,
                        b"<html><body><h1>Not found</h1></body></html>",
                        {"Content-Type": "text/html; charset=utf-8"},
                    )
                    return
                if site.page_delay and file.suffix == ".html":
                    with site.slow_lane:  # one slow page at a time, like an overloaded server
                        time.sleep(site.page_delay)
                if site.static:
                    stat = file.stat()
                    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
                    modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                    body = b"" if self.headers.get("If-None-Match") == etag else file.read_bytes()
                else:
                    body = render(file.read_text("utf-8"), site.base, site.anchor).encode()
                    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                    modified = site.anchor
                headers = {
                    "Content-Type": _FEED_TYPE if "/feed/" in path else _TYPES.get(file.suffix, "text/plain"),
                    "ETag": etag,
                    "Last-Modified": format_datetime(modified, usegmt=True),
                }
                if self.headers.get("If-None-Match") == etag:
                    self.send(304, b"", {"ETag": etag})
                    return
                self.send(200, body, headers)

        return Handler


def demo_seed_text(base: str) -> str:
    """The demo site's seed file, pointing at a running DemoSite."""
    return DEMO_SEED.read_text("utf-8").replace("{{BASE}}", base)
