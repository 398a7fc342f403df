"""Robustness to unseen condition and procedure names, measured without the synthetic test split.

    .venv/bin/python benchmarks/bench_family_d.py                                   # the champion
    .venv/bin/python benchmarks/bench_family_d.py -n 600 --model models:/medcode-suggester/15 --model DIR

The synthetic generator names conditions and procedures with family A's names in the train and
dev splits (and family B's in the test split, which this benchmark never reads). Family D
(`benchmarks/family_d.py`) holds other names for the same conditions, variants, suspected
diagnoses and procedures, and a rule-based paraphraser of ICD-10-CM titles for the concepts the
generator derives from the code set; a helper session wrote it from family A's names only
(exported to JSON), without reading the generator, family B or the product's lexicon.

This benchmark regenerates the first `--n` dev notes of the default corpus (seed 13) three
ways and scores each model on each:

- `family_a`: as generated (the names and templates the model trained on);
- `family_d`: family D's names, family A's templates;
- `family_cd`: family D's names and family C's templates (`benchmarks/family_c.py`): nothing the
  model trained on but the clinical content; the closest proxy of the test split.

Derived concepts (named after an ICD-10-CM code) use `paraphrase_d(title)` plus the code's
inclusion terms that family A does not use. Dev notes calibrated the default model, so the
family-A column is optimistic; the drop to the other columns is the measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@contextlib.contextmanager
def family_d_names() -> Iterator[None]:
    """Family D's names in place of family A's in the generator's knowledge (restored afterwards)."""
    from family_d import (
        CONDITION_NAMES_D,
        PROCEDURE_NAMES_D,
        UNCERTAIN_NAMES_D,
        VARIANT_PHRASES_D,
        paraphrase_d,
    )

    from codesets import load_codesets
    from pipelines.synthetic.knowledge import _clean_title, load_knowledge

    k = load_knowledge()
    icd = load_codesets().icd
    saved: list[tuple[dict[str, Any], str, Any]] = []

    def swap(d: dict[str, Any], key: str, value: Any) -> None:
        saved.append((d, key, d[key]))
        d[key] = value

    try:
        for c in k.concepts.values():
            if c.derived:
                code = c.variants[0].codes[0].replace(".", "")
                key = code.ljust(6, "X") + "A" if c.episode else code
                entry = icd.codes.get(key)
                if entry is None:
                    continue
                title = entry.description
                terms = [t for t in icd.inclusion_terms.get(key, []) if len(t) < 70 and "(" not in t]
                names = [_clean_title(paraphrase_d(title))] + [_clean_title(t) for t in terms[1::2]]
                swap(c.names, "A", tuple(dict.fromkeys(n for n in names if n)))
                continue
            if c.id in CONDITION_NAMES_D:
                swap(c.names, "A", tuple(CONDITION_NAMES_D[c.id]))
            for v in c.variants:
                phrases = VARIANT_PHRASES_D.get(c.id, {}).get(v.value)
                if phrases:
                    swap(v.phrases, "A", tuple(phrases))
        for i, u in enumerate(k.uncertain):
            if i < len(UNCERTAIN_NAMES_D):
                swap(u["dx"], "A", list(UNCERTAIN_NAMES_D[i]))
        procs = {id(p): p for p in [*k.procedures.values(), *k.vaccines]}
        for p in procs.values():
            if p.code in PROCEDURE_NAMES_D:
                swap(p.names, "A", tuple(PROCEDURE_NAMES_D[p.code]))
        yield
    finally:
        for d, key, value in reversed(saved):
            d[key] = value


def dev_notes(n: int, names_d: bool, templates_c: bool, seed: int = 13) -> list[dict[str, Any]]:
    from bench_family_c import dev_notes as notes_c

    with family_d_names() if names_d else contextlib.nullcontext():
        return notes_c(n, seed=seed, family_c=templates_c)


def main() -> None:
    from bench_family_c import score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], help="model URI or folder (repeatable; default: champion)")
    ap.add_argument("-n", type=int, default=500, help="dev notes")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="SuggestConfig override applied after loading (JSON value)")
    ap.add_argument("--columns", default="a,d,cd", help="which of a, d, cd to score (comma-separated)")
    a = ap.parse_args()
    overrides = {k: json.loads(v) for k, _, v in (item.partition("=") for item in a.set)}
    cols = [c.strip() for c in a.columns.split(",") if c.strip()]
    sets = {
        "a": dev_notes(a.n, names_d=False, templates_c=False),
        "d": dev_notes(a.n, names_d=True, templates_c=False),
        "cd": dev_notes(a.n, names_d=True, templates_c=True),
    }
    base = sets["a"]
    out: dict[str, Any] = {"n": len(base), "overrides": overrides, "same_gold_share": {}, "models": {}}
    for col in ("d", "cd"):
        same = sum(x["icd10cm"] == y["icd10cm"] and x["cpt"] == y["cpt"] for x, y in zip(base, sets[col], strict=False))
        out["same_gold_share"][col] = round(same / max(len(sets[col]), 1), 3)
    for m in a.model or ["models:/medcode-suggester@champion"]:
        out["models"][m] = {f"family_{c}": score(m, sets[c], overrides) for c in cols}
        print(json.dumps({m: out["models"][m]}), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
