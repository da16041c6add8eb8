"""Fit the same-event model of pipelines/stories/likeness.py on a labelled week, and measure it
cross-validated (leave one day out: no pair of the day judged is in the fit that judges it).

    .venv/bin/python bench/train_likeness.py ../shared/eval/stories-week

Pairs: every two articles of two outlets published within 48 hours; "same" when the readers
agreed they report one event, "different" when judged different or not listed (the week's
rule), left out when the readers split. Name weights are counted over the week's articles,
as `Rarity` counts them over stored stories. Prints each signal's AUC on the judged pairs,
the cross-validated pairs taken at LIKELY, and the coefficients to copy into likeness.py.

``--vectors FILE.npz`` tries a candidate signal without changing the product: the file holds
``ids`` (article ids) and one array of unit vectors per name (one row an article, for example
sentence embeddings made by `bench/embed_week.py`); each array adds the cosine of a pair's
vectors as a signal, and the model is measured with and without them.

The ceiling the labels set is printed first: grouping every judged-same pair into stories
also groups the pairs their chains imply, some of them judged different.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.stories import likeness
from pipelines.stories.evaluate import Week, read_week
from pipelines.stories.fingerprints import features

WINDOW_HOURS = 48


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Logistic regression by Newton's method, the intercept (column 0) not penalised."""
    beta = np.zeros(x.shape[1])
    penalty = l2 * np.diag(np.r_[0.0, np.ones(x.shape[1] - 1)])
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (p - y) + penalty @ beta
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


def auc(scores: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> float:
    pos, neg = scores[positive], scores[negative]
    return float(np.mean([(p > neg).mean() + 0.5 * (p == neg).mean() for p in pos]))


def ceiling(week: Week) -> str:
    """What grouping can reach on these labels: stories made of the judged-same pairs (their
    connected groups) also hold the pairs between their other members."""
    parent: dict[str, str] = {}

    def root(i: str) -> str:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    for a, b in (sorted(pair) for pair in week.same):
        parent[root(b)] = root(a)
    source = {a.id: a.source for a in week.articles}
    groups: dict[str, list[str]] = {}
    for i in {i for pair in week.same for i in pair}:
        groups.setdefault(root(i), []).append(i)
    implied = [
        frozenset((a, b))
        for members in groups.values()
        for a, b in combinations(members, 2)
        if source[a] != source[b] and frozenset((a, b)) not in week.split
    ]
    wrong = sum(1 for pair in implied if pair not in week.same)
    return (
        f"ceiling: the {len(week.same)} judged-same pairs make {len(groups)} groups holding "
        f"{len(implied)} cross-outlet pairs, {wrong} not judged same (precision {1 - wrong / len(implied):.3f} "
        "at recall 1)"
    )


def read_vectors(path: Path) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    data = np.load(path)
    ids = [str(i) for i in data["ids"]]
    names = [n for n in data.files if n != "ids"]
    return {n: dict(zip(ids, data[n], strict=True)) for n in names}, names


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("week", type=Path)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--vectors", type=Path, help="an .npz of article vectors to try as signals")
    args = parser.parse_args()
    week = read_week(args.week)
    print(ceiling(week))
    vectors, extra = ({}, []) if args.vectors is None else read_vectors(args.vectors)
    feats = {a.id: features(a.title, a.text, copies=False) for a in week.articles}
    counts = Counter(k for f in feats.values() for k in f.keys)
    total = len(week.articles)

    def relative(key: int) -> float:
        return math.log((total + 2) / (counts.get(key, 0) + 1)) / math.log(total + 2)

    rows, labels, judged, days = [], [], [], []
    articles = sorted(week.articles, key=lambda a: a.published)
    for i, a in enumerate(articles):
        for b in articles[i + 1 :]:
            hours = (b.published - a.published).total_seconds() / 3600
            if hours > WINDOW_HOURS:
                break
            pair = frozenset((a.id, b.id))
            if a.source == b.source or pair in week.split:
                continue
            s = likeness.signals(feats[a.id], feats[b.id], hours, relative)
            cosines = [float(vectors[n][a.id] @ vectors[n][b.id]) for n in extra]
            rows.append([1.0, s.wording, s.names, s.missing, s.days, s.leads, *cosines])
            labels.append(1.0 if pair in week.same else 0.0)
            judged.append(pair in week.same or pair in week.different)
            days.append(a.published.date())
    x, y = np.array(rows), np.array(labels)
    positive, negative = y == 1, (y == 0) & np.array(judged)
    print(
        f"{len(y)} pairs within {WINDOW_HOURS} h: {int(y.sum())} same, {int(negative.sum())} judged different"
    )
    for n, name in enumerate(("wording", "names", "missing", "days", "leads", *extra), 1):
        print(f"  AUC on judged pairs, {name:8s} {auc(x[:, n], positive, negative):.3f}")
    day = np.array(days)

    def cross_validated(columns: np.ndarray, label: str) -> None:
        scores = np.zeros(len(y))
        for left_out in sorted(set(days)):
            test = day == left_out
            scores[test] = columns[test] @ fit(columns[~test], y[~test], args.l2)
        print(f"cross-validated model, {label}: AUC on judged pairs {auc(scores, positive, negative):.3f}")
        for p in (0.5, 0.7, 0.8, 0.9, 0.95):
            taken = scores >= math.log(p / (1 - p))
            same, different = int((taken & positive).sum()), int((taken & ~positive).sum())
            print(f"  p >= {p:.2f}: {same} same and {different} different pairs taken")

    cross_validated(x[:, :6], "the five signals")
    if extra:
        cross_validated(x, f"with {', '.join(extra)}")
    beta = fit(x[:, :6], y, args.l2)
    print(f"INTERCEPT = {beta[0]:.3f}")
    print(f"COEFFICIENTS = ({', '.join(f'{b:.3f}' for b in beta[1:])})")


if __name__ == "__main__":
    main()
