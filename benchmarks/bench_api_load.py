"""Load on loopback: sustained req/s at p99 <= 300 ms for /v1/suggest and /v1/validate, and the
503 + Retry-After answer under overload.

Starts `medcode serve` (uvicorn, one worker) pinned to `--cpus` (default: 2 cores), then for
each route runs a closed loop of C concurrent clients (httpx async, bounded) for `--duration`
seconds at C = 1, 2, 4, 8, 16...; reports throughput and latency percentiles per level and the
best throughput whose p99 stays <= 300 ms. Finally it fires a burst far above
MEDCODE_MAX_CONCURRENCY + MEDCODE_MAX_QUEUE and reports how many calls got 503 with Retry-After
and how fast they were refused. Stops by itself (every phase is time-bounded).

    .venv/bin/python benchmarks/bench_api_load.py                    # keyword fake suggester
    .venv/bin/python benchmarks/bench_api_load.py --work-ms 25       # fake that burns 25 ms CPU per note
    .venv/bin/python benchmarks/bench_api_load.py --suggester pipeline   # real NLP pipeline, untrained rankers
    .venv/bin/python benchmarks/bench_api_load.py --suggester real   # the default model (built on first use)

The load generator runs on the same machine: on a shared or 2-core box it competes with the
server for CPU, so the numbers are a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serving.testing import ServerProcess

NOTES = json.loads((Path(__file__).resolve().parents[1] / "serving" / "examples.json").read_text())
CLAIM = {"date_of_service": "2026-03-02", "patient": {"age": 58, "sex": "F"}, "setting": "office",
         "icd10cm": ["E11.65", "I10", "E66.9"],
         "cpt_lines": [{"code": "99214", "dx": [1, 2]}, {"code": "83036", "dx": ["E11.65"]}]}
P99_TARGET_MS = 300.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))
    return s[k]


def body_for(route: str, i: int) -> dict[str, Any]:
    if route == "/v1/suggest":
        n = NOTES[i % len(NOTES)]
        return {"text": n["text"], "patient": n["patient"], "date_of_service": n["date_of_service"],
                "setting": n["setting"]}
    return CLAIM


async def closed_loop(url: str, route: str, concurrency: int, duration: float) -> dict[str, Any]:
    lat: list[float] = []
    codes: dict[int, int] = {}
    errors = 0
    stop_at = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker(w: int) -> None:
            nonlocal errors
            i = w
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                try:
                    r = await client.post(route, json=body_for(route, i))
                except httpx.HTTPError:
                    errors += 1
                    continue
                dt_ms = (time.perf_counter() - t0) * 1000
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    lat.append(dt_ms)
                i += concurrency

        t_start = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - t_start
    return {"concurrency": concurrency, "ok": len(lat), "req_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1), "p99_ms": round(pct(lat, 99), 1),
            "status": codes, "errors": errors}


async def burst(url: str, route: str, n: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one(i: int) -> tuple[int, float, str | None]:
            t0 = time.perf_counter()
            r = await client.post(route, json=body_for(route, i))
            return r.status_code, (time.perf_counter() - t0) * 1000, r.headers.get("retry-after")

        # open the connections first, so the burst measures the server and not TCP/TLS set-up
        await asyncio.gather(*(client.get("/health") for _ in range(n)), return_exceptions=True)
        res = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    ok = [x for x in res if isinstance(x, tuple)]
    rejected = [x for x in ok if x[0] == 503]
    served = [x for x in ok if x[0] == 200]
    return {"sent": n, "200": len(served), "503": len(rejected),
            "503_with_retry_after": sum(1 for x in rejected if x[2]),
            "retry_after_values": sorted({x[2] for x in rejected if x[2]}),
            "503_p50_ms": round(pct([x[1] for x in rejected], 50), 1),
            "503_max_ms": round(max((x[1] for x in rejected), default=float("nan")), 1),
            "200_p99_ms": round(pct([x[1] for x in served], 99), 1),
            "other": len(res) - len(served) - len(rejected)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="medcode-load-"))
    env = {"MEDCODE_MAX_CONCURRENCY": str(args.max_concurrency), "MEDCODE_MAX_QUEUE": str(args.max_queue),
           "MEDCODE_LOG_LEVEL": "WARNING", "MEDCODE_FAKE_WORK_MS": str(args.work_ms),
           "MEDCODE_FAKE_SLEEP_MS": str(args.sleep_ms)}
    if args.suggester == "pipeline":
        env["MEDCODE_SUGGESTER_FACTORY"] = "serving.testing:make_untrained_pipeline"
    if args.suggester == "real":
        env.update({"MEDCODE_SUGGESTER_FACTORY": "", "MEDCODE_MODEL_URI": args.model_uri})
    cpus = [int(c) for c in args.cpus.split(",")] if args.cpus else None
    srv = ServerProcess(work, env, cpus=cpus)
    srv.start(timeout=args.start_timeout)
    out: dict[str, Any] = {"suggester": args.suggester, "work_ms": args.work_ms if args.suggester == "fake" else None,
                           "sleep_ms": args.sleep_ms if args.suggester == "fake" else None,
                           "server_cpus": cpus, "host_cpus": os.cpu_count(),
                           "loadavg_before": os.getloadavg(), "routes": {}}
    try:
        ready = httpx.get(srv.url + "/ready", timeout=10).json()
        out["model"] = {"source": ready["source"], "version": ready["model_version"]}
        levels = [int(x) for x in args.levels.split(",")]
        for route in ("/v1/suggest", "/v1/validate"):
            asyncio.run(closed_loop(srv.url, route, 2, 1.0))  # warm-up
            rows = []
            for c in levels:
                row = asyncio.run(closed_loop(srv.url, route, c, args.duration))
                rows.append(row)
                print(f"{route:13s} C={c:3d}  {row['req_per_s']:7.1f} req/s  p50 {row['p50_ms']:7.1f}  "
                      f"p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f} ms  status {row['status']}", flush=True)
                if row["p99_ms"] > 4 * P99_TARGET_MS:
                    break  # far past the target: more clients only queue
            within = [r for r in rows if r["p99_ms"] <= P99_TARGET_MS and r["ok"]]
            best = max(within, key=lambda r: r["req_per_s"]) if within else None
            out["routes"][route] = {"levels": rows, "sustained_at_p99_le_300ms": best}
        b = asyncio.run(burst(srv.url, "/v1/suggest", args.burst))
        out["overload_burst"] = b
        print(f"burst of {b['sent']} concurrent /v1/suggest: {b['200']} x 200, {b['503']} x 503 "
              f"({b['503_with_retry_after']} with Retry-After {b['retry_after_values']}), 503 p50 {b['503_p50_ms']} ms",
              flush=True)
        metrics = httpx.get(srv.url + "/metrics", timeout=10).text
        out["overload_metric"] = [ln for ln in metrics.splitlines() if ln.startswith("medcode_overload_rejections_total")]
    finally:
        srv.stop()
    out["loadavg_after"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suggester", choices=["fake", "pipeline", "real"], default="fake")
    ap.add_argument("--model-uri", default="default", help="with --suggester real")
    ap.add_argument("--work-ms", type=float, default=0.0, help="CPU per call of the fake suggester")
    ap.add_argument("--sleep-ms", type=float, default=0.0, help="wall time per call of the fake (no CPU)")
    ap.add_argument("--cpus", default="0,1", help="CPUs the server is pinned to ('' = no pinning)")
    ap.add_argument("--levels", default="1,2,4,8,16,32")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per level")
    ap.add_argument("--max-concurrency", type=int, default=2)
    ap.add_argument("--max-queue", type=int, default=16)
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--start-timeout", type=float, default=120.0)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    res = run(args)
    text = json.dumps(res, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    print("\nsummary:")
    for route, r in res["routes"].items():
        best = r["sustained_at_p99_le_300ms"]
        if best:
            print(f"  {route}: {best['req_per_s']} req/s sustained at p99 {best['p99_ms']} ms "
                  f"(C={best['concurrency']}, server on CPUs {res['server_cpus']})")
        else:
            print(f"  {route}: p99 above 300 ms at every level")
    b = res["overload_burst"]
    print(f"  overload: {b['503']}/{b['sent']} answered 503 with Retry-After in {b['503_p50_ms']} ms (p50)")


if __name__ == "__main__":
    main()
