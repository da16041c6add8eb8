"""Term syntax shared by watchlists and the gazetteer, compiled to regular expressions.

A term is words separated by spaces. ``attack*`` matches any word starting with ``attack``, a
lone ``*`` any one word; ``(national|citizen)s`` matches nationals and citizens; a hyphen also
matches a space or a dash (``Diamer-Bhasha`` finds "Diamer Bhasha"). A term in capitals
(``BLA``, ``CPEC``) matches only in capitals, every other term ignores case, and ``case``
overrides either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import ahocorasick

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
    if word == "*":  # any one word: "blasts * for"
        return r"\w+"
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


def expand(word: str) -> list[str]:
    """The literal spellings of one word's alternatives: "(B|P)esham" -> Besham, Pesham."""
    parts: list[list[str]] = []
    pos = 0
    for match in _ALTERNATIVES.finditer(word):
        parts.append([word[pos : match.start()]])
        parts.append(match[1].split("|"))
        pos = match.end()
    parts.append([word[pos:]])
    return ["".join(combo) for combo in product(*parts)]


_DASHES = str.maketrans({c: "-" for c in "‐‑–—"})


def _normal(text: str) -> str:
    """Lower case, one kind of dash, single spaces: what stems are looked for in."""
    text = text.lower()
    if any(dash in text for dash in "‐‑–—"):  # translate() is slow; most texts have no dash
        text = text.translate(_DASHES)
    return " ".join(text.split())


def stems(text: str) -> set[str]:
    """What any match of the term must contain, lower-cased, from its start up to the first
    wildcard: "Chinese (national|citizen)s" gives {"chinese nationals", "chinese citizens"};
    a hyphen gives both "-" and " " ("m-8", "m 8")."""
    words = []
    for word in text.split():
        head, star, _ = word.partition("*")
        words.append(head)
        if star:
            break
    out = set()
    for combo in product(*(expand(w) for w in words)):
        stem = " ".join(combo).lower().translate(_DASHES)
        variants = [""]
        for part in re.split(r"(-)", stem):
            variants = [v + alt for v in variants for alt in (["-", " "] if part == "-" else [part])]
        out.update(variants)
    return out


class Prefilter:
    """Aho-Corasick over the lower-cased article, in one pass: could any rule fire? A rule is
    a list of conditions it cannot fire without, each a list of terms; the article must hold the
    beginning of some term of every condition of at least one rule. A superset of what the
    rules' regular expressions match, at a fraction of their cost."""

    def __init__(self, rules: list[list[list[Term]]]):
        self.automaton = ahocorasick.Automaton()
        self.rules: list[frozenset[int]] = []
        self.usable = bool(rules)
        keys: dict[str, set[int]] = {}
        condition = 0
        for conditions in rules:
            ids = []
            for terms in conditions:
                for term in terms:
                    for stem in stems(term.text):
                        if not stem.strip():
                            self.usable = False  # a term that starts with a wildcard
                        keys.setdefault(stem, set()).add(condition)
                ids.append(condition)
                condition += 1
            self.rules.append(frozenset(ids))
        for stem, owners in keys.items():
            self.automaton.add_word(stem, (len(stem), frozenset(owners)))
        if keys:
            self.automaton.make_automaton()

    def search(self, text: str) -> bool:
        normal = _normal(text)
        found: set[int] = set()
        for end, (length, conditions) in self.automaton.iter(normal):
            start = end - length + 1
            if start == 0 or not normal[start - 1].isalnum():
                found |= conditions
                if any(rule <= found for rule in self.rules):
                    return True
        return False


class Masker:
    """Blanks every match of many terms (a watchlist's [mask]) with spaces, offsets unchanged.

    One regular expression of a hundred alternatives tries each of them at every word of the
    article; instead Aho-Corasick finds, in one pass, which terms' beginnings occur at all, and
    only those few are matched (their pattern compiled once per combination)."""

    def __init__(self, terms: list[Term]):
        self.terms = tuple(terms)
        self.automaton = ahocorasick.Automaton()
        self.always: frozenset[int] = frozenset(
            i for i, term in enumerate(terms) if any(not s.strip() for s in stems(term.text))
        )
        keys: dict[str, set[int]] = {}
        for i, term in enumerate(terms):
            for stem in stems(term.text):
                if stem.strip():
                    keys.setdefault(stem, set()).add(i)
        for stem, owners in keys.items():
            self.automaton.add_word(stem, frozenset(owners))
        if keys:
            self.automaton.make_automaton()
        self.searchable = bool(keys)

    def sub(self, text: str) -> str:
        found = set(self.always)
        if self.searchable:
            for _, owners in self.automaton.iter(_normal(text)):
                found |= owners
        if not found:
            return text
        pattern = self._pattern(frozenset(found))
        return pattern.sub(lambda m: " " * len(m[0]), text)

    @lru_cache(maxsize=256)  # noqa: B019 - one Masker per watchlist, kept for the process
    def _pattern(self, which: frozenset[int]) -> re.Pattern[str]:
        return compile_terms([self.terms[i] for i in sorted(which)])
