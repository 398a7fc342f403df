"""Batch throughput: in-process single-process scoring vs `local` (process pool) vs Spark local[2].

    .venv/bin/python benchmarks/bench_batch.py [--n 5000] [--model URI]

Uses the synthetic corpus (first N notes) and the champion model unless --model is given.
Target (issue 10): >= 100 notes/s on 2 cores. Ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--model", default=None)
    ap.add_argument("--engines", default="inprocess,local,spark")
    a = ap.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pipelines.batch import flat_row, resolve_model_uri, run_batch
    from pipelines.train import load_synthetic

    notes = load_synthetic()[: a.n]
    tmp = Path(tempfile.mkdtemp())
    inp = tmp / "in.jsonl"
    inp.write_text("".join(json.dumps({k: n[k] for k in ("id", "text", "patient", "date_of_service", "setting")}) + "\n"
                           for n in notes))
    model = resolve_model_uri(a.model)
    results: dict[str, float] = {}
    engines = a.engines.split(",")
    if "inprocess" in engines:
        from models.pyfunc import row_context
        from pipelines.suggest import load_suggester

        s = load_suggester(model)
        rows = [flat_row(n, n["id"]) for n in notes]
        s.suggest(rows[0]["text"], row_context(rows[0]))
        t0 = time.perf_counter()
        for r in rows:
            s.suggest(r["text"], row_context(r))
        results["inprocess_notes_per_s"] = round(len(rows) / (time.perf_counter() - t0), 1)
    for engine in ("local", "spark"):
        if engine not in engines:
            continue
        out = tmp / engine
        t0 = time.perf_counter()
        summary = run_batch(inp, out, engine=engine, model=model, master="local[2]", workers=2, progress=False)
        wall = time.perf_counter() - t0
        assert summary.scored == len(notes), summary
        results[f"{engine}_notes_per_s_wall"] = round(len(notes) / wall, 1)
        results[f"{engine}_notes_per_s_scoring"] = summary.notes_per_s
    base = results.get("inprocess_notes_per_s")
    if base:
        for k in list(results):
            if k.endswith("_wall"):
                results[k.replace("_notes_per_s_wall", "_vs_inprocess")] = round(results[k] / base, 2)
    results["n_notes"] = len(notes)
    print(json.dumps(results, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
