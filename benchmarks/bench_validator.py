"""Validator speed: a 10-line claim must validate in <= 2 ms after warm-up (issue 6).

    .venv/bin/python benchmarks/bench_validator.py [--n 2000]

Prints the median, p95 and mean latency of `validator.validate` on a 10-line claim with 6
diagnoses (pointers as codes and indexes, modifiers, an NCCI pair, an add-on), the cold
first call (code sets and rules loaded) and the pointer-assignment latency.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validator import assign_pointers, load_ruleset, validate
from validator.schemas import ServiceLine

CLAIM = {
    "date_of_service": "2026-03-02",
    "patient": {"age": 62, "sex": "F"},
    "setting": "office",
    "place_of_service": "11",
    "icd10cm": ["E11.65", "I10", "E78.5", "M17.11", "Z79.4", "L97.412"],
    "cpt_lines": [
        {"code": "99214", "modifiers": ["25"], "units": 1, "dx": ["E11.65", "I10", "E78.5"]},
        {"code": "83036", "modifiers": [], "units": 1, "dx": [1, 5]},
        {"code": "80061", "modifiers": [], "units": 1, "dx": ["E78.5"]},
        {"code": "80053", "modifiers": [], "units": 1, "dx": [1]},
        {"code": "36415", "modifiers": [], "units": 1, "dx": [1]},
        {"code": "20610", "modifiers": ["RT"], "units": 1, "dx": ["M17.11"]},
        {"code": "73562", "modifiers": ["RT"], "units": 1, "dx": [4]},
        {"code": "11042", "modifiers": [], "units": 1, "dx": [6]},
        {"code": "11045", "modifiers": [], "units": 1, "dx": [6]},
        {"code": "93000", "modifiers": [], "units": 1, "dx": []},
    ],
}


def _time(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    load_ruleset()
    res = validate(CLAIM)
    cold = (time.perf_counter() - t0) * 1000
    for _ in range(50):
        validate(CLAIM)
    ms = sorted(_time(lambda: validate(CLAIM), args.n))
    p95 = ms[int(0.95 * len(ms)) - 1]
    c0 = time.process_time()
    for _ in range(args.n):
        validate(CLAIM)
    cpu = (time.process_time() - c0) * 1000 / args.n
    lines = [ServiceLine(code=x["code"]) for x in CLAIM["cpt_lines"]]  # type: ignore[index]
    ap_ms = sorted(_time(lambda: assign_pointers(CLAIM["icd10cm"], lines), args.n))  # type: ignore[arg-type]
    print(f"claim: {len(CLAIM['cpt_lines'])} lines, {len(CLAIM['icd10cm'])} diagnoses; "  # type: ignore[arg-type]
          f"status {res.status}, {len(res.findings)} findings; ruleset {res.ruleset_version}")
    print(f"cold first call (loads code sets + rules): {cold:.0f} ms")
    print(f"validate, warm, n={args.n}: median {statistics.median(ms):.3f} ms, p95 {p95:.3f} ms, "
          f"mean {statistics.fmean(ms):.3f} ms (target <= 2 ms)")
    print(f"validate, process CPU time per claim: {cpu:.3f} ms (wall-clock tails include other processes' load)")
    print(f"assign_pointers (10 lines), warm: median {statistics.median(ap_ms):.3f} ms")
    corpus = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "claims.jsonl"
    if corpus.is_file():
        import json

        rows = [json.loads(x) for x in corpus.read_text().splitlines() if x.strip()]
        for r in rows:  # warm-up pass (first sight of each code fills the look-up caches)
            validate(r)
        per = sorted(t for r in rows for t in _time(lambda r=r: validate(r), 5))  # type: ignore[misc]
        print(f"synthetic claims ({len(rows)} varied claims x5, warm): median {statistics.median(per):.3f} ms, "
              f"p95 {per[int(0.95 * len(per)) - 1]:.3f} ms")
    print("PASS" if statistics.median(ms) <= 2.0 else "FAIL: median above 2 ms")


if __name__ == "__main__":
    main()
