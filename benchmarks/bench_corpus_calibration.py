"""Per-corpus calibration (SuggestConfig.corpus_calibration) on CodiEsp notes no model saw.

    .venv/bin/python benchmarks/bench_corpus_calibration.py            # fold 0, 3,000 synthetic notes
    .venv/bin/python benchmarks/bench_corpus_calibration.py --fold 1

Trains two proxy Suggesters on the same data, per-corpus calibration on and off: `--n-train`
synthetic train notes (a seeded sample) plus the CodiEsp train notes outside fold `--fold` (of
five, by a hash of the note id, as bench_shift.py's 20% slice), tagged `corpus: codiesp` as the
default training tags them; calibration and thresholds on the synthetic dev split. Both are
scored on the held-out CodiEsp fold (ICD-10-CM micro-F1, MAP, ECE over the ranked list) and on
300 synthetic dev notes, with the CodiEsp weight the corpus classifier gives each set.

Neither CodiEsp dev nor the synthetic test split is read. ~10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def fold_data(fold: int, n_train: int, seed: int) -> tuple[list[dict[str, Any]], ...]:
    """(synthetic train sample, synthetic dev, CodiEsp train outside the fold, the held-out
    fold, 300 synthetic dev notes to probe clinic notes with)."""
    from bench_shift import _h  # the same five-way split as bench_shift's CodiEsp slice

    from pipelines.suggest import read_codiesp_train
    from pipelines.train import load_synthetic

    synth = load_synthetic()
    train = random.Random(seed).sample([n for n in synth if n["split"] == "train"], n_train)
    dev = [n for n in synth if n["split"] == "dev"]
    cod = read_codiesp_train(ROOT)
    c_train = [n for n in cod if _h(n["id"], 5) != fold]
    c_held = [n for n in cod if _h(n["id"], 5) == fold]
    return train, dev, c_train, c_held, dev[-300:]


def run(fold: int = 0, n_train: int = 3000, seed: int = 0) -> dict[str, Any]:
    import bench_suggest as B

    from pipelines.nlp import NlpPipeline
    from pipelines.suggest import Suggester

    train, dev, c_train, c_held, probe = fold_data(fold, n_train, seed)
    nlp = NlpPipeline.load()
    out: dict[str, Any] = {"fold": fold, "n_train_synthetic": len(train), "n_train_codiesp": len(c_train),
                           "n_codiesp_held_out": len(c_held), "models": {}}
    for on in (False, True):
        t0 = time.time()
        s = Suggester.fit(train + c_train, dev, {"corpus_calibration": on, "seed": seed}, nlp=nlp)
        fit_s = time.time() - t0
        rc = s.suggest_batch([n["text"] for n in c_held])
        rd = s.suggest_batch([{k: n[k] for k in ("text", "patient", "date_of_service") if n.get(k)} for n in probe])
        res: dict[str, Any] = {"fit_s": round(fit_s), "thresholds": s.thresholds, "corpus_thresholds": s.corpus_thresholds,
                               "codiesp_held_out": B._score(c_held, rc, "icd10cm"),
                               "synthetic_dev_icd10cm": B._score(probe, rd, "icd10cm"),
                               "synthetic_dev_cpt": B._score(probe, rd, "cpt")}
        w = s._corpus_weights([n["text"] for n in c_held])
        if w is not None:
            wd = s._corpus_weights([n["text"] for n in probe])
            assert wd is not None
            res["codiesp_weight_mean"] = {"codiesp_held_out": round(float(w[:, 1].mean()), 4),
                                          "synthetic_dev": round(float(wd[:, 1].mean()), 4)}
        out["models"]["corpus_calibration" if on else "one_calibration"] = res
        print(json.dumps({"corpus_calibration": on, **res}), file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fold", type=int, default=0, choices=range(5))
    ap.add_argument("--n-train", type=int, default=3000, help="synthetic training notes")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(json.dumps(run(a.fold, a.n_train, a.seed), indent=2))


if __name__ == "__main__":
    main()
