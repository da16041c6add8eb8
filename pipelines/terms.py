"""Term syntax shared by watchlists and the gazetteer, compiled to regular expressions.

A term is words separated by spaces. ``attack*`` matches any word starting with ``attack``;
``(national|citizen)s`` matches nationals and citizens; a hyphen also matches a space or a
dash (``Diamer-Bhasha`` finds "Diamer Bhasha"). A term in capitals (``BLA``, ``CPEC``)
matches only in capitals, every other term ignores case, and ``case`` overrides either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ALTERNATIVES = re.compile(r"\(([^()]+)\)")
_HYPHEN = r"[-‐‑–—\s]+"


class TermError(ValueError):
    """A term that cannot be compiled; the message says why."""


@dataclass(frozen=True)
class Term:
    text: str
    weight: float = 1.0
    case_sensitive: bool = False

    @property
    def regex(self) -> str:
        return term_regex(self.text)


def word_regex(word: str) -> str:
    out, pos = [], 0
    for match in _ALTERNATIVES.finditer(word):
        out.append(re.escape(word[pos : match.start()]))
        options = [re.escape(o) for o in match[1].split("|")]
        if not all(options):
            raise TermError(f"empty alternative in {word!r}")
        out.append("(?:" + "|".join(options) + ")")
        pos = match.end()
    rest = word[pos:]
    if "(" in rest or ")" in rest:
        raise TermError(f"unbalanced parentheses in {word!r}")
    wildcard = rest.endswith("*")
    rest = rest.rstrip("*")
    if "*" in rest:
        raise TermError(f"'*' may only end a word, in {word!r}")
    out.append(re.escape(rest).replace(r"\-", _HYPHEN))
    if wildcard:
        out.append(r"\w*")
    return "".join(out)


def term_regex(text: str) -> str:
    words = text.split()
    if not words:
        raise TermError("empty term")
    return r"\s+".join(word_regex(w) for w in words)


def is_capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def compile_terms(terms: list[Term]) -> re.Pattern[str]:
    """One pattern for many terms, longest first so "Chinese nationals" beats "Chinese"."""
    ordered = sorted(terms, key=lambda t: len(t.text), reverse=True)
    sensitive = [t.regex for t in ordered if t.case_sensitive]
    insensitive = [t.regex for t in ordered if not t.case_sensitive]
    parts = []
    if sensitive:
        parts.append("(?:" + "|".join(sensitive) + ")")
    if insensitive:
        parts.append("(?i:" + "|".join(insensitive) + ")")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")
