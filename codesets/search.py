"""Phrase search over code descriptions, inclusion terms and catalog synonyms.

Candidates come from an inverted index of normalised tokens (IDF-weighted overlap); the best
few hundred are rescored with rapidfuzz so misspellings and word order still match.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from codesets.normalize import candidate_systems, clean, dotted

if TYPE_CHECKING:
    from codesets.lookup import CodeSets

_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset(["a", "an", "and", "the", "of", "with", "without", "to", "in", "on", "for", "by", "or", "nos", "other", "unspecified", "due", "as", "at"])


def tokens(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in _STOP]


def stem(tok: str) -> str:
    """A light, deterministic stemmer: plural and common suffixes, then a 6-char cap."""
    for suf in ("ations", "ation", "ities", "ity", "ies", "ing", "es", "s", "al", "ic"):
        if len(tok) > len(suf) + 3 and tok.endswith(suf):
            tok = tok[: -len(suf)]
            break
    return tok


@dataclass(frozen=True, slots=True)
class SearchHit:
    code: str
    system: str
    description: str
    score: float
    matched: str  # the text that matched (description, inclusion term or synonym)


class Searcher:
    def __init__(self, cs: CodeSets) -> None:
        self.entries: list[tuple[str, str, str, str]] = []  # code, system, text, description
        self.billable: set[str] = set()
        icd = cs.icd
        newest = icd.fiscal_years[-1]
        for key, entry in icd.codes.items():
            if entry.flags.get(newest) == "B":
                self.billable.add(dotted(key))
            if entry.flags.get(newest):
                self.entries.append((dotted(key), "icd10cm", entry.description, entry.description))
        for key, terms in icd.inclusion_terms.items():
            if key in icd.codes and icd.codes[key].flags.get(newest):
                for t in terms:
                    self.entries.append((dotted(key), "icd10cm", t, icd.codes[key].description))
        procs = cs.procedures
        for code, c in procs.catalog.items():
            self.entries.append((code, c.system, c.description, c.description))
            for syn in c.synonyms:
                self.entries.append((code, c.system, syn, c.description))
        for code, spans in procs.spans.items():
            if code[0].isalpha() and code not in procs.catalog and spans[-1].description:
                self.entries.append((code, "hcpcs", spans[-1].description, spans[-1].description))
        self.index: dict[str, list[int]] = defaultdict(list)
        for i, (_, _, text, _) in enumerate(self.entries):
            for t in set(tokens(text)):
                self.index[t].append(i)
        n = len(self.entries)
        self.idf = {t: math.log(n / len(ids)) for t, ids in self.index.items()}
        self.codes = {(e[0], e[1]) for e in self.entries}

    def search(self, text: str, system: str | None = None, k: int = 10) -> list[SearchHit]:
        q = text.strip()
        if not q:
            return []
        k = max(1, min(int(k), 200))
        hits: dict[tuple[str, str], SearchHit] = {}
        # a code or code prefix typed into the picker
        if candidate_systems(q) or re.fullmatch(r"[A-Za-z]\d[\dA-Za-z.]{0,6}|\d{3,5}[A-Za-z]?", q):
            pref = clean(q)
            for code, sys_, _, desc in self.entries:
                if (system is None or sys_ == system) and clean(code).startswith(pref):
                    exact = clean(code) == pref
                    hit = SearchHit(code, sys_, desc, 2.0 if exact else 1.5 - len(code) / 100, code)
                    if (code, sys_) not in hits or hits[(code, sys_)].score < hit.score:
                        hits[(code, sys_)] = hit
        qt = tokens(q)
        scores: dict[int, float] = defaultdict(float)
        total = sum(self.idf.get(t, 0.0) for t in qt) or 1.0
        for t in set(qt):
            for i in self.index.get(t, ()):
                scores[i] += self.idf[t]
        unknown = [t for t in set(qt) if t not in self.index and len(t) > 3]
        if unknown:
            # misspelled tokens: fuzzy-match them to the vocabulary
            for t in unknown:
                for cand, sc, _ in process.extract(t, list(self.idf), scorer=fuzz.ratio, limit=3, score_cutoff=75):
                    for i in self.index[cand]:
                        scores[i] += self.idf[cand] * sc / 100
        top = sorted(scores.items(), key=lambda kv: -kv[1])[:400]
        for i, s in top:
            code, sys_, etext, desc = self.entries[i]
            if system is not None and sys_ != system:
                continue
            etoks = tokens(etext)
            coverage = s / total
            extra = len(set(etoks) - set(qt)) / max(len(etoks), 1)
            fz = fuzz.token_set_ratio(q.lower(), etext.lower()) / 100
            score = 0.6 * coverage + 0.3 * fz - 0.1 * extra
            if sys_ == "icd10cm" and code not in self.billable:
                score -= 0.05  # prefer reportable codes in the picker
            key = (code, sys_)
            if key not in hits or hits[key].score < score:
                hits[key] = SearchHit(code, sys_, desc, round(score, 4), etext)
        return sorted(hits.values(), key=lambda h: (-h.score, h.code))[:k]
