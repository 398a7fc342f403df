"""Batch coding: both engines agree, nothing is lost, re-running resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.batch import BatchError, run_batch
from pipelines.train import load_synthetic


def _write_input(path: Path, notes: list[dict], bad: bool = True) -> int:
    lines = [json.dumps({k: n[k] for k in ("id", "text", "patient", "date_of_service", "setting", "specialty")})
             for n in notes]
    if bad:
        lines += ['{"id": "broken", "text": "unterminated', json.dumps({"id": "empty", "text": "   "}),
                  json.dumps({"id": "notext"}), json.dumps([1, 2]), lines[0]]  # last: duplicate id
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def _codes(out: Path) -> dict[str, tuple[list[str], list[str]]]:
    res = {}
    for f in sorted(out.glob("part-*.jsonl")):
        for line in f.read_text().splitlines():
            r = json.loads(line)
            res[r["id"]] = ([x["code"] for x in r["icd10cm"]], [x["code"] for x in r["cpt"]])
    return res


@pytest.fixture(scope="module")
def batch_input(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    notes = load_synthetic(tiny_corpus)[:200]
    path = tmp_path_factory.mktemp("batch") / "in.jsonl"
    return path, _write_input(path, notes)


def test_local_engine_accounts_for_every_row_and_resumes(tiny_trained, batch_input, tmp_path):
    inp, n_lines = batch_input
    out = tmp_path / "out"
    s = run_batch(inp, out, engine="local", model=tiny_trained.model_uri, workers=2, progress=False)
    assert s.rows_in == n_lines == 205
    assert s.scored == 200 and s.errors == 5
    reasons = [json.loads(x)["reason"] for f in (out / "_errors").glob("*.jsonl") for x in f.read_text().splitlines()]
    assert sorted(r.split(":")[0] for r in reasons) == sorted(
        ["invalid JSON", "empty text", "missing text", "invalid record", "duplicate id in input"])
    assert len(_codes(out)) == 200
    again = run_batch(inp, out, engine="local", model=tiny_trained.model_uri, workers=1, progress=False)
    assert again.scored == 0 and again.skipped_done == n_lines  # every id is already scored or in _errors
    assert again.totals["out"] == 200


def test_resume_after_partial_run(tiny_trained, tiny_corpus, tmp_path):
    notes = load_synthetic(tiny_corpus)[:30]
    inp = tmp_path / "in.jsonl"
    _write_input(inp, notes[:10], bad=False)
    out = tmp_path / "out"
    first = run_batch(inp, out, model=tiny_trained.model_uri, workers=1, progress=False)
    _write_input(inp, notes, bad=False)
    second = run_batch(inp, out, model=tiny_trained.model_uri, workers=1, progress=False)
    assert (first.scored, second.scored, second.skipped_done) == (10, 20, 10)
    assert len(_codes(out)) == 30


@pytest.mark.spark
def test_spark_engine_gives_the_same_codes(tiny_trained, batch_input, tmp_path):
    inp, n_lines = batch_input
    local_out, spark_out = tmp_path / "local", tmp_path / "spark"
    run_batch(inp, local_out, engine="local", model=tiny_trained.model_uri, workers=2, progress=False)
    s = run_batch(inp, spark_out, engine="spark", model=tiny_trained.model_uri, master="local[2]", progress=False)
    assert s.scored == 200 and s.errors == 5 and s.rows_in == n_lines
    assert _codes(spark_out) == _codes(local_out)


def test_parquet_in_and_out(tiny_trained, tiny_corpus, tmp_path):
    import pandas as pd

    notes = load_synthetic(tiny_corpus)[:12]
    inp = tmp_path / "in.parquet"
    pd.DataFrame([{"id": n["id"], "text": n["text"], "date_of_service": n["date_of_service"]} for n in notes]).to_parquet(inp)
    s = run_batch(inp, tmp_path / "out", model=tiny_trained.model_uri, workers=1, output_format="parquet",
                  progress=False)
    assert s.scored == 12
    df = pd.concat(pd.read_parquet(p) for p in (tmp_path / "out").glob("part-*.parquet"))
    assert sorted(df["id"]) == sorted(n["id"] for n in notes)
    assert all("icd10cm" in json.loads(x) for x in df["suggestion"])


def test_bad_input_and_engine(tmp_path, tiny_trained):
    with pytest.raises(BatchError, match="not a JSONL/Parquet"):
        run_batch(tmp_path / "missing.jsonl", tmp_path / "o", model=tiny_trained.model_uri)
    (tmp_path / "x.jsonl").write_text("{}\n")
    with pytest.raises(BatchError, match="unknown engine"):
        run_batch(tmp_path / "x.jsonl", tmp_path / "o", engine="dask", model=tiny_trained.model_uri)


def test_cli_prints_counts(tiny_trained, tiny_corpus, tmp_path):
    from typer.testing import CliRunner

    from serving.cli import build_app

    inp = tmp_path / "in.jsonl"
    _write_input(inp, load_synthetic(tiny_corpus)[:5])
    r = CliRunner().invoke(build_app(), ["batch", str(inp), str(tmp_path / "out"), "--model", tiny_trained.model_uri,
                                         "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "in=10 scored=5 errors=5" in r.output
