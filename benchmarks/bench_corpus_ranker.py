"""A corpus's own ranker and open phrases (SuggestConfig.corpus_ranker / corpus_phrases) on
CodiEsp notes no model saw.

    .venv/bin/python benchmarks/bench_corpus_ranker.py                 # fold 0, 3,000 synthetic notes
    .venv/bin/python benchmarks/bench_corpus_ranker.py --fold 1
    .venv/bin/python benchmarks/bench_corpus_ranker.py --variant 'sim85={"corpus_phrase_min_sim": 0.85}'

Trains one proxy Suggester per variant on the same data: `--n-train` synthetic train notes (a
seeded sample) plus the CodiEsp train notes outside fold `--fold` (of five, by a hash of the
note id, as bench_shift.py's 20% slice), tagged `corpus: codiesp` as the default training tags
them; calibration and thresholds on the synthetic dev split. The variants are `shared` (one
ranker for every corpus, no phrases: the models before session 11), `own` (the default config)
and any `--variant NAME=JSON` (config overrides). Each is scored on the held-out CodiEsp fold
(ICD-10-CM micro-F1, MAP, ECE over the ranked list) and on 300 synthetic dev notes (clinic notes
must rank as before).

Neither CodiEsp dev nor the synthetic test split is read. ~4 minutes per variant on 2 cores.
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
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

VARIANTS: dict[str, dict[str, Any]] = {"shared": {"corpus_ranker": False, "corpus_phrases": False}, "own": {}}


def run(variants: dict[str, dict[str, Any]], fold: int = 0, n_train: int = 3000, seed: int = 0) -> dict[str, Any]:
    import bench_suggest as B
    from bench_corpus_calibration import fold_data

    from pipelines.nlp import NlpPipeline
    from pipelines.suggest import Suggester

    train, dev, c_train, c_held, probe = fold_data(fold, n_train, seed)
    nlp = NlpPipeline.load()
    out: dict[str, Any] = {"fold": fold, "n_train_synthetic": len(train), "n_train_codiesp": len(c_train),
                           "n_codiesp_held_out": len(c_held), "models": {}}
    for name, overrides in variants.items():
        t0 = time.time()
        s = Suggester.fit(train + c_train, dev, {"seed": seed, **overrides}, nlp=nlp)
        fit_s = time.time() - t0
        t1 = time.time()
        rc = s.suggest_batch([n["text"] for n in c_held])
        codiesp_s = time.time() - t1
        rd = s.suggest_batch([{k: n[k] for k in ("text", "patient", "date_of_service") if n.get(k)} for n in probe])
        res: dict[str, Any] = {"config": overrides, "fit_s": round(fit_s), "codiesp_ms_per_note": round(1000 * codiesp_s / max(len(c_held), 1), 1),
                               "corpus_rankers": sorted(s.corpus_rankers), "corpus_thresholds": s.corpus_thresholds,
                               "codiesp_held_out": B._score(c_held, rc, "icd10cm"),
                               "synthetic_dev_icd10cm": B._score(probe, rd, "icd10cm"),
                               "synthetic_dev_cpt": B._score(probe, rd, "cpt")}
        out["models"][name] = res
        print(json.dumps({"variant": name, **res}), file=sys.stderr, flush=True)
    return out


def _variant(arg: str) -> tuple[str, dict[str, Any]]:
    name, sep, body = arg.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=JSON, got {arg!r}")
    try:
        overrides = json.loads(body)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"{name}: not JSON ({e})") from e
    if not isinstance(overrides, dict):
        raise argparse.ArgumentTypeError(f"{name}: expected a JSON object of config keys")
    return name, overrides


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fold", type=int, default=0, choices=range(5))
    ap.add_argument("--n-train", type=int, default=3000, help="synthetic training notes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", type=_variant, action="append", default=[],
                    help="NAME=JSON config overrides, trained besides 'shared' and 'own'")
    ap.add_argument("--only", nargs="+", help="train only these variants (names)")
    a = ap.parse_args()
    variants = {**VARIANTS, **dict(a.variant)}
    if a.only:
        unknown = sorted(set(a.only) - set(variants))
        if unknown:
            ap.error(f"unknown variants {unknown}")
        variants = {k: v for k, v in variants.items() if k in a.only}
    print(json.dumps(run(variants, a.fold, a.n_train, a.seed), indent=2))


if __name__ == "__main__":
    main()
