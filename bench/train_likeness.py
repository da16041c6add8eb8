"""Fit the same-event model of pipelines/stories/likeness.py on a labelled week, and measure it
cross-validated (leave one day out: no pair of the day judged is in the fit that judges it).

    .venv/bin/python bench/train_likeness.py ../shared/eval/stories-week

Pairs: every two articles of two outlets published within 48 hours; "same" when the readers
agreed they report one event, "different" when judged different or not listed (the week's
rule), left out when the readers split. Name weights are counted over the week's articles,
as `Rarity` counts them over stored stories. Prints each signal's AUC on the judged pairs,
the cross-validated pairs taken at LIKELY, and the coefficients to copy into likeness.py.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.stories import likeness
from pipelines.stories.evaluate import read_week
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("week", type=Path)
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()
    week = read_week(args.week)
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
            rows.append([1.0, s.wording, s.names, s.missing, s.days, s.leads])
            labels.append(1.0 if pair in week.same else 0.0)
            judged.append(pair in week.same or pair in week.different)
            days.append(a.published.date())
    x, y = np.array(rows), np.array(labels)
    positive, negative = y == 1, (y == 0) & np.array(judged)
    print(
        f"{len(y)} pairs within {WINDOW_HOURS} h: {int(y.sum())} same, {int(negative.sum())} judged different"
    )
    for n, name in enumerate(("wording", "names", "missing", "days", "leads"), 1):
        print(f"  AUC on judged pairs, {name:8s} {auc(x[:, n], positive, negative):.3f}")
    scores = np.zeros(len(y))
    day = np.array(days)
    for left_out in sorted(set(days)):
        test = day == left_out
        scores[test] = x[test] @ fit(x[~test], y[~test], args.l2)
    print(f"cross-validated model: AUC on judged pairs {auc(scores, positive, negative):.3f}")
    for p in (0.5, 0.7, 0.8, 0.9, 0.95):
        taken = scores >= math.log(p / (1 - p))
        same, different = int((taken & positive).sum()), int((taken & ~positive).sum())
        print(f"  p >= {p:.2f}: {same} same and {different} different pairs taken")
    beta = fit(x, y, args.l2)
    print(f"INTERCEPT = {beta[0]:.3f}")
    print(f"COEFFICIENTS = ({', '.join(f'{b:.3f}' for b in beta[1:])})")


if __name__ == "__main__":
    main()
