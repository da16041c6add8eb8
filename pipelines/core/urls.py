"""URL normalisation: one article, one URL, whatever feed, sitemap or listing linked it."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that say how a reader arrived, not what they read.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl|amp|"
    r"ref|ref_src|source|cmpid|ito|ns_mchannel|ns_campaign|output_type)$",
    re.IGNORECASE,
)
_AMP_PATH = re.compile(r"/amp/?$")


def normalize_url(url: str) -> str:
    """Canonical form used as an article's key.

    Lower-cases scheme and host, drops default ports, fragments, tracking parameters and the
    AMP variant (``/slug/amp/``, ``?amp=1``), and sorts the remaining query parameters.
    """
    url = canonicalize_url(url.strip(), keep_fragments=False)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = _AMP_PATH.sub("/", parts.path) or "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


def is_private_host(host: str) -> bool:
    """True for a literal loopback, private, link-local or otherwise non-public IP address."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost")
    return not address.is_global
