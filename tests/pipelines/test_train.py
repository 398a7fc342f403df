"""Training, MLflow logging, registry gates, pyfunc consistency and retraining from feedback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.registry import decide
from pipelines.train import ConfigError, apply_feedback, load_config, load_synthetic


def test_first_model_becomes_champion(tiny_trained):
    from mlflow.tracking import MlflowClient

    assert tiny_trained.alias == "champion" and tiny_trained.registered_version == "1"
    assert tiny_trained.gate_reason == "no current champion"
    run = MlflowClient().get_run(tiny_trained.run_id)
    for tag in ("git_commit", "model_version", "codeset_version", "ruleset_version"):
        assert run.data.tags.get(tag)
    assert run.data.params["data.synthetic_train.n_notes"] == "120"
    assert "dev.icd10cm.f1_micro" in run.data.metrics and "dev.cpt.precision_at_5" in run.data.metrics
    assert 0.0 <= run.data.metrics["dev.icd10cm.f1_micro"] <= 1.0
    arts = {a.path for a in MlflowClient().list_artifacts(tiny_trained.run_id)}
    assert {"config.yaml", "plots", "dev_benchmark"} <= arts
    plots = {a.path for a in MlflowClient().list_artifacts(tiny_trained.run_id, "plots")}
    assert "plots/calibration_curve.png" in plots and "plots/f1_per_specialty.png" in plots


def test_no_note_text_in_mlflow_params_or_tags(tiny_trained, tiny_corpus):
    from mlflow.tracking import MlflowClient

    run = MlflowClient().get_run(tiny_trained.run_id)
    blob = json.dumps([run.data.params, run.data.tags]).lower()
    for note in load_synthetic(tiny_corpus)[:50]:
        words = note["text"].split()
        probe = " ".join(words[5:13]).lower()
        assert probe not in blob


def test_retraining_same_data_is_deterministic_and_not_promoted(tiny_trained, tiny_overrides):
    from mlflow.tracking import MlflowClient

    from pipelines.train import train

    again = train("tiny.yaml", register=True, promote=True, overrides=tiny_overrides, progress=False)
    assert again.model_version == tiny_trained.model_version
    assert again.dev_metrics["icd10cm.f1_micro"] == pytest.approx(tiny_trained.dev_metrics["icd10cm.f1_micro"])
    assert again.alias == "challenger" and "does not beat" in again.gate_reason
    run = MlflowClient().get_run(again.run_id)
    assert run.data.tags["promotion"] == "challenger" and run.data.tags["gate_reason"] == again.gate_reason
    champ = MlflowClient().get_model_version_by_alias("medcode-suggester", "champion")
    assert str(champ.version) == tiny_trained.registered_version


def test_pyfunc_from_registry_equals_in_process_suggester(tiny_trained, tiny_corpus):
    import mlflow.pyfunc
    import pandas as pd

    from models.pyfunc import row_context
    from pipelines.batch import flat_row
    from pipelines.suggest import Suggester

    model = mlflow.pyfunc.load_model("models:/medcode-suggester@champion")
    local = mlflow.artifacts.download_artifacts(artifact_uri="models:/medcode-suggester@champion")
    in_process = Suggester.load(f"{local}/artifacts/suggester")
    notes = [n for n in load_synthetic(tiny_corpus) if n["split"] == "test"][:6]
    rows = [flat_row(n, n["id"]) for n in notes]
    out = model.predict(pd.DataFrame(rows))
    for row, js in zip(rows, out["suggestion"], strict=True):
        via_pyfunc = json.loads(js)
        direct = in_process.suggest(row["text"], row_context(row)).model_dump(mode="json")
        for key in ("request_id",):
            via_pyfunc.pop(key), direct.pop(key)
        via_pyfunc.pop("id")
        assert via_pyfunc == direct


def test_feedback_rejected_code_is_dropped_and_replacement_suggested(tiny_trained, tiny_overrides, tiny_corpus, tmp_path):
    from pipelines.suggest import Suggester, load_suggester
    from pipelines.train import train

    base = load_suggester("models:/medcode-suggester@champion")
    train_notes = [n for n in load_synthetic(tiny_corpus) if n["split"] == "train"]
    cfg = load_config("tiny.yaml", tiny_overrides)
    import random

    chosen = set(id(n) for n in random.Random(cfg["seed"]).sample(train_notes, 120))
    note = next(n for n in train_notes if id(n) in chosen and len(n["icd10cm"]) >= 2)
    rejected = note["icd10cm"][-1]
    replacement = "J06.9" if "J06.9" not in note["icd10cm"] else "R05.9"

    def score(s: Suggester, code: str) -> float:
        ranked = s.suggest(note["text"], note).ranked.icd10cm
        return next((r.score for r in ranked if r.code == code), 0.0)

    before = (score(base, rejected), score(base, replacement))
    export = {"id": "fb-1", "text": note["text"], "source": "feedback",
              "icd10cm": [c for c in note["icd10cm"] if c != rejected] + [replacement], "cpt": note.get("cpt", []),
              "rejected": {"icd10cm": [rejected], "cpt": []}, "patient": note.get("patient"),
              "date_of_service": note.get("date_of_service")}
    fb = tmp_path / "feedback.jsonl"
    fb.write_text(json.dumps(export) + "\n")
    res = train("tiny.yaml", [fb], register=False, overrides=tiny_overrides, progress=False)
    from mlflow.tracking import MlflowClient

    assert MlflowClient().get_run(res.run_id).data.params["data.feedback.n_reviewed"] == "1"
    retrained = load_suggester(res.model_uri)
    after = (score(retrained, rejected), score(retrained, replacement))
    # what the coder sees for the reviewed note: the rejected code is no longer suggested, the
    # replacement is, and it now ranks above the rejected one (scores of two differently
    # calibrated models are not compared directly)
    result = retrained.suggest(note["text"], note)
    codes = [s.code for s in result.icd10cm]
    assert rejected not in codes and replacement in codes, (before, after, codes)
    ranked = [r.code for r in result.ranked.icd10cm]
    assert rejected not in ranked or ranked.index(replacement) < ranked.index(rejected)
    assert after[1] > before[1], (before, after)


def test_apply_feedback_overrides_gold_by_text():
    train = [{"id": "a", "text": "Note  A text", "icd10cm": ["I10", "E11.9"], "cpt": ["99213"]},
             {"id": "b", "text": "other", "icd10cm": ["J45.909"]}]
    fb = [{"id": "fb", "text": "Note A text", "icd10cm": ["E11.65"], "cpt": [],
           "rejected": {"icd10cm": ["E11.9"], "cpt": []}}]
    assert apply_feedback(train, fb, weight=2) == 1
    reviewed = [n for n in train if n["id"] == "fb"]
    assert len(reviewed) == 2 and len(train) == 3
    assert reviewed[0]["icd10cm"] == ["E11.65", "I10"] and reviewed[0]["cpt"] == ["99213"]


@pytest.mark.parametrize(
    "override",
    [{"bogus": 1}, {"data": {"synthetic": True, "nope": 1}}, {"suggester": {"not_a_field": 1}}],
)
def test_unknown_config_keys_are_rejected(override):
    with pytest.raises(ConfigError, match="unknown"):
        load_config(None, override)


def test_missing_config_file():
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/cfg.yaml")


def test_gates():
    champ = {"icd10cm.f1_micro": 0.80, "icd10cm.map": 0.70, "cpt.f1_micro": 0.85}
    assert decide({"icd10cm.f1_micro": 0.81, "icd10cm.map": 0.70, "cpt.f1_micro": 0.86}, champ).promote
    d = decide({"icd10cm.f1_micro": 0.90, "icd10cm.map": 0.60, "cpt.f1_micro": 0.86}, champ, tolerance=0.01)
    assert not d.promote and "icd10cm.map" in d.reason
    assert not decide(dict(champ), champ).promote
    assert decide(champ, None).promote


def test_models_cli_list_promote_rollback(tiny_trained, tiny_overrides):
    from pipelines.train import train
    from serving.cli import build_app

    app = build_app()
    runner = CliRunner()
    if tiny_trained.registered_version == "1":
        train("tiny.yaml", register=True, promote=False, overrides=tiny_overrides, progress=False)
    listed = json.loads(runner.invoke(app, ["models", "list", "--format", "json"]).stdout)
    versions = [r["version"] for r in listed]
    assert "1" in versions and len(versions) >= 2
    newest = versions[-1]
    r = runner.invoke(app, ["models", "promote", newest])
    assert r.exit_code == 0 and f"version {newest}" in r.stdout
    r = runner.invoke(app, ["models", "rollback"])
    assert r.exit_code == 0, r.output
    champ = [x for x in json.loads(runner.invoke(app, ["models", "list", "--format", "json"]).stdout)
             if "champion" in x["aliases"]]
    assert champ[0]["version"] == "1"
    r = runner.invoke(app, ["models", "promote", "999"])
    assert r.exit_code != 0 and "999" in r.output


def test_registry_uri_loads_in_place_from_a_local_artifact_store(tiny_trained):
    """models:/ URIs on a local artifact store load the Suggester folder where it lies (no copy);
    unknown aliases fall through to MLflow, which raises its own error."""
    import mlflow

    from pipelines.suggest import _local_registry_folder, load_suggester

    folder = _local_registry_folder("models:/medcode-suggester@champion")
    assert folder is not None and (folder / "config.json").is_file()
    assert folder.resolve().is_relative_to(Path(os.environ["MEDCODE_ARTIFACT_ROOT"]).resolve())
    assert load_suggester("models:/medcode-suggester@champion").model_version == tiny_trained.model_version
    assert _local_registry_folder("models:/medcode-suggester@no-such-alias") is None
    with pytest.raises(mlflow.exceptions.MlflowException):
        load_suggester("models:/medcode-suggester@no-such-alias")
