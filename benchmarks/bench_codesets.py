"""Code-set load time / RSS and lookup latency.

    .venv/bin/python benchmarks/bench_codesets.py

Targets (issue 2): load of all code sets <= 1.5 s and <= 300 MB RSS; lookup <= 20 us.
Load is measured in a fresh subprocess so nothing is cached.
"""

from __future__ import annotations

import json
import subprocess
import sys
import timeit

LOAD = r"""
import json, resource, time
t0 = time.perf_counter()
from codesets import load_codesets
cs = load_codesets()
cs.icd.codes; cs.icd._children; cs.icd._notes; cs.icd._mce; cs.icd._structure; cs.icd.inclusion_terms
p = cs.procedures; p.addons; p.modifiers; p._ptp; p.catalog
t1 = time.perf_counter()
print(json.dumps({"load_s": round(t1 - t0, 3), "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def main() -> None:
    runs = [json.loads(subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]
    load = sorted(r["load_s"] for r in runs)[1]
    rss = max(r["rss_mb"] for r in runs)
    from codesets import load_codesets

    cs = load_codesets()
    cs.lookup("E11.65", dos="2026-03-01")
    cases = [("E11.65", None, "2026-03-01"), ("E11", None, "2026-03-01"), ("S30.1XXA", None, "2026-03-01"),
             ("99213", "cpt", "2025-06-01"), ("G0439", "hcpcs", "2025-06-01")]
    out = {"load_s_median_of_3": load, "load_rss_mb_max": rss}
    for code, system, dos in cases:
        n = 20000
        t = timeit.timeit(lambda: cs.lookup(code, system=system, dos=dos), number=n)  # noqa: B023
        out[f"lookup_us[{code}]"] = round(t / n * 1e6, 2)
    t = timeit.timeit(lambda: cs.search("type 2 diabetes with hyperglycemia"), number=50)
    out["search_ms"] = round(t / 50 * 1e3, 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
