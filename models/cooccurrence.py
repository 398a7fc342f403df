"""Which diagnosis codes are coded together: P(a coded | b coded) from training notes' gold sets.

A case report's coders code a diagnosis with its symptoms, complications and findings (CodiEsp:
11 codes a note), so a candidate whose usual companions are well supported in the note is more
likely coded itself. `CodeCooccurrence.scores` turns that into two ranker features per candidate
(pipelines.features: `cooc_max`, `cooc_sum`).

Estimates are smoothed, n(a, b) / (n(b) + `smoothing`), so a pair seen once in a code seen once
does not read as certain. Fitted per cross-fitting fold on the notes the fold's rows never came
from (pipelines.suggest.Suggester.fit), as the term index and the priors are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator


class CodeCooccurrence(BaseEstimator):
    """fit(code_sets) / scores(codes, strength) -> (n, 2): per code, the best and the summed
    `strength[b] * P(code | b)` over the note's other codes b."""

    def __init__(self, smoothing: float = 2.0) -> None:
        self.smoothing = smoothing

    def fit(self, code_sets: Iterable[Iterable[str]]) -> CodeCooccurrence:
        pair: Counter[tuple[str, str]] = Counter()
        single: Counter[str] = Counter()
        for s in code_sets:
            codes = sorted(set(s))
            single.update(codes)
            for a in codes:
                for b in codes:
                    if a != b:
                        pair[a, b] += 1
        given: dict[str, dict[str, float]] = defaultdict(dict)
        for (a, b), n in pair.items():
            given[b][a] = n / (single[b] + self.smoothing)
        self.given_ = dict(given)
        return self

    def scores(self, codes: Sequence[str], strength: np.ndarray) -> np.ndarray:
        """Column 0: max over the other codes b of strength[b] * P(code | b); column 1: their
        sum. Codes never coded in training (and codes with no strong companion) score 0."""
        out = np.zeros((len(codes), 2))
        given = getattr(self, "given_", {})
        if not given:
            return out
        index: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(codes):
            index[c].append(i)
        for j, b in enumerate(codes):
            w = float(strength[j])
            if w <= 0:
                continue
            companions = given.get(b, {})
            # walk the shorter side: a frequent code has hundreds of companions, a note ~50 codes
            pairs = (((a, companions[a]) for a in index if a in companions) if len(companions) > len(index)
                     else companions.items())
            for a, p in pairs:
                for i in index.get(a, ()):
                    if i != j:
                        v = w * p
                        out[i, 1] += v
                        if v > out[i, 0]:
                            out[i, 0] = v
        return out
