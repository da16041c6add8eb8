"""How likely two articles of two outlets report one event: a small logistic model.

Five signals of a pair, each with the sign a reader would give it: alike in wording (cosine of
content words) and in title and lead, names in common (weighted by rarity), names one lead
gives that the other article lacks (another district, another visitor: against), and the
hours between them (against). The coefficients are fitted by `bench/train_likeness.py` on the
labelled week in ``../shared/eval/stories-week`` (cross-validated there, leaving out one day
at a time); they are plain numbers here, so a decision can be explained and re-fitted.

Pure functions: the caller gives the name weights (``relative``: a name's rarity as a share of
the rarest possible, between 0 and 1, so the scale does not depend on how many stories are
stored).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import astuple, dataclass

from pipelines.stories.fingerprints import Features, cosine

# Fitted by bench/train_likeness.py (L2 1.0; 61,621 pairs within 48 hours, 66 of them same).
INTERCEPT = -5.987
COEFFICIENTS = (3.271, 2.954, -1.085, -2.373, 2.903)  # wording, names, missing, days, leads
LIKELY = 0.95  # probability from which a pair is taken as one event


@dataclass(frozen=True)
class Signals:
    wording: float  # cosine of the content words of title and text
    names: float  # log(1 + rarity of the names both give)
    missing: float  # rarity of one lead's names the other article does not give (the larger)
    days: float  # time between them
    leads: float  # cosine of the content words of title and first paragraph

    def probability(self) -> float:
        z = INTERCEPT + sum(c * x for c, x in zip(COEFFICIENTS, astuple(self), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


def signals(a: Features, b: Features, hours: float, relative: Callable[[int], float]) -> Signals:
    """The signals of a pair of articles ``hours`` apart."""
    shared = sum(relative(k) for k in a.keys.keys() & b.keys.keys())
    missing = max(
        sum(relative(k) for k in a.lead - b.keys.keys()),
        sum(relative(k) for k in b.lead - a.keys.keys()),
    )
    return Signals(
        cosine(a.words, b.words),
        math.log1p(shared),
        missing,
        abs(hours) / 24,
        cosine(a.lead_words, b.lead_words),
    )
