"""Synthetic outpatient visit-note corpus with gold ICD-10-CM, CPT/HCPCS lines, diagnosis
pointers and exact evidence offsets (see data/synthetic/README.md).

    from pipelines.synthetic import generate, ensure_corpus
    notes = generate(100, seed=13)
    path = ensure_corpus("data/synthetic/notes.jsonl.gz")   # generates the default corpus if missing
"""

from pipelines.synthetic.corpus import (
    DEFAULT_N,
    DEFAULT_SEED,
    corpus_stats,
    ensure_corpus,
    iter_notes,
    leakage,
    load_corpus,
    write_corpus,
)
from pipelines.synthetic.generator import generate

__all__ = [
    "DEFAULT_N",
    "DEFAULT_SEED",
    "corpus_stats",
    "ensure_corpus",
    "generate",
    "iter_notes",
    "leakage",
    "load_corpus",
    "write_corpus",
]
