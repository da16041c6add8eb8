"""Watchlists: score an article against a rule set and keep the reasons.

``Watchlist.classify(title, text)`` is the whole interface the pipeline, `classify`,
`evaluate` and `rescore` use. It matches the text in normal form (`pipelines.core.text`) and the
headline without the outlet's " - Section - SITE" suffix. A cheap prefilter runs first; only an
article that could fire a rule is split into sentences and, when a rule needs entities, given
to spaCy.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.core.records import Verdict
from pipelines.core.text import clean_text, headline
from pipelines.core.validation import ConfigError, read_toml, toml_files
from pipelines.watch.entities import NER_LABELS, Entity, EntityFinder, Gazetteer, load_gazetteer
from pipelines.watch.rules import Leaf, Node, Rule, RuleSet, parse_rules
from pipelines.watch.terms import Masker, Prefilter, Term

MAX_EVIDENCE = 3  # sentences kept per rule
MAX_EVIDENCE_CHARS = 400


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    weight: float = 1.0
    entity: str | None = None


# Sentence ends: . ! ? (and closing quotes) before a capital or digit, except after an
# abbreviation common in wire copy or an initial ("Lt. Gen.", "Mr.", "M. Ali").
_BOUNDARY = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "lt",
        "gen",
        "col",
        "maj",
        "capt",
        "brig",
        "cdr",
        "adm",
        "sgt",
        "insp",
        "supt",
        "no",
        "nos",
        "st",
        "govt",
        "dept",
        "pvt",
        "ltd",
        "co",
        "inc",
        "corp",
        "jr",
        "sr",
        "vs",
        "rs",
        "mt",
        "ft",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
    ]
)
_WORD = re.compile(r"\w+")
# Between two clauses of a sentence, or two items of a list: "Gwadar Free Zone, security concerns".
_CLAUSE_BREAK = re.compile(r"[,;:]|\s[-–—]\s")


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence ranges of ``text[start:end]`` as absolute offsets."""
    out, begin = [], start
    for match in _BOUNDARY.finditer(text, start, end):
        before = text[begin : match.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue
        out.append((begin, match.start() + 1))
        begin = match.end()
    if begin < end:
        out.append((begin, end))
    return out


class _Doc:
    """An article prepared for matching: the title, a blank line, then the text."""

    def __init__(self, title: str, text: str, mask: Masker | None, finder: EntityFinder | None):
        self.title_end = len(title)
        self.full = f"{title}\n\n{text}"
        self.masked = mask.sub(self.full) if mask else self.full
        self.finder = finder
        self._spans: dict[Leaf, list[Span]] = {}
        self._shared: dict[tuple[Any, ...], list[Span]] = {}
        self._prefix_spans: dict[tuple[Leaf, int], list[Span]] = {}
        self._units: dict[str, list[tuple[int, int]]] = {}
        self._entities: tuple[Entity, ...] | None = None
        self._words: list[int] | None = None

    def paragraphs(self) -> list[tuple[int, int]]:
        return self.units("paragraph")

    def units(self, scope: str) -> list[tuple[int, int]]:
        if scope not in self._units:
            paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", self.full) if m[0].strip()]
            if scope == "paragraph":
                units = paragraphs
            elif scope == "sentence":
                units = [s for start, end in paragraphs for s in split_sentences(self.full, start, end)]
            elif scope == "title":
                units = [(0, self.title_end)]
            elif scope == "lead":  # the title and the first two paragraphs
                units = [(0, paragraphs[min(2, len(paragraphs) - 1)][1])] if paragraphs else []
            else:
                units = [(0, len(self.full))]
            self._units[scope] = units
        return self._units[scope]

    def entities(self) -> tuple[Entity, ...]:
        if self._entities is None:
            self._entities = self.finder.find(self.full) if self.finder else ()
        return self._entities

    def spans(self, leaf: Leaf, upto: int | None = None) -> list[Span]:
        """The leaf's matches in the article, or in its beginning up to ``upto`` (the title, the
        lead: a cheaper search when the whole article is not needed)."""
        if upto is not None and leaf.pattern is not None and leaf not in self._spans:
            if (leaf, upto) not in self._prefix_spans:
                self._prefix_spans[leaf, upto] = [
                    Span(m.start(), m.end(), m[0], _weight(leaf, m[0]))
                    for m in leaf.pattern.finditer(self.masked, 0, upto)
                ]
            return self._prefix_spans[leaf, upto]
        if leaf not in self._spans:
            # Rules that use the same group or entity label share its spans: found once.
            key = (leaf.entity, leaf.entity_text, leaf.pattern, leaf.weighted)
            if key not in self._shared:
                if leaf.entity is not None:
                    self._shared[key] = [
                        Span(e.start, e.end, e.text, 1.0, e.label)
                        for e in self.entities()
                        if e.label == leaf.entity
                        and (leaf.entity_text is None or leaf.entity_text.search(e.text))
                    ]
                else:
                    assert leaf.pattern is not None
                    self._shared[key] = [
                        Span(m.start(), m.end(), m[0], _weight(leaf, m[0]))
                        for m in leaf.pattern.finditer(self.masked)
                    ]
            self._spans[leaf] = self._shared[key]
        return self._spans[leaf]

    def word_index(self, offset: int) -> int:
        return bisect.bisect_right(self.words(), offset)

    def word_count(self) -> int:
        return len(self.words())

    def words(self) -> list[int]:
        if self._words is None:
            self._words = [m.start() for m in _WORD.finditer(self.full)]
        return self._words

    def sentence_around(self, start: int, end: int) -> str:
        for s, e in self.units("sentence"):
            if s <= start < e:
                return self.full[s : max(e, min(end, e))].strip()
        return self.full[start:end]


def _weight(leaf: Leaf, text: str) -> float:
    return max((w for pattern, w in leaf.weighted if pattern.fullmatch(text)), default=1.0)


def _match(node: Node | Leaf, doc: _Doc, start: int, end: int) -> list[Span] | None:
    """The evidence spans when the condition holds inside [start, end), else None."""
    if isinstance(node, Leaf):
        spans = doc.spans(node, end if start == 0 and end < len(doc.full) else None)
        first = bisect.bisect_left(spans, start, key=lambda s: s.start)
        inside = [s for s in spans[first:] if s.start < end and s.end <= end]
        return inside or None
    if node.op == "not":
        return None if _match(node.children[0], doc, start, end) is not None else []
    found: list[Span] = []
    matched_any = False
    for child in node.children:
        evidence = _match(child, doc, start, end)
        if evidence is None:
            if node.op == "all":
                return None
            continue
        matched_any = True
        found.extend(evidence)
    return found if (node.op == "all" or matched_any) else None


def _anywhere(node: Node | Leaf, doc: _Doc) -> bool:
    """Could the condition hold somewhere: is each item it needs found in the article?"""
    if isinstance(node, Leaf):
        return bool(doc.spans(node))
    if node.op == "not":
        return True
    test = all if node.op == "all" else any
    return test(_anywhere(child, doc) for child in node.children)


def _windows(rule: Rule, doc: _Doc) -> list[tuple[int, int, list[Span]]]:
    """For `within = N`: per sentence (the default scope), title or paragraph (every other
    scope), the first window of N words holding every item."""
    assert rule.within is not None
    required = [c for c in rule.condition.children if not (isinstance(c, Node) and c.op == "not")]
    excluded = [c for c in rule.condition.children if isinstance(c, Node) and c.op == "not"]
    if not _anywhere(rule.condition, doc):  # some item is nowhere: no window to look for
        return []
    out = []
    for p_start, p_end in doc.units(rule.scope if rule.scope in ("sentence", "title") else "paragraph"):
        events = []
        for i, item in enumerate(required):
            leaves = [item] if isinstance(item, Leaf) else list(item.children)
            for leaf in leaves:
                assert isinstance(leaf, Leaf)
                for span in doc.spans(leaf):
                    if span.start >= p_start and span.end <= p_end:
                        events.append((doc.word_index(span.start), i, span))
        events.sort(key=lambda e: (e[0], e[2].start))
        counts: dict[int, int] = {}
        left = 0
        for right, (position, item_index, _) in enumerate(events):
            counts[item_index] = counts.get(item_index, 0) + 1
            while position - events[left][0] >= rule.within:
                counts[events[left][1]] -= 1
                if not counts[events[left][1]]:
                    del counts[events[left][1]]
                left += 1
            if len(counts) == len(required):
                if rule.clause:  # the nearest match of each item before this one, in one clause
                    latest: dict[int, Span] = {}
                    for _, index, span in events[left : right + 1]:
                        latest[index] = span
                    window = sorted(latest.values(), key=lambda s: s.start)
                    if _CLAUSE_BREAK.search(doc.full, window[0].end, window[-1].start):
                        continue
                else:
                    window = [e[2] for e in events[left : right + 1]]
                start, end = window[0].start, max(s.end for s in window)
                if all(_match(x, doc, start, end) is not None for x in excluded):
                    out.append((start, end, window))
                    break
    return out


class Watchlist:
    def __init__(self, rules: RuleSet, finder: EntityFinder | None = None):
        self.rules = rules
        self.name = rules.name
        self.finder = finder
        self.needs_entities = any(
            _leaves(r.condition, lambda leaf: leaf.entity is not None) for r in rules.rules
        )
        self.prefilter = _prefilter(rules, finder.gazetteer if finder else None)

    def __repr__(self) -> str:
        return f"<Watchlist {self.name} from {self.rules.file}>"

    def load(self) -> None:
        """Load what classifying may need (the entity pipeline) now, not at the first article
        that needs it."""
        if self.finder is not None and self.needs_entities:
            self.finder.load()

    def classify(self, title: str, text: str) -> Verdict:
        title, text = headline(clean_text(title)), clean_text(text)
        if self.prefilter is not None and not self.prefilter.search(f"{title}\n\n{text}"):
            return Verdict(False, None, None, 0.0, [])
        doc = _Doc(title, text, self.rules.mask, self.finder if self.needs_entities else None)
        score, reasons, by_type = 0.0, [], dict[str, float]()
        fired: set[str] = set()
        for rule in self.rules.rules:
            if (
                not fired.issuperset(rule.requires)
                or fired.intersection(rule.unless)
                or (rule.min_words and doc.word_count() < rule.min_words)
            ):
                continue
            if rule.within is not None:
                units = _windows(rule, doc)
            elif rule.scope in ("sentence", "paragraph") and not _anywhere(rule.condition, doc):
                units = []  # not one sentence to try: some item is nowhere in the article
            else:
                units = []
                for start, end in doc.units(rule.scope):
                    spans = _match(rule.condition, doc, start, end)
                    if spans is not None:
                        units.append((start, end, spans))
            if len(units) < rule.min_units:
                continue
            spans = [s for _, _, unit_spans in units for s in unit_spans]
            term_weight = max((s.weight for s in spans), default=1.0)
            points = round(rule.weight * term_weight * min(len(units), rule.max_units), 3)
            score += points
            fired.add(rule.name)
            if rule.type and points > 0:
                by_type[rule.type] = by_type.get(rule.type, 0.0) + points
            reasons.append(_reason(rule, points, units, spans, doc))
        score = round(score, 3)
        tier = "core" if score >= self.rules.core else "mention" if score >= self.rules.mention else None
        kind = max(by_type, key=lambda t: by_type[t]) if tier and by_type else None
        return Verdict(tier is not None, tier, kind, score, reasons)


def _reason(
    rule: Rule, points: float, units: list[tuple[int, int, list[Span]]], spans: list[Span], doc: _Doc
) -> dict[str, Any]:
    evidence: list[str] = []
    for start, end, unit_spans in units:
        text = doc.full[start:end].strip()
        if len(text) > MAX_EVIDENCE_CHARS or rule.scope in ("document", "lead"):
            text = (
                doc.sentence_around(unit_spans[0].start, unit_spans[0].end)
                if unit_spans
                else text[:MAX_EVIDENCE_CHARS]
            )
        if text not in evidence:
            evidence.append(text)
        if len(evidence) >= MAX_EVIDENCE:
            break
    spans = sorted(spans, key=lambda s: s.start)
    terms = list(dict.fromkeys(s.text for s in spans if s.entity is None))
    entities = list(dict.fromkeys(f"{s.text} ({s.entity})" for s in spans if s.entity is not None))
    return {
        "rule": rule.name,
        "score": points,
        "units": len(units),
        "terms": terms,
        "entities": entities,
        "sentences": evidence,
    }


def _leaves(node: Node | Leaf, test: Any, positive: bool = True) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node] if test(node) else []
    if node.op == "not":
        return [] if positive else _leaves(node.children[0], test, positive)
    return [leaf for child in node.children for leaf in _leaves(child, test, positive)]


def _anchor_terms(leaf: Leaf, gazetteer: Gazetteer | None) -> list[Term] | None:
    if leaf.pattern is not None:
        return list(leaf.terms)
    if leaf.entity and gazetteer and leaf.entity in gazetteer.labels:
        return list(gazetteer.labels[leaf.entity])
    return None  # a statistical entity: no terms to look for


def _prefilter(rules: RuleSet, gazetteer: Gazetteer | None) -> Prefilter | None:
    """What an article must contain to be worth matching: for each rule that can add to the
    score alone, the terms of every condition it needs (conditions on statistical entities
    cannot be checked and are left out). None when some rule needs no term at all."""
    needs: list[list[list[Term]]] = []
    for rule in rules.rules:
        if rule.weight <= 0 or rule.requires:  # a rule that requires another cannot fire alone
            continue
        conditions = []
        for child in rule.condition.children:
            if isinstance(child, Node) and child.op == "not":
                continue
            leaves = [child] if isinstance(child, Leaf) else list(child.children)
            found = [_anchor_terms(leaf, gazetteer) if isinstance(leaf, Leaf) else None for leaf in leaves]
            if all(f is not None for f in found):
                conditions.append([t for f in found if f for t in f])
        if not conditions:
            return None
        needs.append(conditions)
    prefilter = Prefilter(needs)
    return prefilter if prefilter.usable else None


def load_watchlists(
    paths: tuple[Path, ...], gazetteer_path: Path | None = None, model: str = "auto"
) -> list[Watchlist]:
    """Every ``*.toml`` watchlist in the given folders or files; one ConfigError for all problems."""
    gazetteer = load_gazetteer(gazetteer_path) if gazetteer_path else None
    finder = EntityFinder(gazetteer, model) if gazetteer else None
    watchlists, problems, names = [], [], set()
    for file in toml_files(paths, "watchlist"):
        try:
            rules = parse_rules(read_toml(file), file, gazetteer)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if rules.name in names:
            problems.append(f"{file}: name: watchlist {rules.name!r} is defined twice")
        names.add(rules.name)
        watchlists.append(Watchlist(rules, finder))
    if problems:
        raise ConfigError(problems)
    return watchlists


__all__ = ["NER_LABELS", "Verdict", "Watchlist", "load_watchlists", "split_sentences"]
