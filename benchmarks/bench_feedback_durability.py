"""Feedback durability under kill -9.

Starts `medcode serve` (uvicorn) as a subprocess on a temp SQLite database, fires N feedback
POSTs concurrently (httpx async, bounded), sends SIGKILL to the server once half of them are
acknowledged, restarts it on the same database, re-sends what was never acknowledged, and
checks that every acknowledged (HTTP 200) write is in the database.

    .venv/bin/python benchmarks/bench_feedback_durability.py [--n 10000] [--concurrency 64] [--kill-at 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serving.testing import ServerProcess

ITEMS = [
    {"system": "icd10cm", "code": "E11.65", "verdict": "accept"},
    {"system": "icd10cm", "code": "E11.9", "verdict": "replace", "replacement": "E11.649"},
    {"system": "cpt", "code": "99215", "verdict": "reject", "comment": "level 4 documented"},
]


def payload(i: int) -> dict[str, Any]:
    return {"request_id": f"dur-{i:06d}", "model_version": "bench/1", "reviewer_id": f"coder-{i % 17}",
            "note_id": f"note-{i:06d}", "text": f"synthetic note {i}: type 2 diabetes with hyperglycemia",
            "items": ITEMS}


async def fire(url: str, ids: list[int], concurrency: int, acked: dict[int, str], stop_after: int | None,
               on_threshold: asyncio.Event) -> dict[str, int]:
    """POST each id once; record acknowledged feedback ids. Sets on_threshold at stop_after acks."""
    sem = asyncio.Semaphore(concurrency)
    outcome = {"ok": 0, "http_error": 0, "conn_error": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            async with sem:
                try:
                    r = await client.post("/v1/feedback", json=payload(i))
                except httpx.HTTPError:
                    outcome["conn_error"] += 1
                    return
                if r.status_code == 200:
                    acked[i] = r.json()["feedback_id"]
                    outcome["ok"] += 1
                    if stop_after is not None and len(acked) >= stop_after:
                        on_threshold.set()
                else:
                    outcome["http_error"] += 1

        await asyncio.gather(*(one(i) for i in ids))
    return outcome


def run(n: int = 10_000, concurrency: int = 64, kill_at: float = 0.5, workdir: Path | None = None,
        quiet: bool = False) -> dict[str, Any]:
    work = Path(workdir or tempfile.mkdtemp(prefix="medcode-durability-"))
    db = work / "feedback.db"
    env = {"MEDCODE_DATABASE_URL": f"sqlite:///{db}", "MEDCODE_LOG_LEVEL": "WARNING"}
    acked: dict[int, str] = {}
    threshold = max(1, int(n * kill_at))

    srv = ServerProcess(work, env, wait_ready=False).start()
    t0 = time.perf_counter()

    async def phase1() -> dict[str, int]:
        event = asyncio.Event()
        task = asyncio.create_task(fire(srv.url, list(range(n)), concurrency, acked, threshold, event))
        waiter = asyncio.create_task(event.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if event.is_set():
            srv.kill9()  # SIGKILL mid-stream: in-flight requests die with the process
        waiter.cancel()
        return await task

    out1 = asyncio.run(phase1())
    t_kill = time.perf_counter() - t0
    acked_before_kill = dict(acked)
    lost_inflight = n - len(acked_before_kill)

    srv2 = ServerProcess(work, env, wait_ready=False, port=None).start()
    try:
        missing_ids = [i for i in range(n) if i not in acked]
        t1 = time.perf_counter()
        out2 = asyncio.run(fire(srv2.url, missing_ids, concurrency, acked, None, asyncio.Event()))
        t_resend = time.perf_counter() - t1
    finally:
        srv2.stop()

    con = sqlite3.connect(db)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        stored = {fid: rid for fid, rid in con.execute("SELECT feedback_id, request_id FROM feedback")}
        n_items = con.execute("SELECT count(*) FROM feedback_item").fetchone()[0]
    finally:
        con.close()
    missing_before = [i for i, fid in acked_before_kill.items() if stored.get(fid) != f"dur-{i:06d}"]
    missing_all = [i for i, fid in acked.items() if stored.get(fid) != f"dur-{i:06d}"]
    unacked_but_stored = len(stored) - len(acked)
    result = {
        "n": n,
        "concurrency": concurrency,
        "acked_before_kill": len(acked_before_kill),
        "killed_after_s": round(t_kill, 2),
        "writes_per_s_before_kill": round(len(acked_before_kill) / t_kill, 1) if t_kill else None,
        "not_acked_at_kill": lost_inflight,
        "phase1": out1,
        "resent_after_restart": out2,
        "resend_s": round(t_resend, 2),
        "acked_total": len(acked),
        "rows_in_db": len(stored),
        "items_in_db": n_items,
        "committed_but_unacknowledged": unacked_but_stored,
        "acked_before_kill_missing": len(missing_before),
        "acked_missing_total": len(missing_all),
        "integrity_check": integrity,
        "durable": not missing_all and integrity == "ok",
        "workdir": str(work),
    }
    if not quiet:
        print(json.dumps(result, indent=2))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--kill-at", type=float, default=0.5, help="fraction of writes acknowledged before kill -9")
    args = ap.parse_args()
    res = run(args.n, args.concurrency, args.kill_at)
    print(f"\n{res['acked_before_kill']} writes acknowledged before kill -9 "
          f"({res['writes_per_s_before_kill']} writes/s at concurrency {res['concurrency']}); "
          f"{res['acked_total']} acknowledged in all; missing after restart: {res['acked_missing_total']}; "
          f"committed but never acknowledged: {res['committed_but_unacknowledged']}; "
          f"integrity_check: {res['integrity_check']}")
    sys.exit(0 if res["durable"] else 1)


if __name__ == "__main__":
    main()
