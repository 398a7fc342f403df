"""Batch coding: local (all cores) or Spark (mapInPandas over the registered MLflow pyfunc).

Input: JSON Lines or Parquet, a file or a folder of parts; one note per row/line with `id`,
`text` and the optional DESIGN.md 4.1 context (`patient`, `date_of_service`, `setting`,
`specialty`). Output folder `OUT/`:
- `part-<run>-<n>.jsonl` (or `.parquet`): one line per note, `{"id", ...SuggestionSet}`;
- `_errors/part-<run>-<n>.jsonl`: `{"id", "line", "source", "reason"}` for rows that could not be
  scored (invalid JSON, missing or empty text, duplicate id, too long);
- `_runs.jsonl`: one summary per run (counts in / out / errors / skipped, engine, model).
Re-running resumes: ids already present in OUT (outputs or errors) are skipped, so
`count in = count out + count errors` holds over all runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

log = logging.getLogger(__name__)

DEFAULT_MODEL_URI = "models:/medcode-suggester@champion"
MAX_TEXT_CHARS = int(os.environ.get("MEDCODE_MAX_NOTE_CHARS", "100000"))


class BatchError(RuntimeError):
    """The batch could not run (bad input path, unreadable model...)."""


@dataclass
class BatchSummary:
    run_id: str
    engine: str
    model: str
    rows_in: int = 0
    skipped_done: int = 0
    scored: int = 0
    errors: int = 0
    seconds: float = 0.0
    notes_per_s: float = 0.0
    out_dir: str = ""
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- reading input ----------
def _input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".json", ".parquet")
                       and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts))
        if files:
            return files
    raise BatchError(f"input {path} is not a JSONL/Parquet file or a folder of them")


def read_rows(path: Path) -> Iterator[tuple[dict[str, Any] | None, str, int, str]]:
    """(row or None, source file, line number, reason if unreadable) for every input record."""
    for f in _input_files(path):
        if f.suffix == ".parquet":
            for i, prec in enumerate(pd.read_parquet(f).to_dict(orient="records"), 1):
                yield {str(k): v for k, v in prec.items()}, f.name, i, ""
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield None, f.name, i, f"invalid JSON: {exc.msg} at column {exc.colno}"
                    continue
                if not isinstance(rec, dict):
                    yield None, f.name, i, "invalid record: expected a JSON object"
                    continue
                yield {str(k): v for k, v in rec.items()}, f.name, i, ""


def check_row(rec: dict[str, Any]) -> str:
    """Why a row cannot be scored, or '' when it can."""
    text = rec.get("text")
    if not isinstance(text, str):
        return "missing text"
    if not text.strip():
        return "empty text"
    if len(text) > MAX_TEXT_CHARS:
        return f"text longer than {MAX_TEXT_CHARS} characters"
    return ""


def flat_row(rec: dict[str, Any], fallback_id: str) -> dict[str, Any]:
    """The pyfunc input columns (models.pyfunc.INPUT_COLUMNS) for one gold/input record."""
    raw_patient = rec.get("patient")
    patient: dict[str, Any] = raw_patient if isinstance(raw_patient, dict) else {}
    age = patient.get("age", rec.get("age"))
    try:
        age_f = float(age) if age is not None else float("nan")
    except (TypeError, ValueError):
        age_f = float("nan")

    def s(v: Any) -> str:
        return "" if v is None else str(v)

    return {
        "id": str(rec.get("id") or fallback_id),
        "text": rec["text"],
        "age": age_f,
        "sex": s(patient.get("sex", rec.get("sex"))),
        "date_of_service": s(rec.get("date_of_service")),
        "setting": s(rec.get("setting")),
        "specialty": s(rec.get("specialty")),
    }


# ---------------------------------------------------------------- output state -----------
def done_ids(out: Path) -> set[str]:
    ids: set[str] = set()
    if not out.is_dir():
        return ids
    for f in list(out.glob("part-*.jsonl")) + list((out / "_errors").glob("part-*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                try:
                    ids.add(str(json.loads(line)["id"]))
                except (json.JSONDecodeError, KeyError):
                    continue  # a part cut off by a crash: its last line is rescored
    for f in out.glob("part-*.parquet"):
        ids.update(str(x) for x in pd.read_parquet(f, columns=["id"])["id"])
    return ids


def _write_jsonl_atomic(path: Path, lines: list[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in lines)
    tmp.replace(path)


def _write_part(out: Path, name: str, lines: list[str], fmt: str) -> None:
    if fmt == "parquet":
        df = pd.DataFrame({"id": [json.loads(x)["id"] for x in lines], "suggestion": lines})
        tmp = out / f".{name}.parquet.tmp"
        df.to_parquet(tmp, index=False)
        tmp.replace(out / f"{name}.parquet")
    else:
        _write_jsonl_atomic(out / f"{name}.jsonl", lines)


# ---------------------------------------------------------------- scoring ----------------
_WORKER_MODEL: Any = None


def _load_predictor(model_uri: str) -> Any:
    """A callable DataFrame -> list[JSON str] built from the model URI (pyfunc or Suggester dir)."""
    from models.pyfunc import OUTPUT_COLUMN

    path = Path(model_uri)
    is_mlflow = model_uri.startswith(("models:/", "runs:/")) or (path / "MLmodel").is_file()
    if is_mlflow:
        import mlflow.pyfunc

        model = mlflow.pyfunc.load_model(model_uri)
        return lambda df: list(model.predict(df)[OUTPUT_COLUMN])
    from models.pyfunc import MedcodePyfunc
    from pipelines.suggest import load_suggester

    wrapper = MedcodePyfunc()
    wrapper.suggester = load_suggester(model_uri)
    return lambda df: list(wrapper.predict(None, df)[OUTPUT_COLUMN])


def _init_worker(model_uri: str, single_thread: bool = True) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = cached_predictor(model_uri, single_thread)


def _score_chunk(rows: list[dict[str, Any]]) -> list[str]:
    return list(_WORKER_MODEL(pd.DataFrame(rows)))


def resolve_model_uri(model: str | None) -> str:
    uri = model or os.environ.get("MEDCODE_MODEL_URI") or DEFAULT_MODEL_URI
    if uri.startswith("models:/"):
        os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
        import mlflow

        # download once on the driver so workers/executors load a local copy, not the registry
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri)
        except Exception as exc:  # registry down, alias missing...
            raise BatchError(f"cannot load model {uri}: {exc}") from None
        return local
    return uri


def run_batch(
    inp: Path | str,
    out: Path | str,
    *,
    engine: str = "local",
    model: str | None = None,
    master: str | None = None,
    workers: int | None = None,
    chunk_size: int = 64,
    output_format: str = "jsonl",
    progress: bool = True,
) -> BatchSummary:
    inp, out = Path(inp), Path(out)
    if engine not in ("local", "spark"):
        raise BatchError(f"unknown engine {engine!r} (expected local or spark)")
    if output_format not in ("jsonl", "parquet"):
        raise BatchError(f"unknown output format {output_format!r} (expected jsonl or parquet)")
    model_uri = resolve_model_uri(model)
    out.mkdir(parents=True, exist_ok=True)
    (out / "_errors").mkdir(exist_ok=True)
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    summary = BatchSummary(run_id=run_id, engine=engine, model=model or DEFAULT_MODEL_URI, out_dir=str(out))
    already = done_ids(out)
    seen: set[str] = set()
    todo: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, (rec, source, line, reason) in enumerate(read_rows(inp), 1):
        summary.rows_in += 1
        rid = str(rec.get("id")) if rec and rec.get("id") is not None else f"{source}:{line}"
        if rid in already:
            summary.skipped_done += 1
            continue
        if not reason and rec is not None:
            reason = check_row(rec)
        if not reason and rid in seen:
            reason = "duplicate id in input"
        if reason:
            errors.append(json.dumps({"id": rid, "source": source, "line": line, "reason": reason}))
            continue
        seen.add(rid)
        todo.append(flat_row(rec, rid))  # type: ignore[arg-type]
        del n
    if errors:
        _write_jsonl_atomic(out / "_errors" / f"part-{run_id}.jsonl", errors)
    summary.errors = len(errors)
    t0 = time.perf_counter()
    if todo:
        if engine == "local":
            summary.scored = _run_local(todo, out, run_id, model_uri, workers, chunk_size, output_format, progress)
        else:
            summary.scored = _run_spark(todo, out, run_id, model_uri, master, output_format)
    summary.seconds = round(time.perf_counter() - t0, 3)
    summary.notes_per_s = round(summary.scored / summary.seconds, 2) if summary.seconds else 0.0
    # nothing lost: everything read is scored now, was done before, or is an error with a reason
    if summary.rows_in != summary.scored + summary.errors + summary.skipped_done:
        raise BatchError(f"row accounting failed: {summary.as_dict()}")
    total_done = done_ids(out)
    summary.totals = {"out": _count_lines(out.glob("part-*")), "errors": _count_lines((out / "_errors").glob("part-*")),
                      "distinct_ids": len(total_done)}
    with open(out / "_runs.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(summary.as_dict()) + "\n")
    return summary


def _count_lines(files: Iterator[Path]) -> int:
    n = 0
    for f in files:
        if f.suffix == ".parquet":
            n += len(pd.read_parquet(f, columns=["id"]))
        else:
            with open(f, encoding="utf-8") as fh:
                n += sum(1 for _ in fh)
    return n


def _run_local(todo: list[dict[str, Any]], out: Path, run_id: str, model_uri: str, workers: int | None,
               chunk_size: int, fmt: str, progress: bool) -> int:
    workers = workers or os.cpu_count() or 1
    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    scored = 0
    bar = tqdm(total=len(todo), unit="note", disable=not progress, desc="batch (local)")
    if workers == 1:
        _init_worker(model_uri, single_thread=False)  # in this process: leave its thread pools alone
        results: Iterator[list[str]] = map(_score_chunk, chunks)
        for i, lines in enumerate(results):
            _write_part(out, f"part-{run_id}-{i:05d}", lines, fmt)
            scored += len(lines)
            bar.update(len(lines))
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(model_uri,)) as pool:
            for i, lines in enumerate(pool.map(_score_chunk, chunks)):
                _write_part(out, f"part-{run_id}-{i:05d}", lines, fmt)
                scored += len(lines)
                bar.update(len(lines))
    bar.close()
    return scored


def spark_session(master: str | None = None) -> Any:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # executors run this interpreter (the project venv) unless the cluster says otherwise
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    master = master or os.environ.get("MEDCODE_SPARK_MASTER", "local[*]")
    return (SparkSession.builder.master(master).appName("medcode-batch")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.python.worker.reuse", "true")  # the model stays loaded between tasks
            .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"])
            .getOrCreate())


_PREDICTORS: dict[str, Any] = {}


def cached_predictor(model_uri: str, single_thread: bool = True) -> Any:
    """The predictor for `model_uri`, loaded once per Python process. Spark reuses its Python
    workers across tasks (spark.python.worker.reuse, on by default), so an executor pays the
    model load once, not once per partition."""
    if model_uri not in _PREDICTORS:
        if single_thread:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)  # one engine process per core: no nested BLAS/OpenMP threads
        _PREDICTORS[model_uri] = _load_predictor(model_uri)
    return _PREDICTORS[model_uri]


def _spark_predict(model_uri: str) -> Any:
    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        predictor = cached_predictor(model_uri)  # on the executor, once per Python worker
        for pdf in batches:
            yield pd.DataFrame({"id": pdf["id"].astype(str), "suggestion": predictor(pdf)})

    return predict


def _run_spark(todo: list[dict[str, Any]], out: Path, run_id: str, model_uri: str, master: str | None,
               fmt: str) -> int:
    spark = spark_session(master)
    pdf = pd.DataFrame(todo)
    n_parts = max(1, min(len(pdf) // 32, spark.sparkContext.defaultParallelism * 4))
    sdf = spark.createDataFrame(pdf).repartition(n_parts)
    result = sdf.mapInPandas(_spark_predict(model_uri), schema="id string, suggestion string")
    tmp = out / f"_spark-{run_id}"
    result.write.mode("overwrite").json(str(tmp))
    scored = 0
    for i, part in enumerate(sorted(tmp.glob("part-*.json"))):
        lines = []
        with open(part, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                lines.append(rec["suggestion"])
        if lines:
            _write_part(out, f"part-{run_id}-{i:05d}", lines, fmt)
            scored += len(lines)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return scored
