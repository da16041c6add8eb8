"""Measuring a watchlist on hand-labelled stories (the format of shared/eval/cpec-dev.jsonl).

Labels: 2 core, 1 mention, 0 not relevant. Core recall is the share of label-2 stories flagged
at any tier, core at core the share flagged at the core tier (alerted at once), precision the
share of flagged stories labelled 1 or 2, mention recall the share of label-1 stories flagged
at any tier. Every figure is given for all stories and for each source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.core.records import Verdict
from pipelines.core.validation import ConfigError
from pipelines.watch.watchlist import Watchlist

LABELS = {2: "core", 1: "mention", 0: "none"}  # label number -> name in reports
LABEL_NUMBERS = {"core": 2, "mention": 1, "not": 0}  # what the desk types -> label number


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    text: str
    label: int
    type: str | None = None
    source: str = ""


def read_labelled(path: Path) -> list[Example]:
    """Read a labelled JSON-lines file; a bad line is an error naming the file and line."""
    examples, problems = [], []
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("label") not in (0, 1, 2):
                raise ValueError(f"label must be 0, 1 or 2, got {row.get('label')!r}")
            examples.append(
                Example(
                    str(row.get("id", number)),
                    str(row["title"]),
                    str(row["text"]),
                    row["label"],
                    row.get("type"),
                    str(row.get("source") or ""),
                )
            )
        except (ValueError, KeyError, AttributeError) as exc:
            problems.append(f"{path}:{number}: {type(exc).__name__}: {exc}")
    if problems:
        raise ConfigError(problems)
    return examples


@dataclass
class Figures:
    stories: int
    core_recall: float
    core_at_core: float  # core stories flagged at the core tier
    precision: float
    mention_recall: float
    type_accuracy: float  # of correctly flagged stories with a labelled type
    confusion: dict[str, dict[str, int]]  # label -> tier ("core", "mention", "none") -> count


@dataclass
class Report:
    watchlist: str
    overall: Figures
    by_source: dict[str, Figures]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "watchlist": self.watchlist,
            **self.overall.__dict__,
            "by_source": {source: f.__dict__ for source, f in self.by_source.items()},
            "errors": self.errors,
        }


def evaluate(watchlist: Watchlist, examples: list[Example]) -> Report:
    judged = [(e, watchlist.classify(e.title, e.text)) for e in examples]
    errors = []
    for example, verdict in judged:
        problem = _problem(example.label, verdict.tier or "none")
        if problem:
            errors.append(
                {
                    "id": example.id,
                    "source": example.source,
                    "problem": problem,
                    "title": example.title,
                    "label": example.label,
                    "tier": verdict.tier,
                    "score": verdict.score,
                    "reasons": verdict.reasons,
                }
            )
    sources = sorted({e.source for e in examples if e.source})
    return Report(
        watchlist=watchlist.name,
        overall=figures(judged),
        by_source={s: figures([(e, v) for e, v in judged if e.source == s]) for s in sources},
        errors=errors,
    )


def _problem(label: int, tier: str) -> str | None:
    if label == 2 and tier == "none":
        return "missed core"
    if label == 1 and tier == "none":
        return "missed mention"
    if label == 0 and tier != "none":
        return "false alarm"
    if label == 2 and tier == "mention":
        return "core flagged as mention"
    return None


def figures(judged: list[tuple[Example, Verdict]]) -> Figures:
    """The figures of one set of judged stories."""
    confusion = {name: {"core": 0, "mention": 0, "none": 0} for name in LABELS.values()}
    typed = typed_right = 0
    for example, verdict in judged:
        confusion[LABELS[example.label]][verdict.tier or "none"] += 1
        if verdict.flagged and example.label > 0 and example.type:
            typed += 1
            typed_right += verdict.type == example.type
    core, mention = confusion["core"], confusion["mention"]
    flagged = sum(row["core"] + row["mention"] for row in confusion.values())
    relevant_flagged = sum(confusion[k]["core"] + confusion[k]["mention"] for k in ("core", "mention"))
    return Figures(
        stories=len(judged),
        core_recall=_ratio(core["core"] + core["mention"], sum(core.values())),
        core_at_core=_ratio(core["core"], sum(core.values())),
        precision=_ratio(relevant_flagged, flagged),
        mention_recall=_ratio(mention["core"] + mention["mention"], sum(mention.values())),
        type_accuracy=_ratio(typed_right, typed),
        confusion=confusion,
    )


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


_EXPORTED = (
    "id",
    "url",
    "published",
    "source",
    "title",
    "text",
    "label",
    "type",
    "note",
    "who",
    "labelled_at",
)


def labelled_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored labelled article as a line of the eval format (id, url, published, source,
    title, text, label, type), plus who labelled it, when, and the note."""
    out = {key: row.get(key) for key in _EXPORTED}
    out["id"] = str(out["id"])
    return out


def examples_of(rows: list[dict[str, Any]]) -> list[Example]:
    """Stored labelled articles (`Store.labelled`) as examples to evaluate."""
    return [
        Example(str(r["id"]), r["title"], r["text"], r["label"], r.get("type"), r.get("source") or "")
        for r in rows
    ]
