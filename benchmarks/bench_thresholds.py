"""How much a model's scores on new wording depend on where its decision thresholds sit.

    .venv/bin/python benchmarks/bench_thresholds.py --model models:/medcode-suggester/27
    .venv/bin/python benchmarks/bench_thresholds.py -n 300 --model DIR --rule one_se
    .venv/bin/python benchmarks/bench_thresholds.py --rule one_se --fit rows --fit selection

For each model: its dev rows are recomputed on the training config's dev notes (the synthetic dev
split that calibrated it; never the test split), the ICD-10-CM, CPT and E/M thresholds are re-read
off those rows with each `--rule` (`models.ranker.tune_threshold`: `best` = the argmax of dev F1,
`one_se` = the lowest threshold within one standard error of it), with the model's own ranker and
calibrators (no retraining), and the model is scored on the first `-n` dev notes as generated
(family A) and with family D names in family C templates (`family_cd`, see
`benchmarks/bench_family_d.py`). The stored thresholds are scored too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def retune(s: Any, dev_notes: list[dict[str, Any]], rule: str, fit: str | None = None) -> dict[str, float]:
    """Thresholds re-read with `rule` from the model's own calibrated dev rows (`fit`: 'rows' or
    'selection', see SuggestConfig.threshold_fit; default: the model's own)."""
    from pipelines.suggest import _analyze_all, _gold

    dev = [_gold(n) for n in dev_notes]
    s.config.threshold_rule = rule
    if fit is not None:
        s.config.threshold_fit = fit
    return dict(s.calibrate(dev, _analyze_all(s.nlp, [g["text"] for g in dev]), refit=False))


def main() -> None:
    import bench_suggest as B
    from bench_family_d import dev_notes

    from pipelines.suggest import load_suggester
    from pipelines.train import collect_data, load_config

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], help="model URI or folder (repeatable; default: champion)")
    ap.add_argument("-n", type=int, default=600, help="dev notes to score")
    ap.add_argument("--rule", action="append", choices=["best", "one_se"], default=[],
                    help="threshold rule(s) to re-read thresholds with (default: both)")
    ap.add_argument("--fit", action="append", choices=["rows", "selection"], default=[],
                    help="what thresholds are read off (default: the model's own)")
    a = ap.parse_args()
    sets = {"family_a": dev_notes(a.n, names_d=False, templates_c=False),
            "family_cd": dev_notes(a.n, names_d=True, templates_c=True)}
    calib = collect_data(load_config(None)).dev

    def score(s: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"thresholds": dict(s.thresholds)}
        for name, notes in sets.items():
            rs = [s.suggest(n["text"], n) for n in notes]
            out[name] = {"icd10cm_f1": B._score(notes, rs, "icd10cm")["f1_micro"],
                         "cpt_f1": B._score(notes, rs, "cpt")["f1_micro"], "em_exact": B._em_exact(notes, rs)}
        return out

    result: dict[str, Any] = {"n": a.n, "n_calibration_notes": len(calib), "models": {}}
    for m in a.model or ["models:/medcode-suggester@champion"]:
        s = load_suggester(m)
        res = {"stored": score(s)}
        for rule in a.rule or ["best", "one_se"]:
            for fit in a.fit or [None]:
                retune(s, calib, rule, fit)
                res[rule if fit is None else f"{rule}/{fit}"] = score(s)
        result["models"][m] = res
        print(json.dumps({m: res}), file=sys.stderr, flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
