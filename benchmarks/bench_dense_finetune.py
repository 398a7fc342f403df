"""Does fine-tuning the static MiniLM table (SuggestConfig.dense_finetune) find codes by names it
never saw? Measured on family D's names (`benchmarks/family_d.py`), never on the test split.

    .venv/bin/python benchmarks/bench_dense_finetune.py                       # the champion's table
    .venv/bin/python benchmarks/bench_dense_finetune.py --lr 0.03 --lr 0.2 --spans

Takes a model's static encoder and code-text index (a model trained without `dense_finetune`),
fine-tunes a copy per learning rate on `pipelines.dense_pairs.finetune_pairs` (curated synonyms,
ICD-10-CM inclusion terms and Alphabetic Index entries; `--spans` adds the synthetic training
notes' evidence spans), re-embeds the same code texts and looks each family D name up alone:
hit@1, hit@5 and MRR of its concept's codes among the top 10 distinct codes (diagnoses: any code
of the concept's variants; procedures: its code), and the mean similarity of a right and of a
wrong first hit. Family A names (the training notes' wording) are the control. Takes 2-3 minutes
per learning rate on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def name_items(family: str) -> list[tuple[str, set[str], str]]:
    import family_d as fd

    from pipelines.synthetic.knowledge import load_knowledge

    k = load_knowledge()
    items: list[tuple[str, set[str], str]] = []
    for c in k.concepts.values():
        if c.derived:
            continue
        gold = {code for v in c.variants for code in v.codes}
        names = fd.CONDITION_NAMES_D.get(c.id, []) if family == "D" else list(c.names.get("A", ()))
        items += [(n, gold, "dx") for n in names]
    procs = {id(p): p for p in [*k.procedures.values(), *k.vaccines]}
    for p in procs.values():
        names = fd.PROCEDURE_NAMES_D.get(p.code, []) if family == "D" else list(p.names.get("A", ()))
        items += [(n, {p.code}, "px") for n in names]
    return items


def score(enc: Any, index: Any, items: list[tuple[str, set[str], str]]) -> dict[str, dict[str, float]]:
    import numpy as np

    hits = index.query(enc.encode([n for n, _, _ in items]), 10)
    out: dict[str, dict[str, float]] = {}
    for kind in ("dx", "px"):
        rows = [(h, g) for (_, g, kk), h in zip(items, hits, strict=True) if kk == kind]
        right = [h[0][1] for h, g in rows if h and h[0][0] in g]
        wrong = [h[0][1] for h, g in rows if h and h[0][0] not in g]
        out[kind] = {
            "n": len(rows),
            "hit@1": float(np.mean([bool(h) and h[0][0] in g for h, g in rows])),
            "hit@5": float(np.mean([any(c in g for c, _ in h[:5]) for h, g in rows])),
            "mrr": float(np.mean([next((1 / (i + 1) for i, (c, _) in enumerate(h) if c in g), 0.0) for h, g in rows])),
            "sim_right": float(np.mean(right)) if right else 0.0,
            "sim_wrong": float(np.mean(wrong)) if wrong else 0.0,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model URI or folder (default: champion)")
    ap.add_argument("--lr", type=float, action="append", default=[], help="learning rate (repeatable; default 0.2)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-index", type=int, default=60_000)
    ap.add_argument("--spans", action="store_true", help="add the synthetic training notes' evidence spans")
    args = ap.parse_args()

    from models.dense import DenseIndex
    from pipelines.dense_pairs import finetune_pairs
    from pipelines.suggest import load_suggester

    s = load_suggester(args.model)
    if s.encoder is None or s.dense is None:
        raise SystemExit("this model has no dense index")
    if s.config.dense_finetune:
        raise SystemExit("this model's table is already fine-tuned: give a model trained without dense_finetune")
    train: list[dict[str, Any]] = []
    if args.spans:
        from pipelines.train import load_synthetic

        train = [g for g in load_synthetic() if g.get("split") == "train"]
    pairs = finetune_pairs(s.cs, train, max_index=args.max_index, spans=args.spans, seed=0)
    items = {f: name_items(f) for f in ("D", "A")}
    report: dict[str, Any] = {"pairs": len(pairs), "base": {f: score(s.encoder, s.dense, it) for f, it in items.items()}}
    for lr in args.lr or [0.2]:
        t = time.perf_counter()
        tuned = s.encoder.fine_tune(pairs, epochs=args.epochs, lr=lr, seed=0)
        took = time.perf_counter() - t
        index = DenseIndex.build(s.dense.codes, s.dense.texts, tuned)
        report[f"lr={lr}"] = {"seconds": round(took, 1), **{f: score(tuned, index, it) for f, it in items.items()}}
    for name, r in report.items():
        if name == "pairs":
            print(f"pairs: {r}")
            continue
        for f in ("D", "A"):
            cells = "  ".join(f"{k} n={v['n']} hit@1 {v['hit@1']:.3f} hit@5 {v['hit@5']:.3f} MRR {v['mrr']:.3f} "
                              f"sim right/wrong {v['sim_right']:.3f}/{v['sim_wrong']:.3f}" for k, v in r[f].items())
            print(f"{name:9s} family {f}: {cells}")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
