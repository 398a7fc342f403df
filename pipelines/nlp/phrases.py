"""Open phrases: the words of a sentence that no lexicon entry covered, cut into short runs.

A lay name nobody curated ("sugar diabetes"), a translated case-report term ("osteoarticular
pain"), a procedure written the way one clinic writes it: the lexicon finds no mention, so no
code would ever be proposed from the text itself. Each run becomes a `Mention` of kind
"phrase" with no code candidates; its `concept` holds the normalised words (typos repaired,
abbreviations expanded) that the Suggester sends to the dense index. Assertion and attributes
are read like a mention's, so "no sugar diabetes" stays negated.

The cut rules are data (`rules/phrases.yaml`): boundaries, filler words, length limits, sections
skipped, a per-note cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipelines.nlp.lexicon import read_rule_file

_KEYS = {"version", "skip_sections", "boundary", "filler", "min_chars", "max_words", "max_per_note"}


@dataclass(frozen=True)
class PhraseRules:
    skip_sections: frozenset[str]
    boundary: re.Pattern[str]
    filler: frozenset[str]
    min_chars: int
    max_words: int
    max_per_note: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PhraseRules:
        unknown = set(data) - _KEYS
        if unknown:
            raise ValueError(f"phrases.yaml: unknown keys {sorted(unknown)}")
        if not all(isinstance(w, str) for w in data["filler"]):
            raise ValueError("phrases.yaml: every filler word must be a string (quote yes/no/on/off)")
        return cls(
            skip_sections=frozenset(data["skip_sections"]),
            boundary=re.compile(data["boundary"], re.IGNORECASE),
            filler=frozenset(str(w).lower() for w in data["filler"]),
            min_chars=int(data["min_chars"]),
            max_words=int(data["max_words"]),
            max_per_note=int(data["max_per_note"]),
        )


@lru_cache(maxsize=1)
def phrase_rules() -> PhraseRules:
    return PhraseRules.from_data(read_rule_file("phrases.yaml"))


OPEN, MENTION, HEADER = 0, 1, 2


def open_runs(text: str, spans: list[tuple[str, int, int]], covered: list[int], rules: PhraseRules
              ) -> list[tuple[int, int, str]]:
    """(start, end, normalised words) of each open phrase in one stretch of `spans` (normalised
    token, start, end); `covered[i]` says whether token i is OPEN, inside a lexicon MENTION or a
    section HEADER. A phrase is a maximal run of open words with no boundary between them
    (filler words, numbers and boundary words such as "and", "was", "which" end a run). When
    open words sit next to a mention with no boundary between them ("comorbid generalized" +
    "anxiety disorder"), the whole stretch is a phrase too: the mention may be the generic head
    of a more specific name the lexicon does not spell."""
    out: list[tuple[int, int, str]] = []
    run: list[int] = []
    seg: list[int] = []

    def emit(idx: list[int]) -> None:
        if idx and len(idx) <= rules.max_words and any(
                covered[i] == OPEN and len(spans[i][0]) >= rules.min_chars and spans[i][0].isalpha() for i in idx):
            out.append((spans[idx[0]][1], spans[idx[-1]][2], " ".join(spans[i][0] for i in idx)))

    def flush_run() -> None:
        emit(run)
        run.clear()

    def flush_seg() -> None:
        flush_run()
        if any(covered[i] == MENTION for i in seg):
            emit(seg)
        seg.clear()

    for i, cov in enumerate(covered):
        if cov == HEADER or _stop(text, spans[i], rules):
            flush_seg()
            continue
        if seg and rules.boundary.search(text, spans[seg[-1]][2], spans[i][1]):
            flush_seg()
        seg.append(i)
        if cov == MENTION:
            flush_run()
        else:
            run.append(i)
    flush_seg()
    return out


def _stop(text: str, span: tuple[str, int, int], rules: PhraseRules) -> bool:
    tok, a, b = span
    raw = text[a:b].lower()
    return (tok in rules.filler or raw in rules.filler or any(ch.isdigit() for ch in raw)
            or rules.boundary.fullmatch(raw) is not None)


__all__ = ["HEADER", "MENTION", "OPEN", "PhraseRules", "open_runs", "phrase_rules"]
