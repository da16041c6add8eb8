"""Fault endpoints for the loopback test site: each answers one kind of bad input."""

from __future__ import annotations

import gzip
import time
from http.server import BaseHTTPRequestHandler

ARTICLE = """<!DOCTYPE html><html><head><title>{title}</title>
<meta property="article:published_time" content="{published}"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>
{paragraphs}</article><footer>Copyright</footer></body></html>"""

CP1252_TITLE = "Café owners in Islamabad welcome “extended” hours"


def article_html(title: str, published: str, sentences: int = 6) -> str:
    body = "".join(
        f"<p>ISLAMABAD (APP): Paragraph {i} of a story about {title.lower()}, long enough to be a real "
        "paragraph of wire copy with several clauses and details.</p>"
        for i in range(sentences)
    )
    return ARTICLE.format(title=title, published=published, paragraphs=body)


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    handler.send(status, body, headers)  # type: ignore[attr-defined]


def status(code: int):
    def route(handler: BaseHTTPRequestHandler) -> None:
        _send(
            handler, code, f"<html><body>error {code}</body></html>".encode(), {"Content-Type": "text/html"}
        )

    return route


def fixed(body: bytes, content_type: str = "application/rss+xml", extra: dict[str, str] | None = None):
    def route(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 200, body, {"Content-Type": content_type, **(extra or {})})

    return route


def slow(seconds: float):
    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        try:
            _send(
                handler,
                200,
                b"<rss version='2.0'><channel></channel></rss>",
                {"Content-Type": "application/rss+xml"},
            )
        except OSError:
            pass  # the client gave up, as it should

    return route


def redirect(target: str):
    def route(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 302, b"", {"Location": target})

    return route


NOT_XML_FEED = b"<html><body><h1>Welcome</h1><p>This is not a feed.</p></body></html>"
TRUNCATED_FEED = (
    b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Broken</title>'
    b"<item><title>Half an item</title><link>http://127.0.0.1/x/"
)
ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol9;</loc></url></urlset>"""


def gzip_bomb(size: int = 50_000_000) -> bytes:
    return gzip.compress(b"<" + b" " * size, compresslevel=9)


ENTITY_BOMB_FEED = ENTITY_BOMB.split(b"<urlset")[0] + (
    b'<rss version="2.0"><channel><title>&lol9;</title>'
    b"<item><title>Bomb</title><link>http://127.0.0.1/&lol9;</link></item></channel></rss>"
)
