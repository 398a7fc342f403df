"""Writing, loading and describing the synthetic corpus: notes.jsonl(.gz), stats.json and the
split leakage statistic."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipelines.synthetic.generator import NoteGenerator

DEFAULT_N = 20_000
DEFAULT_SEED = 13
_TOKEN = re.compile(r"[a-z0-9]+")


def iter_notes(n: int, seed: int) -> Iterator[dict[str, Any]]:
    gen = NoteGenerator(seed)
    for i in range(n):
        yield gen.note(i)


def _dump(note: dict[str, Any]) -> str:
    return json.dumps(note, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def write_corpus(out_dir: str | Path, n: int = DEFAULT_N, seed: int = DEFAULT_SEED, gzip_output: bool = False) -> dict[str, Any]:
    """Generate n notes into out_dir/notes.jsonl (or .jsonl.gz) and out_dir/stats.json; return the stats."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    notes = list(iter_notes(n, seed))
    gen_s = time.perf_counter() - t0
    path = out / ("notes.jsonl.gz" if gzip_output else "notes.jsonl")
    payload = "".join(_dump(x) + "\n" for x in notes).encode("utf-8")
    if gzip_output:
        # mtime=0 and no file name: byte-identical output for the same seed
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)
    stats = corpus_stats(notes)
    stats.update({"seed": seed, "n": n, "file": path.name})
    # stats.json holds no timings, so every written file is byte-identical for a seed
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {**stats, "generation_seconds": round(gen_s, 2)}


def load_corpus(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if p.suffix == ".gz":
        with gzip.open(p, "rt", encoding="utf-8") as gz:
            return [json.loads(line) for line in gz if line.strip()]
    with open(p, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def ensure_corpus(path: str | Path, n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> Path:
    """Return a corpus file at `path`, generating it deterministically (n notes, seed) if missing.

    `path` may be a file (notes.jsonl or notes.jsonl.gz) or a directory (notes.jsonl inside).
    """
    p = Path(path)
    if p.suffix in (".jsonl", ".gz"):
        if p.exists():
            return p
        write_corpus(p.parent, n=n, seed=seed, gzip_output=p.suffix == ".gz")
        produced = p.parent / ("notes.jsonl.gz" if p.suffix == ".gz" else "notes.jsonl")
        if produced != p:
            produced.replace(p)
        return p
    for name in ("notes.jsonl", "notes.jsonl.gz"):
        if (p / name).exists():
            return p / name
    write_corpus(p, n=n, seed=seed)
    return p / "notes.jsonl"


def _ngrams(text: str, k: int = 4) -> set[int]:
    toks = _TOKEN.findall(text.lower())
    return {hash(" ".join(toks[i : i + k])) for i in range(len(toks) - k + 1)}


def leakage(notes: Iterable[dict[str, Any]], k: int = 4) -> dict[str, float | int]:
    """Share of distinct test word k-grams that also occur in train, and share of test gold
    codes (ICD and CPT) never seen in train gold."""
    train_grams: set[int] = set()
    test_grams: set[int] = set()
    train_codes: set[str] = set()
    test_codes: set[str] = set()
    test_code_occ = 0
    test_code_occ_unseen = 0
    test_notes = []
    for note in notes:
        split = note.get("split")
        if split == "train":
            train_grams |= _ngrams(note["text"], k)
            train_codes.update(note.get("icd10cm", []))
            train_codes.update(note.get("cpt", []))
        elif split == "test":
            test_grams |= _ngrams(note["text"], k)
            test_notes.append(note)
            test_codes.update(note.get("icd10cm", []))
            test_codes.update(note.get("cpt", []))
    occ = occ_in_train = 0
    for note in test_notes:
        toks = _TOKEN.findall(note["text"].lower())
        for i in range(len(toks) - k + 1):
            occ += 1
            occ_in_train += hash(" ".join(toks[i : i + k])) in train_grams
        for c in [*note.get("icd10cm", []), *note.get("cpt", [])]:
            test_code_occ += 1
            test_code_occ_unseen += c not in train_codes
    shared = len(test_grams & train_grams)
    return {
        "ngram": k,
        "test_distinct_ngrams": len(test_grams),
        "test_ngrams_in_train": round(shared / len(test_grams), 4) if test_grams else 0.0,
        "test_ngram_occurrences_in_train": round(occ_in_train / occ, 4) if occ else 0.0,
        "test_distinct_codes": len(test_codes),
        "test_codes_unseen_in_train": round(len(test_codes - train_codes) / len(test_codes), 4) if test_codes else 0.0,
        "test_code_occurrences_unseen_in_train": round(test_code_occ_unseen / test_code_occ, 4) if test_code_occ else 0.0,
    }


def corpus_stats(notes: list[dict[str, Any]]) -> dict[str, Any]:
    icd: set[str] = set()
    cpt: set[str] = set()
    concepts: set[str] = set()
    words = [len(n["text"].split()) for n in notes]
    hard: Counter[str] = Counter()
    for n in notes:
        icd.update(n["icd10cm"])
        cpt.update(n["cpt"])
        concepts.update(n.get("concepts", []))
        hard.update(n.get("hard_case", []))
    return {
        "notes": len(notes),
        "distinct_icd10cm": len(icd),
        "distinct_cpt_hcpcs": len(cpt),
        "distinct_concepts": len(concepts),
        "per_split": dict(sorted(Counter(n["split"] for n in notes).items())),
        "per_specialty": dict(sorted(Counter(n["specialty"] for n in notes).items())),
        "per_setting": dict(sorted(Counter(n["setting"] for n in notes).items())),
        "per_note_style": dict(sorted(Counter(n.get("note_style", "") for n in notes).items())),
        "hard_case": dict(sorted(hard.items())),
        "words": {"min": min(words, default=0), "max": max(words, default=0), "mean": round(sum(words) / max(len(words), 1), 1)},
        "leakage": leakage(notes),
    }
