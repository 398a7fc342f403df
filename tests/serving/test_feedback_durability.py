"""Acknowledged feedback survives kill -9 of the server (small run of the benchmark)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_feedback_durability.py"


@pytest.mark.slow
def test_acknowledged_writes_survive_kill9(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_feedback_durability", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(n=300, concurrency=32, kill_at=0.5, workdir=tmp_path, quiet=True)
    assert res["acked_before_kill"] >= 150
    assert res["phase1"]["conn_error"] > 0 or res["acked_before_kill"] == 300  # the kill really cut requests off
    assert res["acked_total"] == 300
    assert res["acked_missing_total"] == 0
    assert res["integrity_check"] == "ok"
    assert res["rows_in_db"] >= 300
