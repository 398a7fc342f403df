"""Training pipeline: data -> Suggester.fit -> dev benchmark -> MLflow run, pyfunc model,
registry version and promotion gates.

    medcode train [--data PATH ...] [--config FILE] [--register] [--promote]
    mlflow run . -e train --env-manager local
    python -m pipelines.train --config pipelines/configs/tiny.yaml

Training data: the synthetic train split and CodiEsp train; the synthetic dev split calibrates
confidences and tunes thresholds (never the test split, never CodiEsp dev). Extra gold JSONL
files (`--data`) join the training data; coder feedback exports (`medcode feedback export`)
override the gold of the notes they review (same text), rejected codes removed and accepted
replacements added, and are weighted by `feedback_weight`.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.resources
import json
import logging
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.registry import (
    CHALLENGER,
    MODEL_NAME,
    alias_version,
    configure_tracking,
    decide,
    ensure_experiment,
    flatten,
    mlflow_key,
    set_champion,
    version_metrics,
)

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
CONFIG_KEYS = {
    "seed": None,
    "experiment": None,
    "data": {"synthetic", "synthetic_dir", "codiesp_train", "extra", "limit_train", "limit_dev"},
    "feedback_weight": None,
    "suggester": None,  # validated by SuggestConfig
    "promotion": {"tolerance"},
    "benchmark": {"n_boot"},
}


class ConfigError(ValueError):
    """A training configuration that cannot be used (unknown key, bad value)."""


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The packaged default config, updated by a YAML file and overrides; keys are closed."""
    text = importlib.resources.files("pipelines.configs").joinpath("default.yaml").read_text()
    cfg: dict[str, Any] = yaml.safe_load(text)
    if path:
        p = Path(path)
        if not p.is_file():
            packaged = importlib.resources.files("pipelines.configs").joinpath(f"{p.name}")
            if not packaged.is_file():
                raise ConfigError(f"config file {path} not found")
            user = yaml.safe_load(packaged.read_text())
        else:
            user = yaml.safe_load(p.read_text())
        if not isinstance(user, dict):
            raise ConfigError(f"config {path} is not a mapping")
        _merge(cfg, user, str(path))
    if overrides:
        _merge(cfg, overrides, "overrides")
    from pipelines.suggest import SuggestConfig

    unknown = set(cfg["suggester"]) - set(SuggestConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown suggester key(s) {sorted(unknown)} (known: {sorted(SuggestConfig.__dataclass_fields__)})")
    return cfg


def _merge(base: dict[str, Any], update: dict[str, Any], where: str) -> None:
    for key, val in update.items():
        if key not in CONFIG_KEYS:
            raise ConfigError(f"{where}: unknown config key {key!r} (known: {sorted(CONFIG_KEYS)})")
        sub = CONFIG_KEYS[key]
        if isinstance(sub, set):
            if not isinstance(val, dict):
                raise ConfigError(f"{where}: {key} must be a mapping")
            bad = set(val) - sub
            if bad:
                raise ConfigError(f"{where}: unknown key(s) {sorted(bad)} under {key!r} (known: {sorted(sub)})")
            base[key].update(val)
        elif key == "suggester":
            base[key] = {**base.get(key, {}), **(val or {})}
        else:
            base[key] = val


# ---------------------------------------------------------------- data --------------------
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    from evaluation.gold import GoldFormatError, iter_jsonl

    try:
        return [rec for _, rec in iter_jsonl(path)]
    except GoldFormatError as exc:
        raise ConfigError(str(exc)) from None


def _hash_notes(notes: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for n in notes:
        h.update(json.dumps(n, sort_keys=True).encode())
    return h.hexdigest()[:16]


def text_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


@dataclass
class TrainingData:
    train: list[dict[str, Any]]
    dev: list[dict[str, Any]]
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)


def apply_feedback(train: list[dict[str, Any]], feedback: list[dict[str, Any]], weight: int) -> int:
    """Coder verdicts override the gold of the note they review (matched by text): rejected
    codes are removed, accepted and replacement codes kept/added. Reviewed notes are repeated
    `weight` times. Returns the number of reviewed notes."""
    by_text: dict[str, list[int]] = {}
    for i, n in enumerate(train):
        by_text.setdefault(text_key(n.get("text", "")), []).append(i)
    reviewed = []
    for fb in feedback:
        if not fb.get("text"):
            continue
        rejected = fb.get("rejected") or {}
        for i in by_text.pop(text_key(fb["text"]), []):
            orig = train[i]
            for system in ("icd10cm", "cpt"):
                keep = [c for c in orig.get(system, []) if c not in set(rejected.get(system, []))]
                fb[system] = list(dict.fromkeys(list(fb.get(system, [])) + keep))
            train[i] = {}  # superseded by the reviewed copy
            for k in ("patient", "date_of_service", "setting", "specialty"):
                fb.setdefault(k, orig.get(k))
        reviewed.append(fb)
    train[:] = [n for n in train if n]
    for fb in reviewed:
        for _ in range(max(1, weight)):
            train.append(copy.deepcopy(fb))
    return len(reviewed)


def load_synthetic(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """The synthetic corpus in `folder` (default data/synthetic), generated deterministically
    (default size and seed) the first time if it is not there."""
    from pipelines.synthetic import ensure_corpus, load_corpus

    base = Path(folder) if folder else ROOT / "data" / "synthetic"
    if not base.is_absolute():
        base = ROOT / base
    return load_corpus(ensure_corpus(base))


def collect_data(cfg: dict[str, Any], extra: list[str | Path] | None = None) -> TrainingData:
    from pipelines.suggest import read_codiesp_train

    d = cfg["data"]
    rng = random.Random(cfg["seed"])
    train: list[dict[str, Any]] = []
    dev: list[dict[str, Any]] = []
    sources: dict[str, dict[str, Any]] = {}
    if d["synthetic"]:
        synth = load_synthetic(d.get("synthetic_dir"))
        s_train = [n for n in synth if n.get("split") == "train"]
        s_dev = [n for n in synth if n.get("split") == "dev"]
        if d["limit_train"]:
            s_train = rng.sample(s_train, min(len(s_train), int(d["limit_train"])))
        if d["limit_dev"]:
            s_dev = rng.sample(s_dev, min(len(s_dev), int(d["limit_dev"])))
        train += s_train
        dev += s_dev
        sources["synthetic_train"] = {"n_notes": len(s_train), "sha256": _hash_notes(s_train)}
        sources["synthetic_dev"] = {"n_notes": len(s_dev), "sha256": _hash_notes(s_dev)}
    if d["codiesp_train"]:
        notes = read_codiesp_train(ROOT)  # tagged: its own calibration (SuggestConfig.corpus_calibration)
        if d["limit_train"]:
            notes = notes[: int(d["limit_train"])]
        train += notes
        sources["codiesp_train"] = {"n_notes": len(notes), "sha256": _hash_notes(notes)}
    feedback: list[dict[str, Any]] = []
    for p in [*d.get("extra", []), *(extra or [])]:
        path = Path(p)
        if not path.is_file():
            raise ConfigError(f"training data {path} not found")
        notes = _read_jsonl(path)
        fb = [n for n in notes if "rejected" in n or n.get("source") == "feedback"]
        other = [n for n in notes if not ("rejected" in n or n.get("source") == "feedback")]
        train += [n for n in other if n.get("split", "train") == "train"]
        dev += [n for n in other if n.get("split") == "dev"]
        feedback += fb
        sources[f"extra:{path.name}"] = {"n_notes": len(notes), "n_feedback": len(fb), "sha256": _hash_notes(notes)}
    if feedback:
        sources["feedback"] = {"n_reviewed": apply_feedback(train, feedback, int(cfg["feedback_weight"]))}
    missing = [i for i, n in enumerate(train) if not isinstance(n.get("text"), str) or not n["text"].strip()]
    if missing:
        raise ConfigError(f"{len(missing)} training notes have no text")
    if not train:
        raise ConfigError("no training data: enable data.synthetic / data.codiesp_train or pass --data")
    return TrainingData(train, dev, sources)


# ---------------------------------------------------------------- run ---------------------
@dataclass
class TrainResult:
    run_id: str
    model_version: str
    registered_version: str | None
    alias: str | None
    gate_reason: str
    dev_metrics: dict[str, float]
    seconds: float
    model_uri: str


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _plots(metrics: dict[str, Any], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    for system in ("icd10cm", "cpt"):
        rel = (metrics.get(system) or {}).get("reliability")
        if rel:
            pts = [(c, a) for c, a in zip(rel["mean_confidence"], rel["accuracy"], strict=True) if c is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), "o-", label=f"{system} (ECE {rel['ece']:.3f})")
    ax.set(xlabel="confidence", ylabel="observed precision", title="Calibration (dev)")
    ax.legend(loc="upper left")
    p = folder / "calibration_curve.png"
    fig.savefig(p, dpi=90, bbox_inches="tight")
    plt.close(fig)
    out.append(p)
    spec = (metrics.get("icd10cm") or {}).get("by_specialty") or {}
    if spec:
        names = sorted(spec)
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1.2))
        ax.barh(names, [spec[n].get("f1_micro", 0.0) for n in names], color="#2b6cb0")
        ax.set(xlim=(0, 1), xlabel="ICD-10-CM micro-F1", title="Dev F1 per specialty")
        p = folder / "f1_per_specialty.png"
        fig.savefig(p, dpi=90, bbox_inches="tight")
        plt.close(fig)
        out.append(p)
    return out


def train(
    config: str | Path | None = None,
    data: list[str | Path] | None = None,
    *,
    register: bool = False,
    promote: bool = False,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
) -> TrainResult:
    import mlflow
    from mlflow.tracking import MlflowClient

    from models.pyfunc import MedcodePyfunc, model_signature
    from pipelines.benchmark import run_benchmark
    from pipelines.suggest import Suggester

    t0 = time.time()
    cfg = load_config(config, overrides)
    random.seed(cfg["seed"])
    os.environ.setdefault("PYTHONHASHSEED", str(cfg["seed"]))
    td = collect_data(cfg, data)
    configure_tracking()
    exp_id = ensure_experiment(cfg["experiment"])
    client = MlflowClient()
    with mlflow.start_run(experiment_id=exp_id) as run, tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        mlflow.log_dict(cfg, "config.yaml")
        params = {k: str(v)[:250] for k, v in flatten_params(cfg).items()}
        for name, info in td.sources.items():
            for k, v in info.items():
                params[f"data.{name}.{k}"] = str(v)
        mlflow.log_params(params)
        log.info("training on %d notes, calibrating on %d", len(td.train), len(td.dev))
        suggester = Suggester.fit(td.train, td.dev, cfg["suggester"])
        from codesets import load_codesets

        tags = {"git_commit": git_commit(), "model_version": suggester.model_version,
                "codeset_version": load_codesets().version, "ruleset_version": suggester.ruleset_version,
                "n_train": str(len(td.train)), "n_dev": str(len(td.dev))}
        mlflow.set_tags(tags)
        for k, v in suggester.metrics.items():
            if isinstance(v, (int, float)):
                mlflow.log_metric(mlflow_key(f"fit.{k}"), float(v))
        # dev benchmark (the QA benchmark's metrics)
        dev_metrics: dict[str, float] = {}
        dev_sha = _hash_notes(td.dev)
        if td.dev:
            gold = tmpd / "dev.jsonl"
            gold.write_text("".join(json.dumps(n) + "\n" for n in td.dev), encoding="utf-8")
            res = run_benchmark(gold, tmpd / "dev-benchmark", suggester=suggester, n_boot=cfg["benchmark"]["n_boot"],
                                seed=cfg["seed"], progress=progress, mlflow_log=False)
            dev_metrics = {k: v for k, v in flatten(res.metrics).items() if ".ci." not in k and ".by_" not in k
                           and ".reliability" not in k and ".category" not in k}
            mlflow.log_metrics({mlflow_key(f"dev.{k}"): v for k, v in dev_metrics.items()})
            mlflow.log_artifact(str(res.metrics_path), "dev_benchmark")
            mlflow.log_artifact(str(res.report_path), "dev_benchmark")
            for plot in _plots(res.metrics, tmpd):
                mlflow.log_artifact(str(plot), "plots")
        # the model: a self-contained Suggester directory inside an MLflow pyfunc
        art = suggester.save(tmpd / "suggester")
        example = _input_example(td.dev or td.train)
        signature = model_signature()
        info = mlflow.pyfunc.log_model(
            name="model", python_model=MedcodePyfunc(), artifacts={"suggester": str(art)},
            signature=signature, input_example=example,
            pip_requirements=[f"-r {ROOT / 'requirements.lock'}"] if (ROOT / "requirements.lock").is_file() else None,
        )
        model_uri = info.model_uri
        version = alias = None
        reason = "not registered"
        if register or promote:
            mv = mlflow.register_model(model_uri, MODEL_NAME, tags={**{mlflow_key(f"dev.{k}"): str(v) for k, v in dev_metrics.items()
                                                                       if k.split(".")[-1] in _TAGGED},
                                                                    **tags, "dev_data_sha": dev_sha})
            version = str(mv.version)
            if promote:
                champ = alias_version(client, "champion")
                champ_metrics = version_metrics(client, champ) if champ else None
                if champ is not None and td.dev and (champ.tags or {}).get("dev_data_sha") != dev_sha:
                    # the champion was measured on other dev data: measure it again on this one
                    from pipelines.suggest import load_suggester

                    old = load_suggester(f"models:/{MODEL_NAME}/{champ.version}")
                    res_c = run_benchmark(tmpd / "dev.jsonl", tmpd / "champion-benchmark", suggester=old,
                                          n_boot=cfg["benchmark"]["n_boot"], seed=cfg["seed"], progress=progress,
                                          mlflow_log=False)
                    champ_metrics = flatten(res_c.metrics)
                decision = decide(dev_metrics, champ_metrics, float(cfg["promotion"]["tolerance"]))
                alias = "champion" if decision.promote else CHALLENGER
                if decision.promote:
                    set_champion(client, version)
                else:
                    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
                reason = decision.reason
                mlflow.set_tags({"promotion": alias, "gate_reason": reason,
                                 **{mlflow_key(f"gate.delta.{k}"): str(v) for k, v in decision.deltas.items()}})
            else:
                reason = "registered without promotion"
            client.set_model_version_tag(MODEL_NAME, version, "gate_reason", reason)
        seconds = round(time.time() - t0, 1)
        mlflow.log_metric("train_seconds", seconds)
        return TrainResult(run.info.run_id, suggester.model_version, version, alias, reason, dev_metrics, seconds,
                           model_uri)


_TAGGED = {"f1_micro", "precision_micro", "recall_micro", "f1_macro", "map", "precision@5", "recall@10", "ece",
           "accuracy", "link_f1", "exact_match"}


def flatten_params(cfg: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.update(flatten_params(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _input_example(notes: list[dict[str, Any]]) -> Any:
    """A synthetic example row (notes in the repo are synthetic; CodiEsp text is not used)."""
    import pandas as pd

    from models.pyfunc import INPUT_COLUMNS

    synthetic = [n for n in notes if n.get("specialty")] or notes
    n = synthetic[0]
    patient = n.get("patient") or {}
    from pipelines.batch import flat_row

    row = flat_row({**n, "patient": patient, "text": n["text"][:2000]}, "example")
    return pd.DataFrame([{k: row[k] for k in INPUT_COLUMNS}])


def _bool(s: str) -> bool:
    return str(s).strip().lower() in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> None:
    """Entry point for `mlflow run . -e train` (MLproject passes every parameter as a string)."""
    ap = argparse.ArgumentParser(prog="python -m pipelines.train")
    ap.add_argument("--config", default="")
    ap.add_argument("--data", default="", help="comma-separated gold JSONL paths")
    ap.add_argument("--register", default="true")
    ap.add_argument("--promote", default="false")
    a = ap.parse_args(argv)
    data = [p for p in a.data.split(",") if p.strip()]
    res = train(a.config or None, data, register=_bool(a.register), promote=_bool(a.promote))
    print(json.dumps(res.__dict__, indent=2, default=str))


if __name__ == "__main__":
    main()
