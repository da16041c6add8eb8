"""Measuring a watchlist on hand-labelled stories (the format of shared/eval/cpec-dev.jsonl).

Labels: 2 core, 1 mention, 0 not relevant. Core recall is the share of label-2 stories flagged
at any tier, precision the share of flagged stories labelled 1 or 2, mention recall the share
of label-1 stories flagged at any tier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.core.validation import ConfigError
from pipelines.watch.watchlist import Watchlist


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    text: str
    label: int
    type: str | None = None


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
                )
            )
        except (ValueError, KeyError, AttributeError) as exc:
            problems.append(f"{path}:{number}: {type(exc).__name__}: {exc}")
    if problems:
        raise ConfigError(problems)
    return examples


@dataclass
class Report:
    watchlist: str
    stories: int
    core_recall: float
    precision: float
    mention_recall: float
    type_accuracy: float  # of correctly flagged stories with a labelled type
    confusion: dict[str, dict[str, int]]  # label -> tier ("core", "mention", "none") -> count
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


_LABELS = {2: "core", 1: "mention", 0: "none"}


def evaluate(watchlist: Watchlist, examples: list[Example]) -> Report:
    confusion = {name: {"core": 0, "mention": 0, "none": 0} for name in _LABELS.values()}
    errors = []
    typed = typed_right = 0
    for example in examples:
        verdict = watchlist.classify(example.title, example.text)
        tier = verdict.tier or "none"
        confusion[_LABELS[example.label]][tier] += 1
        problem = None
        if example.label == 2 and not verdict.flagged:
            problem = "missed core"
        elif example.label == 1 and not verdict.flagged:
            problem = "missed mention"
        elif example.label == 0 and verdict.flagged:
            problem = "false alarm"
        elif example.label == 2 and tier == "mention":
            problem = "core flagged as mention"
        if verdict.flagged and example.label > 0 and example.type:
            typed += 1
            typed_right += verdict.type == example.type
        if problem:
            errors.append(
                {
                    "id": example.id,
                    "problem": problem,
                    "title": example.title,
                    "label": example.label,
                    "tier": verdict.tier,
                    "score": verdict.score,
                    "reasons": verdict.reasons,
                }
            )
    core = confusion["core"]
    mention = confusion["mention"]
    flagged = sum(row["core"] + row["mention"] for row in confusion.values())
    relevant_flagged = sum(confusion[k]["core"] + confusion[k]["mention"] for k in ("core", "mention"))
    return Report(
        watchlist=watchlist.name,
        stories=len(examples),
        core_recall=_ratio(core["core"] + core["mention"], sum(core.values())),
        precision=_ratio(relevant_flagged, flagged),
        mention_recall=_ratio(mention["core"] + mention["mention"], sum(mention.values())),
        type_accuracy=_ratio(typed_right, typed),
        confusion=confusion,
        errors=errors,
    )


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
