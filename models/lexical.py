"""Lexical candidate generator: a term -> code dictionary learnt from code-set texts (descriptions,
inclusion terms, catalog synonyms) and from training evidence spans.

Look-up is O(1) per mention (an exact normalised key, then a bag-of-stems key), so it stays
cheap at serving time; fuzzy matching is left to the NLP lexicon and the dense index.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from sklearn.base import BaseEstimator

_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["a", "an", "and", "the", "of", "with", "without", "to", "in", "on", "for", "by", "or", "nos", "other", "unspecified", "due", "as", "at", "is", "was", "his", "her", "patient", "pt", "has", "had", "have"]
)


def stem(tok: str) -> str:
    for suf in ("ations", "ation", "ities", "ity", "ies", "ing", "es", "s", "al", "ic"):
        if len(tok) > len(suf) + 3 and tok.endswith(suf):
            return tok[: -len(suf)]
    return tok


def norm_text(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def bag_key(text: str) -> str:
    return " ".join(sorted({stem(t) for t in _TOKEN.findall(text.lower()) if t not in _STOP}))


class TermIndex(BaseEstimator):
    """Maps a phrase to codes with a confidence in [0, 1].

    fit(terms, codes, sources): parallel lists; `sources` says where the pair comes from
    ("codeset" or "train") and weights it. A key that maps to several codes splits its
    confidence by how often each code was seen with it.
    """

    def __init__(self, train_weight: float = 3.0, min_count: int = 1) -> None:
        self.train_weight = train_weight
        self.min_count = min_count

    def fit(self, terms: Iterable[str], codes: Iterable[str], sources: Iterable[str] | None = None) -> TermIndex:
        terms = list(terms)
        codes = list(codes)
        srcs = list(sources) if sources is not None else ["codeset"] * len(terms)
        if not (len(terms) == len(codes) == len(srcs)):
            raise ValueError("terms, codes and sources must have the same length")
        exact: dict[str, Counter[str]] = defaultdict(Counter)
        bag: dict[str, Counter[str]] = defaultdict(Counter)
        for t, c, s in zip(terms, codes, srcs, strict=True):
            w = self.train_weight if s == "train" else 1.0
            k = norm_text(t)
            if not k:
                continue
            exact[k][c] += w
            b = bag_key(t)
            if b:
                bag[b][c] += w
        by_code: dict[str, list[str]] = defaultdict(list)
        for t, c, _s in sorted(zip(terms, codes, srcs, strict=True), key=lambda tcs: tcs[2] != "train"):
            k = norm_text(t)
            if k and k not in by_code[c] and len(by_code[c]) < 12:
                by_code[c].append(k)
        self.terms_by_code_ = dict(by_code)
        self.exact_ = {k: self._dist(v) for k, v in exact.items() if sum(v.values()) >= self.min_count}
        self.bag_ = {k: self._dist(v) for k, v in bag.items() if sum(v.values()) >= self.min_count}
        return self

    @staticmethod
    def _dist(counter: Counter[str]) -> list[tuple[str, float]]:
        total = sum(counter.values())
        return sorted(((c, n / total) for c, n in counter.items()), key=lambda cn: (-cn[1], cn[0]))[:8]

    def lookup(self, text: str) -> list[tuple[str, float]]:
        """Codes for a phrase: exact key hits score 1.0 x share, bag-of-stems hits 0.85 x share."""
        out: dict[str, float] = {}
        for c, share in self.exact_.get(norm_text(text), ()):
            out[c] = max(out.get(c, 0.0), share)
        for c, share in self.bag_.get(bag_key(text), ()):
            out[c] = max(out.get(c, 0.0), 0.85 * share)
        return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))

    def terms_for(self, code: str) -> list[str]:
        """Known phrasings of a code (training evidence first, then code-set texts)."""
        return list(getattr(self, "terms_by_code_", {}).get(code, []))

    def __len__(self) -> int:
        return len(getattr(self, "exact_", {}))
