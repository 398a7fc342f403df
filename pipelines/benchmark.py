"""QA benchmark pipeline: grade a registered model version (default: the champion) or another
system's predictions against gold coding.

    from pipelines.benchmark import run_benchmark
    result = run_benchmark("data/external/codiesp/dev.jsonl", "out/bench")            # champion
    result = run_benchmark(gold, "out/b", predictions="other_system.jsonl")          # any system
    result = run_benchmark(gold, "out/c", suggester=my_suggester)                    # injected

Writes DIR/metrics.json (DESIGN.md 4.4 keys plus extras and a "meta" block), DIR/predictions.jsonl
(one SuggestionSet per note plus "id"), DIR/gold.jsonl (the normalised gold codes, no note text,
used by `medcode benchmark compare`) and DIR/report.html. Logs metrics and a snippet-free copy
of the report to MLflow when a run is active. Note text never goes to logs or MLflow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from evaluation.evaluate import Evaluation, MatchMode, evaluate
from evaluation.gold import (
    SYSTEMS,
    GoldFormatError,
    GoldNote,
    data_hash,
    detect_format,
    note_to_record,
    read_gold,
)
from evaluation.predictions import NotePrediction, parse_prediction
from evaluation.report import write_report

log = logging.getLogger(__name__)

DEFAULT_MODEL_URI = "models:/medcode-suggester@champion"
METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.jsonl"
GOLD_FILE = "gold.jsonl"
REPORT_FILE = "report.html"


class BenchmarkError(RuntimeError):
    """A benchmark cannot run; the message is one line and never holds note text."""


class SuggesterLike(Protocol):
    model_version: str

    def suggest(self, text: str, context: dict[str, Any]) -> Any: ...


@dataclass
class BenchmarkResult:
    out_dir: Path
    metrics: dict[str, Any]
    evaluation: Evaluation

    @property
    def metrics_path(self) -> Path:
        return self.out_dir / METRICS_FILE

    @property
    def report_path(self) -> Path:
        return self.out_dir / REPORT_FILE


# ---- model and predictions --------------------------------------------------------------------
def _registry_missing() -> str | None:
    """Why the default sqlite registry cannot hold a model (its file is absent), else None.
    Checked first so that a benchmark never creates an empty mlflow.db as a side effect."""
    uri = os.environ.get("MLFLOW_REGISTRY_URI") or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.exists():
            return f"no MLflow registry at {uri}"
    return None


def load_default_model() -> SuggesterLike:
    """The locally built default model (pipelines.suggest.load_suggester(None): loaded from its
    cache, built on first use)."""
    try:
        from pipelines.suggest import load_suggester
    except ImportError as exc:
        raise BenchmarkError(f"no default model: the suggester could not be imported ({exc.name})") from None
    try:
        suggester: SuggesterLike = load_suggester(None)
    except Exception as exc:
        raise BenchmarkError(f"the default model could not be loaded or built: {type(exc).__name__}") from None
    return suggester


def _default_model_dir() -> Path:
    # the cache folder of pipelines.suggest.default_model_dir(), read here without importing the
    # suggester (and spaCy) so that a missing model fails fast
    return Path(os.environ.get("MEDCODE_DEFAULT_MODEL_DIR", ".medcode/default-model"))


def _cached_default_model() -> SuggesterLike | None:
    if not (_default_model_dir() / "config.json").is_file():
        return None
    try:
        from pipelines.suggest import load_suggester

        suggester: SuggesterLike = load_suggester(None)
        return suggester
    except Exception as exc:
        log.warning("cached default model unusable: %s", type(exc).__name__)
    return None


def load_model(uri: str | None = None) -> SuggesterLike:
    """The Suggester behind a model URI via pipelines.suggest.load_suggester. Without a URI:
    the registry's champion; when no champion is registered, the locally cached default model
    (if it was built, e.g. by `make run`), with a warning; otherwise a BenchmarkError."""
    target = uri or DEFAULT_MODEL_URI
    reason: str | None = None
    if target.startswith(("models:/", "runs:/")):
        reason = _registry_missing()
    if reason is None:
        try:
            from pipelines.suggest import load_suggester
        except ImportError as exc:
            raise BenchmarkError(
                f"no model available ({target}): the suggester could not be imported ({exc.name})"
            ) from None
        if target.startswith(("models:/", "runs:/")):
            try:
                from pipelines.registry import configure_tracking

                configure_tracking()
            except ImportError:
                pass
        try:
            suggester: SuggesterLike = load_suggester(target)
            return suggester
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            reason = f"{type(exc).__name__}: {first}"
    if uri is None:
        cached = _cached_default_model()
        if cached is not None:
            log.warning("no champion model (%s); benchmarking the cached default model", reason)
            return cached
    hint = " (train and promote one with `medcode train --register --promote`, or pass --model/--predictions)"
    raise BenchmarkError(f"no model available at {target}: {reason}{hint if uri is None else ''}")


def _as_dict(suggestion: Any) -> dict[str, Any]:
    if hasattr(suggestion, "model_dump"):
        out: dict[str, Any] = suggestion.model_dump(mode="json")
        return out
    if isinstance(suggestion, dict):
        return dict(suggestion)
    raise BenchmarkError(f"the suggester returned {type(suggestion).__name__}, expected a SuggestionSet")


BATCH = 32


def predict_notes(
    suggester: SuggesterLike, notes: Sequence[GoldNote], progress: bool = True
) -> tuple[list[dict[str, Any]], int]:
    """Run the suggester over every note (progress bar on stderr), in batches of 32 through
    `suggest_batch` when the suggester has one. A note whose suggestion fails gets an empty
    prediction carrying only the exception type; returns (records, failures)."""
    from tqdm import tqdm

    records: list[dict[str, Any]] = []
    failed = 0
    batch_fn = getattr(suggester, "suggest_batch", None)
    with tqdm(total=len(notes), desc="benchmark", unit="note", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(notes), BATCH):
            chunk = notes[start : start + BATCH]
            results: list[Any] | None = None
            if callable(batch_fn) and len(chunk) > 1:
                try:
                    results = list(batch_fn([{"text": n.text, **n.context()} for n in chunk]))
                    if len(results) != len(chunk):
                        results = None
                except Exception:  # retried note by note below, so one bad note costs only itself
                    results = None
            for i, note in enumerate(chunk):
                try:
                    out = results[i] if results is not None else suggester.suggest(note.text, note.context())
                    rec = _as_dict(out)
                except BenchmarkError:
                    raise
                except Exception as exc:  # the message could quote the note: log only the type
                    failed += 1
                    log.warning("suggestion failed for note %s: %s", note.id, type(exc).__name__)
                    rec = {"icd10cm": [], "cpt": [], "ranked": {"icd10cm": [], "cpt": []}, "error": type(exc).__name__}
                records.append({"id": note.id, **{k: v for k, v in rec.items() if k != "id"}})
                bar.update(1)
    return records, failed


def read_prediction_records(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        raise BenchmarkError(f"predictions file not found: {p}")
    out: list[dict[str, Any]] = []
    with open(p, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BenchmarkError(f"{p.name} line {lineno}: broken JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(rec, dict) or rec.get("id") in (None, ""):
                raise BenchmarkError(f"{p.name} line {lineno}: a prediction needs an 'id'")
            out.append(rec)
    return out


def parse_records(records: Iterable[dict[str, Any]], source: str) -> dict[str, NotePrediction]:
    preds: dict[str, NotePrediction] = {}
    for i, rec in enumerate(records, 1):
        try:
            p = parse_prediction(rec, f"{source} line {i}")
        except GoldFormatError as exc:
            raise BenchmarkError(str(exc)) from None
        if p.id in preds:
            raise BenchmarkError(f"{source} line {i}: duplicate prediction id {p.id!r}")
        preds[p.id] = p
    return preds


def training_codes_from_gold(paths: str | Path | Sequence[str | Path]) -> dict[str, set[str]]:
    """Codes per system in one or more training gold files (any gold layout)."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    out: dict[str, set[str]] = {}
    for path in items:
        notes = read_gold(path)
        for s in SYSTEMS:
            if any(s in n.systems for n in notes):
                out.setdefault(s, set()).update(c for n in notes for c in n.codes(s))
    return out


def training_codes_of(suggester: Any) -> dict[str, set[str]] | None:
    """Codes the model saw in training: `suggester.training_codes` ({system: codes}) if it has
    one, else the keys of its per-system code priors (`suggester.priors`), else None."""
    for attr in ("training_codes", "priors"):
        val = getattr(suggester, attr, None)
        if isinstance(val, Mapping) and val and all(isinstance(v, Collection) for v in val.values()):
            codes = {str(k): {str(c) for c in v} for k, v in val.items() if k in SYSTEMS}
            if any(codes.values()):
                return codes
    return None


# ---- MLflow -----------------------------------------------------------------------------------
_SAFE = re.compile(r"[^A-Za-z0-9_\-./ ]")


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Scalar metrics with MLflow-safe names: 'icd10cm.precision_at_5', 'icd10cm.f1_micro_ci_lo',
    'pairs.link_f1'. Breakdowns, reliability bins and matrices stay in metrics.json."""
    out: dict[str, float] = {}
    skip = {"by_group", "by_specialty", "reliability", "meta", "matrix", "labels"}

    def put(name: str, v: Any) -> None:
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(float(v)):
            return
        out[_SAFE.sub("_", name.replace("@", "_at_"))] = float(v)

    def walk(prefix: str, d: Mapping[str, Any]) -> None:
        for k, v in d.items():
            if k in skip:
                continue
            name = f"{prefix}.{k}" if prefix else k
            if k == "ci" and isinstance(v, dict):
                for mk, (lo, hi) in v.items():
                    put(f"{prefix}.{mk}_ci_lo", lo)
                    put(f"{prefix}.{mk}_ci_hi", hi)
            elif isinstance(v, dict):
                walk(name, v)
            else:
                put(name, v)

    walk("", metrics)
    return out


def log_to_mlflow(metrics: Mapping[str, Any], out_dir: Path, redacted_report: Callable[[], str]) -> bool:
    """Log flattened metrics, metrics.json and the snippet-free report to the active MLflow run
    (or the run named by MLFLOW_RUN_ID). Returns whether anything was logged."""
    if "mlflow" not in sys.modules and not os.environ.get("MLFLOW_RUN_ID"):
        return False  # nobody in this process started a run
    import mlflow

    started = False
    if mlflow.active_run() is None:
        run_id = os.environ.get("MLFLOW_RUN_ID")
        if not run_id:
            return False
        mlflow.start_run(run_id=run_id)
        started = True
    try:
        flat = flatten_metrics(metrics)
        mlflow.log_metrics(flat)
        meta = metrics.get("meta", {})
        mlflow.set_tags(
            {
                "benchmark.data_hash": str(meta.get("data_hash", "")),
                "benchmark.gold": str(meta.get("gold_name", "")),
                "benchmark.model_version": str(meta.get("model_version", "")),
            }
        )
        mlflow.log_artifact(str(out_dir / METRICS_FILE), artifact_path="benchmark")
        red = out_dir / ".report_for_mlflow" / REPORT_FILE
        red.parent.mkdir(exist_ok=True)
        red.write_text(redacted_report(), encoding="utf-8")
        mlflow.log_artifact(str(red), artifact_path="benchmark")
    finally:
        if started:
            mlflow.end_run()
    return True


# ---- the pipeline -----------------------------------------------------------------------------
def _training_source(training_gold: Any, training_codes: Any) -> str | None:
    if training_gold:
        items = [training_gold] if isinstance(training_gold, str | Path) else list(training_gold)
        return ", ".join(Path(x).name for x in items)
    return "model" if training_codes else None


def _most_common(values: Iterable[str | None]) -> str | None:
    c = Counter(v for v in values if v)
    return c.most_common(1)[0][0] if c else None


def run_benchmark(
    gold: str | Path,
    out_dir: str | Path,
    *,
    suggester: SuggesterLike | None = None,
    predictions: str | Path | None = None,
    model_uri: str | None = None,
    match: MatchMode = "strict",
    training_gold: str | Path | Sequence[str | Path] | None = None,
    training_codes: Mapping[str, Collection[str]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    limit: int | None = None,
    progress: bool = True,
    mlflow_log: bool = True,
) -> BenchmarkResult:
    """Benchmark one model or predictions file against gold coding and write DIR's files."""
    if predictions is not None and (suggester is not None or model_uri is not None):
        raise BenchmarkError("give either a model or a predictions file, not both")
    gold_path = Path(gold)
    try:
        notes = read_gold(gold_path)
        gold_format = detect_format(gold_path)
    except (GoldFormatError, OSError) as exc:
        raise BenchmarkError(str(exc)) from None
    if limit is not None:
        notes = notes[:limit]
    if not notes:
        raise BenchmarkError(f"no gold notes in {gold_path}")
    gold_ids = {n.id for n in notes}

    failed = 0
    if predictions is not None:
        raw = read_prediction_records(predictions)
        records = [r for r in raw if str(r["id"]) in gold_ids]
        preds = parse_records(raw, Path(predictions).name)
        source = f"predictions file {Path(predictions).name}"
        fallback_version = None
    else:
        if suggester is None:
            source = f"model {model_uri or DEFAULT_MODEL_URI}"
            suggester = load_model(model_uri)
        else:
            source = f"model {model_uri}" if model_uri else "in-process suggester"
        missing_text = sum(1 for n in notes if not n.text.strip())
        if missing_text:
            raise BenchmarkError(f"{missing_text} gold notes have no text to run the model on")
        records, failed = predict_notes(suggester, notes, progress=progress)
        preds = parse_records(records, "model output")
        fallback_version = str(getattr(suggester, "model_version", "") or "") or None

    if training_codes is None:
        if training_gold is not None:
            try:
                training_codes = training_codes_from_gold(training_gold)
            except (GoldFormatError, OSError) as exc:
                raise BenchmarkError(f"training gold: {exc}") from None
        elif suggester is not None:
            training_codes = training_codes_of(suggester)

    ev = evaluate(notes, preds, match=match, training_codes=training_codes, n_boot=n_boot, seed=seed)

    try:
        from codesets import load_codesets

        local_codeset = load_codesets().version
    except Exception:
        local_codeset = None
    pred_list = [preds[i] for i in gold_ids if i in preds]
    meta: dict[str, Any] = {
        "source": source,
        "model_version": _most_common(p.model_version for p in pred_list) or fallback_version,
        "codeset_version": _most_common(p.codeset_version for p in pred_list) or local_codeset,
        "ruleset_version": _most_common(p.ruleset_version for p in pred_list),
        "gold_name": gold_path.name,
        "gold_format": gold_format,
        "data_hash": data_hash(gold_path),
        "n_predictions": len(pred_list),
        "n_missing_predictions": len(gold_ids - set(preds)),
        "n_extra_predictions": len(set(preds) - gold_ids),
        "n_failed_suggestions": failed,
        "match": match,
        "bootstrap": {"n": n_boot, "seed": seed},
        "training_codes": _training_source(training_gold, training_codes),
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "limit": limit,
    }
    metrics = {**ev.metrics, "meta": meta}

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    with open(out / PREDICTIONS_FILE, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(out / GOLD_FILE, "w", encoding="utf-8") as fh:
        for n in notes:
            fh.write(json.dumps(note_to_record(n), ensure_ascii=False) + "\n")
    title = f"{gold_path.name} · {meta['model_version'] or source}"
    write_report(out / REPORT_FILE, ev.metrics, ev.errors, meta, title=title)
    if mlflow_log:
        from evaluation.report import render_report

        try:
            logged = log_to_mlflow(
                metrics, out, lambda: render_report(ev.metrics, ev.errors, meta, title=title, show_snippets=False)
            )
            if logged:
                log.info("benchmark metrics logged to the active MLflow run")
        except Exception as exc:  # tracking trouble must not lose the files already written
            log.warning("MLflow logging failed: %s", type(exc).__name__)
    return BenchmarkResult(out_dir=out, metrics=metrics, evaluation=ev)
