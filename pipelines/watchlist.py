"""Watchlists: scored term rules over a story's title and text, with the reasons kept.

A watchlist file (``config/watchlists/*.toml``) names groups of terms and rules that combine
them; see the README for the language. ``Watchlist.classify(title, text)`` is the whole
interface the pipeline uses, so a better matcher replaces this module, not the pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.validation import ConfigError, Problems, check_keys, read_toml

SCOPES = ("sentence", "paragraph", "document", "title")
TYPES = ("incident", "measures")
MAX_SENTENCES = 3  # sentences kept as evidence per rule


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    tier: str | None  # "core" or "mention"
    type: str | None  # "incident" or "measures"
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _term_regex(term: str) -> str:
    """``attack*`` matches attack, attacks, attacked; spaces match any whitespace."""
    words = [re.escape(w).replace(r"\*", r"\w*") for w in term.split()]
    return r"\s+".join(words)


def compile_terms(terms: list[str]) -> re.Pattern[str] | None:
    """One regex for a list of terms. Terms in capitals (``BLA``, ``CPEC``) match only in
    capitals; all others ignore case."""
    exact = [_term_regex(t) for t in terms if t.isupper()]
    loose = [_term_regex(t) for t in terms if not t.isupper()]
    parts = [f"(?:{'|'.join(exact)})"] if exact else []
    if loose:
        parts.append(f"(?i:{'|'.join(loose)})")
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


@dataclass(frozen=True)
class Rule:
    name: str
    all: tuple[re.Pattern[str], ...]  # every one must match inside one scope unit
    none: re.Pattern[str] | None  # the unit must not match this
    scope: str
    weight: float
    type: str | None


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


def units(title: str, text: str, scope: str) -> list[str]:
    """The pieces of a story a rule's terms must share: sentences, paragraphs, the whole."""
    if scope == "title":
        return [title]
    if scope == "document":
        return [f"{title}\n{text}"]
    paragraphs = [title, *(p.strip() for p in text.split("\n") if p.strip())]
    if scope == "paragraph":
        return paragraphs
    return [s for p in paragraphs for s in _SENTENCE_END.split(p) if s]


@dataclass(frozen=True)
class Watchlist:
    name: str
    description: str
    core: float
    mention: float
    rules: tuple[Rule, ...]
    file: str = ""

    def __repr__(self) -> str:
        return f"<Watchlist {self.name} from {self.file}>"

    def classify(self, title: str, text: str) -> Verdict:
        score = 0.0
        reasons: list[dict[str, Any]] = []
        split_cache: dict[str, list[str]] = {}
        fired_type: tuple[float, str] | None = None
        for rule in self.rules:
            pieces = split_cache.get(rule.scope)
            if pieces is None:
                pieces = split_cache[rule.scope] = units(title, text, rule.scope)
            terms: list[str] = []
            evidence: list[str] = []
            for piece in pieces:
                found = [p.findall(piece) for p in rule.all]
                if not all(found) or (rule.none is not None and rule.none.search(piece)):
                    continue
                for hits in found:
                    terms.extend(h for h in hits if h not in terms)
                if len(evidence) < MAX_SENTENCES:
                    evidence.append(piece if len(piece) <= 600 else piece[:597] + "...")
            if not evidence:
                continue
            score += rule.weight
            reasons.append({"rule": rule.name, "weight": rule.weight, "terms": terms, "sentences": evidence})
            if rule.type and rule.weight > 0 and (fired_type is None or rule.weight > fired_type[0]):
                fired_type = (rule.weight, rule.type)
        tier = "core" if score >= self.core else "mention" if score >= self.mention else None
        return Verdict(
            flagged=tier is not None,
            tier=tier,
            type=fired_type[1] if tier and fired_type else None,
            score=round(score, 3),
            reasons=reasons if tier else [],
        )


def parse_watchlist(data: dict[str, Any], path: Path | str) -> Watchlist:
    problems = Problems(path)
    check_keys(data, {"name", "description", "tiers", "groups", "rules"}, "", problems)
    name = data.get("name")
    if not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9_-]*$", name):
        problems.add("name", f"expected a lower-case name like 'cpec-security', got {name!r}")
    tiers = data.get("tiers", {})
    check_keys(tiers, {"core", "mention"}, "tiers.", problems)
    core, mention = tiers.get("core"), tiers.get("mention")
    for key, value in (("core", core), ("mention", mention)):
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            problems.add(f"tiers.{key}", f"expected a positive score threshold, got {value!r}")
    if isinstance(core, int | float) and isinstance(mention, int | float) and mention > core:
        problems.add("tiers.mention", f"must not exceed tiers.core ({mention} > {core})")

    groups: dict[str, list[str]] = {}
    for group, terms in data.get("groups", {}).items():
        if (
            not isinstance(terms, list)
            or not terms
            or not all(isinstance(t, str) and t.strip() for t in terms)
        ):
            problems.add(f"groups.{group}", "expected a non-empty list of terms")
            continue
        groups[group] = terms

    def resolve(items: Any, key: str) -> list[str] | None:
        """A list of group names and literal terms (a literal is anything not a group name)."""
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problems.add(key, f"expected a group name or a list of terms, got {items!r}")
            return None
        out: list[str] = []
        for item in items:
            if item.startswith("@"):
                if item[1:] not in groups:
                    problems.add(key, f"unknown group {item!r} (defined: {', '.join(groups)})")
                    return None
                out.extend(groups[item[1:]])
            else:
                out.append(item)
        return out

    rules = []
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.add("rules", "expected at least one [[rules]] table")
        raw_rules = []
    for i, raw in enumerate(raw_rules):
        rule_name = raw.get("name", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
        key = f"rules[{rule_name}]"
        if not isinstance(raw, dict):
            problems.add(key, "expected a table")
            continue
        check_keys(raw, {"name", "all", "none", "scope", "weight", "type"}, f"{key}.", problems)
        raw_all = raw.get("all")
        if not isinstance(raw_all, list) or not raw_all:
            problems.add(f"{key}.all", "expected a list of one or more term lists or @groups")
            continue
        patterns = []
        for j, item in enumerate(raw_all):
            terms = resolve(item, f"{key}.all[{j}]")
            if terms is not None:
                patterns.append(compile_terms(terms))
        none_terms = resolve(raw.get("none", []), f"{key}.none")
        scope = raw.get("scope", "sentence")
        if scope not in SCOPES:
            problems.add(f"{key}.scope", f"expected one of {', '.join(SCOPES)}, got {scope!r}")
        weight = raw.get("weight", 1)
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            problems.add(f"{key}.weight", f"expected a number, got {weight!r}")
        rule_type = raw.get("type")
        if rule_type is not None and rule_type not in TYPES:
            problems.add(f"{key}.type", f"expected one of {', '.join(TYPES)}, got {rule_type!r}")
        if len(patterns) == len(raw_all) and all(patterns):
            rules.append(
                Rule(
                    name=rule_name,
                    all=tuple(p for p in patterns if p),
                    none=compile_terms(none_terms) if none_terms else None,
                    scope=scope,
                    weight=float(weight) if isinstance(weight, int | float) else 0.0,
                    type=rule_type,
                )
            )
    problems.raise_if_any()
    return Watchlist(
        name=str(name),
        description=data.get("description", ""),
        core=float(core),
        mention=float(mention),
        rules=tuple(rules),
        file=str(path),
    )


def load_watchlists(paths: tuple[Path, ...]) -> list[Watchlist]:
    """Every ``*.toml`` watchlist in the given folders or files; one ConfigError for all problems."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.exists():
            files.append(path)
        else:
            raise ConfigError([f"{path}: watchlist folder or file does not exist"])
    watchlists, problems, names = [], [], set()
    for file in files:
        try:
            watchlist = parse_watchlist(read_toml(file), file)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if watchlist.name in names:
            problems.append(f"{file}: name: watchlist {watchlist.name!r} is defined twice")
        names.add(watchlist.name)
        watchlists.append(watchlist)
    if problems:
        raise ConfigError(problems)
    return watchlists
