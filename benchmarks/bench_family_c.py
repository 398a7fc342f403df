"""Robustness to unseen templates, measured without the synthetic test split.

    .venv/bin/python benchmarks/bench_family_c.py                                   # the champion
    .venv/bin/python benchmarks/bench_family_c.py --model models:/medcode-suggester/12 --model DIR

The synthetic generator writes train and dev notes with family A's sentence templates and
layouts (and the test split with family B's, which this benchmark never reads). Family C
(`benchmarks/family_c.py`) paraphrases family A's templates and layouts, written from family A
alone. This benchmark regenerates the first `--n` dev notes of the default corpus (seed 13: the
same patients, problems, codes and gold) twice: as they are (family A) and with family C's
templates and layouts swapped in, then scores each model on both. Condition and procedure names
stay family A's: the difference between the two columns is the cost of new templates alone.

Dev notes were used to calibrate the default model and tune its thresholds, so absolute numbers
on the family-A column are optimistic; the family-C drop is the measurement.
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
def family_c_templates() -> Iterator[None]:
    """Family C's templates and layouts in place of family A's (restored afterwards)."""
    from family_c import LAYOUTS_C, TEMPLATES_C

    from pipelines.synthetic.phrasing import LAYOUTS, T

    saved_t = {k: T[k]["A"] for k in TEMPLATES_C}
    saved_layouts = dict(LAYOUTS)
    try:
        for k, templates in TEMPLATES_C.items():
            T[k]["A"] = tuple(templates)
        for name in [n for n, lay in LAYOUTS.items() if lay["family"] == "A"]:
            del LAYOUTS[name]
        for name, lay in LAYOUTS_C.items():
            LAYOUTS[name] = {**lay, "family": "A"}
        yield
    finally:
        for k, templates in saved_t.items():
            T[k]["A"] = templates
        LAYOUTS.clear()
        LAYOUTS.update(saved_layouts)


def dev_notes(n: int, seed: int = 13, family_c: bool = False) -> list[dict[str, Any]]:
    """The first `n` dev-split notes of the corpus with this seed (test-split notes are skipped
    unread)."""
    from pipelines.synthetic.generator import NoteGenerator

    out: list[dict[str, Any]] = []
    with family_c_templates() if family_c else contextlib.nullcontext():
        gen = NoteGenerator(seed)
        i = 0
        while len(out) < n and i < 50 * n:
            note = gen.note(i)
            i += 1
            if note["split"] == "dev":
                out.append(note)
    return out


def score(model: str, notes: list[dict[str, Any]], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    import bench_suggest as B

    from pipelines.suggest import load_suggester

    s = load_suggester(model)
    for key, value in (overrides or {}).items():  # selection-time switches (no retraining)
        if not hasattr(s.config, key):
            raise SystemExit(f"unknown SuggestConfig key {key!r}")
        setattr(s.config, key, value)
    rs = [s.suggest(n["text"], n) for n in notes]
    return {"icd10cm": B._score(notes, rs, "icd10cm"), "cpt": B._score(notes, rs, "cpt"), "em_exact": B._em_exact(notes, rs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], help="model URI or folder (repeatable; default: champion)")
    ap.add_argument("-n", type=int, default=500, help="dev notes")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="SuggestConfig override applied after loading (JSON value), e.g. documented_visit_em=false")
    a = ap.parse_args()
    overrides = {k: json.loads(v) for k, _, v in (item.partition("=") for item in a.set)}
    a_notes = dev_notes(a.n)
    c_notes = dev_notes(a.n, family_c=True)
    same = sum(x["icd10cm"] == y["icd10cm"] and x["cpt"] == y["cpt"] for x, y in zip(a_notes, c_notes, strict=False))
    out: dict[str, Any] = {"n": len(c_notes), "same_gold_share": round(same / max(len(c_notes), 1), 3),
                           "overrides": overrides, "models": {}}
    for m in a.model or ["models:/medcode-suggester@champion"]:
        out["models"][m] = {"family_a": score(m, a_notes, overrides), "family_c": score(m, c_notes, overrides)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
