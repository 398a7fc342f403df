"""(mention, code title) pairs that fine-tune the static MiniLM table (SuggestConfig.dense_finetune).

Every pair says "this wording names that code", in the code's own title as the target:

- curated concepts (`pipelines/nlp/rules/synonyms*.yaml`): each term -> each of its codes' titles;
- ICD-10-CM inclusion terms -> their code's title;
- ICD-10-CM Alphabetic Index entries (`icd10cm_index_terms.csv.gz`, main and neoplasm index: a
  term path such as "Pneumonia, aspiration" with its nonessential modifiers in parentheses
  dropped) -> their code's title, a seeded sample of `max_index`;
- optionally (`spans`) the gold evidence spans of the training notes -> their code's title.

Code-set and curated pairs hold nothing a training note says, so the cross-fitted ranker rows
see the same encoder a new note does. Training spans would make a training note's own names look
closer to their codes than a new note's are, so they stay off by default.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Iterable
from typing import Any

from codesets._data import read_rows
from pipelines.nlp.lexicon import curated_concepts

_PAREN = re.compile(r"\([^)]*\)")
_SPACE = re.compile(r"\s+")
MAX_CHARS = 80  # a longer "mention" is a sentence (E/M evidence, a whole statement), not a name


def _clean(text: str) -> str:
    return _SPACE.sub(" ", _PAREN.sub(" ", text).replace(",", " ")).strip().lower()


def finetune_pairs(cs: Any, train: Iterable[dict[str, Any]] = (), max_index: int = 60_000,
                   spans: bool = False, seed: int = 0, codes: Collection[str] | None = None
                   ) -> list[tuple[str, str]]:
    """Sorted unique (mention, title) pairs; a mention equal to its title is left out. `codes`
    (dotted or not) keeps the pairs of those codes only (a tiny configuration's code universe)."""
    icd = cs.icd
    catalog = cs.procedures.catalog
    keep = {c.replace(".", "") for c in codes} if codes is not None else None

    def title(code: str) -> str | None:
        key = code.replace(".", "")
        if keep is not None and key not in keep:
            return None
        if key in icd.codes:
            return str(icd.codes[key].description)
        entry = catalog.get(code)
        return str(entry.description) if entry is not None else None

    pairs: set[tuple[str, str]] = set()

    def add(mention: str, target: str | None) -> None:
        m = mention.strip().lower()
        if target and 2 < len(m) <= MAX_CHARS and m != target.lower():
            pairs.add((m, target))

    for concept in curated_concepts():
        for listed in (concept.get("codes") or {}).values():
            for code in listed:
                for term in concept.get("terms", []):
                    add(term, title(code))
    for key, terms in icd.inclusion_terms.items():
        for term in terms:
            add(term, title(key))
    index: list[tuple[str, str]] = []
    for row in read_rows("icd10cm_index_terms.csv.gz"):
        target = title(row["code"] or "") if row["code"] else None
        if target is not None:
            index.append((_clean(row["term_path"]), target))
    index = sorted(set(index))
    random.Random(seed).shuffle(index)
    for mention, target in index[:max_index]:
        add(mention, target)
    if spans:
        for g in train:
            for code, found in (g.get("evidence") or {}).items():
                entry = catalog.get(code)
                if entry is not None and entry.category.startswith("em_"):
                    continue  # E/M evidence is a time or MDM statement, not a name
                for span in found:
                    add(span.get("text", ""), title(code))
    return sorted(pairs)
