"""Text as matching sees it: one normal form for watchlists, grouping and the full-text index.

Outlets publish invisible characters inside words (soft hyphens from ``&shy;``, zero-width
spaces and joiners) and compatibility forms (ligatures, full-width letters, non-breaking
spaces). ``clean_text`` removes or folds them; the stored text stays as published.
"""

from __future__ import annotations

import re
import unicodedata

# Soft hyphen, zero-width space/non-joiner/joiner, word joiner, invisible operators, BOM.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060-\u2064\ufeff]")
# A headline's trailing site and section, as many outlets title their pages:
# "Attack on convoy - Pakistan - DAWN.COM", "... | Business | The Express Tribune": the site is a
# domain name or "The ...", the optional section before it a few words.
_SITE_SUFFIX = re.compile(
    r"(?:\s+[-|–—]\s+[^-|–—\n]{1,40}?)?\s+[-|–—]\s+"
    r"(?:(?i:[a-z0-9-]+\.(?:com|net|org|pk|tv|news)(?:\.[a-z]{2})?)|The\s+[A-Z][\w ]{2,30})\s*$"
)


def clean_text(text: str) -> str:
    """``text`` without invisible characters and in Unicode compatibility form (NFKC)."""
    if text.isascii():
        return text
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def headline(title: str) -> str:
    """The headline without a trailing " - Section - SITE" (or " | SITE") the outlet appends."""
    return _SITE_SUFFIX.sub("", title).rstrip() or title
