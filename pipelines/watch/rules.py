"""The watchlist rule language: TOML in, a validated tree of conditions out.

See the README ("Watchlists") for the language; `wirewatch check` reports every problem with
the file, the rule name and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.core.validation import Problems, check_keys
from pipelines.watch.entities import NER_LABELS, Gazetteer
from pipelines.watch.terms import Masker, Term, TermError, compile_terms, is_capitals, term_regex

SCOPES = ("sentence", "paragraph", "lead", "title", "document")
TYPES = ("incident", "measures")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, eq=False)  # compared by identity: a fast key for per-article caches
class Leaf:
    """Terms (a group or a literal) or an entity label, matched anywhere in a unit."""

    label: str  # how reasons show it: "@attack", "entity:CPEC_SITE", "massacre"
    pattern: re.Pattern[str] | None = None  # terms
    weighted: tuple[tuple[re.Pattern[str], float], ...] = ()  # terms whose weight is not 1
    entity: str | None = None  # entity label
    entity_text: re.Pattern[str] | None = None  # only entities whose text matches
    terms: tuple[Term, ...] = ()  # the terms behind `pattern`, for the prefilter


@dataclass(frozen=True)
class Node:
    op: str  # all | any | not
    children: tuple[Node | Leaf, ...]


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Node
    scope: str
    within: int | None  # words: all items within this many words of each other
    weight: float
    type: str | None
    min_units: int
    max_units: int
    requires: tuple[str, ...] = ()  # rules that must have fired (earlier in the file)
    unless: tuple[str, ...] = ()  # rules that must not have fired (earlier in the file)
    min_words: int = 0  # only in stories of at least this many words
    clause: bool = False  # with `within`: no comma, semicolon, colon or dash between the items


@dataclass(frozen=True)
class RuleSet:
    name: str
    description: str
    core: float
    mention: float
    rules: tuple[Rule, ...]
    mask: Masker | None  # other senses, blanked before matching
    file: str


def _terms(items: list[Any], key: str, problems: Problems) -> list[Term]:
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if isinstance(item, str):
            item = {"term": item}
        if not isinstance(item, dict):
            problems.add(where, f"expected a term or {{ term = ..., weight = ... }}, got {item!r}")
            continue
        check_keys(item, {"term", "weight", "case"}, f"{where}.", problems)
        text, weight, case = item.get("term"), item.get("weight", 1.0), item.get("case")
        if not isinstance(text, str):
            problems.add(f"{where}.term", f"expected a string, got {text!r}")
            continue
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
            problems.add(f"{where}.weight", f"expected a positive number, got {weight!r}")
            continue
        if case not in (None, "sensitive", "insensitive"):
            problems.add(f"{where}.case", f"expected 'sensitive' or 'insensitive', got {case!r}")
            continue
        try:
            term_regex(text)
        except TermError as exc:
            problems.add(where, f"bad term {text!r}: {exc}")
            continue
        sensitive = is_capitals(text) if case is None else case == "sensitive"
        out.append(Term(text, float(weight), sensitive))
    return out


def _leaf(label: str, terms: list[Term]) -> Leaf:
    weighted = tuple((compile_terms([t]), t.weight) for t in terms if t.weight != 1.0)
    return Leaf(label, pattern=compile_terms(terms), weighted=weighted, terms=tuple(terms))


class _Parser:
    def __init__(self, data: dict[str, Any], gazetteer: Gazetteer | None, problems: Problems):
        self.problems = problems
        self.gazetteer = gazetteer
        self.groups: dict[str, list[Term]] = {}
        groups = data.get("groups", {})
        if not isinstance(groups, dict):
            problems.add("groups", "expected a table of named term lists")
            groups = {}
        for name, items in groups.items():
            if not isinstance(items, list) or not items:
                problems.add(f"groups.{name}", "expected a non-empty list of terms")
                continue
            self.groups[name] = _terms(items, f"groups.{name}", problems)

    def item(self, raw: Any, key: str) -> Node | Leaf | None:
        if isinstance(raw, str) and raw.startswith("@"):
            if raw[1:] not in self.groups:
                self.problems.add(key, f"unknown group {raw!r} (defined: {', '.join(self.groups) or 'none'})")
                return None
            return _leaf(raw, self.groups[raw[1:]])
        if isinstance(raw, str) and raw.startswith("entity:"):
            return self.entity(raw[7:], None, key)
        if isinstance(raw, str):
            problems = Problems(self.problems.path)
            terms = _terms([raw], key, problems)
            self.problems.items.extend(p.replace(f"{key}[0]", key) for p in problems.items)
            return _leaf(raw, terms) if terms else None
        if isinstance(raw, list):  # a list inside a list: any of its items
            return self.node("any", raw, key)
        if isinstance(raw, dict):
            if "entity" in raw:
                check_keys(raw, {"entity", "terms"}, f"{key}.", self.problems)
                only = _terms(raw["terms"], f"{key}.terms", self.problems) if "terms" in raw else None
                return self.entity(str(raw["entity"]), only, key)
            check_keys(raw, {"all", "any", "not"}, f"{key}.", self.problems)
            return self.condition(raw, key)
        self.problems.add(key, f"expected '@group', 'entity:LABEL', a term or a table, got {raw!r}")
        return None

    def entity(self, label: str, terms: list[Term] | None, key: str) -> Leaf | None:
        known = set(self.gazetteer.labels) if self.gazetteer else set()
        if label not in known and label not in NER_LABELS:
            self.problems.add(
                key,
                f"unknown entity label {label!r} (gazetteer: {', '.join(sorted(known)) or 'none'}; "
                "or a statistical NER label like GPE, ORG, PERSON, NORP)",
            )
            return None
        text = compile_terms(terms) if terms else None
        return Leaf(f"entity:{label}", entity=label, entity_text=text)

    def node(self, op: str, raw: Any, key: str) -> Node | None:
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            self.problems.add(key, f"expected a non-empty list, got {raw!r}")
            return None
        children = [self.item(r, f"{key}[{i}]") for i, r in enumerate(raw)]
        if any(c is None for c in children):
            return None
        return Node(op, tuple(c for c in children if c is not None))

    def condition(self, raw: dict[str, Any], key: str) -> Node | None:
        parts: list[Node | Leaf] = []
        ok = True
        for op in ("all", "any", "not"):
            if op not in raw:
                continue
            node = self.node("all" if op == "all" else "any", raw[op], f"{key}.{op}")
            if node is None:
                ok = False
            elif op == "all":
                parts.extend(node.children)
            elif op == "any":
                parts.append(node)
            else:
                parts.append(Node("not", (node,)))
        if not ok:
            return None
        if not parts:
            self.problems.add(key, "needs `all` or `any`: the terms or entities it looks for")
            return None
        if not any(not (isinstance(p, Node) and p.op == "not") for p in parts):
            self.problems.add(key, "needs `all` or `any`: `not` alone matches everything")
            return None
        return Node("all", tuple(parts))


def _number(raw: dict[str, Any], key: str, default: float, problems: Problems, where: str) -> float:
    value = raw.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        problems.add(f"{where}.{key}", f"expected a number, got {value!r}")
        return default
    return float(value)


def parse_rules(data: dict[str, Any], path: Path | str, gazetteer: Gazetteer | None) -> RuleSet:
    """Validate a watchlist file's data; raise ConfigError listing every problem."""
    problems = Problems(path)
    check_keys(data, {"name", "description", "tiers", "groups", "mask", "rules"}, "", problems)
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.add("name", f"expected a lower-case name like 'cpec-security', got {name!r}")
    tiers = data.get("tiers", {})
    if not isinstance(tiers, dict):
        problems.add("tiers", "expected a table with core and mention")
        tiers = {}
    check_keys(tiers, {"core", "mention"}, "tiers.", problems)
    core, mention = tiers.get("core"), tiers.get("mention")
    for key, value in (("core", core), ("mention", mention)):
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            problems.add(f"tiers.{key}", f"expected a positive score threshold, got {value!r}")
    if isinstance(core, int | float) and isinstance(mention, int | float) and mention > core:
        problems.add("tiers.mention", f"must not exceed tiers.core ({mention} > {core})")

    parser = _Parser(data, gazetteer, problems)
    mask = None
    raw_mask = data.get("mask", {})
    if not isinstance(raw_mask, dict):
        problems.add("mask", "expected a table with `terms`")
    else:
        check_keys(raw_mask, {"terms"}, "mask.", problems)
        mask_terms = _terms(raw_mask.get("terms", []), "mask.terms", problems)
        mask = Masker(mask_terms) if mask_terms else None

    rules: list[Rule] = []
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.add("rules", "expected at least one [[rules]] table")
        raw_rules = []
    names: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rule_name = raw.get("name") if isinstance(raw, dict) else None
        key = f"rules[{rule_name or i + 1}]"
        if not isinstance(raw, dict):
            problems.add(key, "expected a table")
            continue
        check_keys(
            raw,
            {
                "name",
                "all",
                "any",
                "not",
                "scope",
                "within",
                "weight",
                "type",
                "min_units",
                "max_units",
                "requires",
                "unless",
                "min_words",
                "clause",
            },
            f"{key}.",
            problems,
        )
        if not isinstance(rule_name, str) or not rule_name:
            problems.add(key, "needs a name")
        elif rule_name in names:
            problems.add(key, "name used by another rule")
        names.add(str(rule_name))
        condition = parser.condition({k: raw[k] for k in ("all", "any", "not") if k in raw}, key)
        scope = raw.get("scope", "sentence")
        if scope not in SCOPES:
            problems.add(f"{key}.scope", f"expected one of {', '.join(SCOPES)}, got {scope!r}")
        within = raw.get("within")
        if within is not None:
            if not isinstance(within, int) or isinstance(within, bool) or within < 1:
                problems.add(f"{key}.within", f"expected a number of words >= 1, got {within!r}")
            if condition is not None and not all(  # `not` is tested on the window found
                isinstance(c, Leaf) or c.op == "not" or all(isinstance(g, Leaf) for g in c.children)
                for c in condition.children
            ):
                problems.add(f"{key}.within", "nested conditions cannot be combined with `within`")
        clause = raw.get("clause", False)
        if not isinstance(clause, bool):
            problems.add(f"{key}.clause", f"expected true or false, got {clause!r}")
        elif clause and within is None:
            problems.add(f"{key}.clause", "needs `within`: the items whose clause is compared")
        rule_type = raw.get("type")
        if rule_type is not None and rule_type not in TYPES:
            problems.add(f"{key}.type", f"expected one of {', '.join(TYPES)}, got {rule_type!r}")
        weight = _number(raw, "weight", 1.0, problems, key)
        min_units = raw.get("min_units", 1)
        max_units = raw.get("max_units", 1)
        for unit_key, value in (("min_units", min_units), ("max_units", max_units)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.add(f"{key}.{unit_key}", f"expected a whole number >= 1, got {value!r}")
        links = {}
        for link_key in ("requires", "unless"):
            value = raw.get(link_key, [])
            value = [value] if isinstance(value, str) else value
            earlier = {r.name for r in rules}
            if not isinstance(value, list) or not all(isinstance(v, str) and v in earlier for v in value):
                problems.add(f"{key}.{link_key}", f"expected names of rules above this one, got {value!r}")
                value = []
            links[link_key] = tuple(value)
        min_words = raw.get("min_words", 0)
        if not isinstance(min_words, int) or isinstance(min_words, bool) or min_words < 0:
            problems.add(f"{key}.min_words", f"expected a whole number of words, got {min_words!r}")
            min_words = 0
        if condition is not None:
            rules.append(
                Rule(
                    name=str(rule_name),
                    condition=condition,
                    scope=scope,
                    within=within if isinstance(within, int) else None,
                    weight=weight,
                    type=rule_type,
                    min_units=min_units if isinstance(min_units, int) else 1,
                    max_units=max_units if isinstance(max_units, int) else 1,
                    requires=links["requires"],
                    unless=links["unless"],
                    min_words=min_words,
                    clause=clause is True,
                )
            )
    problems.raise_if_any()
    return RuleSet(
        name=str(name),
        description=str(data.get("description", "")),
        core=float(core),  # type: ignore[arg-type]
        mention=float(mention),  # type: ignore[arg-type]
        rules=tuple(rules),
        mask=mask,
        file=str(path),
    )
