"""The QA benchmark pipeline and `medcode benchmark` (run + compare) with fake suggesters."""

from __future__ import annotations

import json
import logging
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.benchmark import BenchmarkError, flatten_metrics, run_benchmark
from pipelines.schemas import (
    CptSuggestion,
    Evidence,
    IcdSuggestion,
    Ranked,
    ScoredCode,
    SuggestionSet,
    Validation,
)
from serving.cli import build_app
from validator.schemas import Finding

SECRET = "zebra-quartz"  # a word that only occurs in note text: must never reach metrics or MLflow

GOLD = [
    {
        "id": "n1",
        "text": f"Type 2 diabetes with hyperglycemia. Hypertension. {SECRET}",
        "icd10cm": ["E11.65", "I10"],
        "cpt": ["99213"],
        "cpt_lines": [{"code": "99213", "dx": [1, 2]}],
        "specialty": "family_medicine",
        "evidence": {"I10": [{"start": 36, "end": 48}]},
    },
    {
        "id": "n2",
        "text": "Asthma exacerbation. Chest x-ray.",
        "icd10cm": ["J45.901"],
        "cpt": ["99214", "71046"],
        "cpt_lines": [{"code": "99214", "dx": ["J45.901"]}, {"code": "71046", "dx": ["J45.901"]}],
        "specialty": "pulmonology",
    },
    {
        "id": "n3",
        "text": "Low back pain. Hypertension.",
        "icd10cm": ["M54.50", "I10"],
        "cpt": ["99213"],
        "cpt_lines": [{"code": "99213", "dx": ["M54.50"]}],
        "specialty": "family_medicine",
    },
    {
        "id": "n4",
        "text": "Skull fracture, initial encounter.",
        "icd10cm": ["S02.0XX"],
        "cpt": [],
        "cpt_lines": [],
    },
]

KEYWORDS = {
    "diabetes": "E11.65",
    "hypertension": "I10",
    "asthma": "J45.909",  # wrong subcode on purpose: J45.901 is gold
    "back pain": "M54.50",
    "fracture": "S02.0XXA",  # CodiEsp-style gold drops the 7th character
}
EXTRA_RANKED = ["R52", "Z00.00", "J45.901"]


def _ev(text: str, word: str) -> list[Evidence]:
    i = text.lower().find(word)
    return [Evidence(start=i, end=i + len(word), text=text[i : i + len(word)], section="hpi", assertion="present")]


class FakeSuggester:
    """Keyword suggester: emits ICD codes for keywords, 99213 for every note, pointers to all dx."""

    model_version = "fake-1"

    def __init__(self, keywords: dict[str, str] | None = None, fail_on: str | None = None) -> None:
        self.keywords = keywords or KEYWORDS
        self.fail_on = fail_on
        self.calls: list[dict[str, Any]] = []

    def suggest(self, text: str, context: dict[str, Any]) -> SuggestionSet:
        self.calls.append(context)
        if self.fail_on and self.fail_on in text:
            raise RuntimeError(f"cannot parse: {text}")
        low = text.lower()
        icd = [
            IcdSuggestion(code=c, description="", confidence=0.8, rank=i + 1, billable=True, evidence=_ev(text, w))
            for i, (w, c) in enumerate((w, c) for w, c in self.keywords.items() if w in low)
        ]
        dx = [s.code for s in icd]
        cpt = [CptSuggestion(code="99213", description="", confidence=0.7, rank=1, dx=dx)]
        ranked = [ScoredCode(code=s.code, score=0.8) for s in icd] + [
            ScoredCode(code=c, score=0.1 + 0.01 * i) for i, c in enumerate(EXTRA_RANKED)
        ]
        finding = Finding(rule="missing_modifier", severity="warning", codes=["99213"], line=1, message="m", fix="f")
        return SuggestionSet(
            request_id="r",
            model_version=self.model_version,
            codeset_version="cs-test",
            ruleset_version="rules-test",
            icd10cm=icd,
            cpt=cpt,
            validation=Validation(status="warn", findings=[finding] if "asthma" in low else []),
            ranked=Ranked(icd10cm=ranked, cpt=[ScoredCode(code="99213", score=0.7)]),
        )


@pytest.fixture()
def gold(tmp_path: Path) -> Path:
    p = tmp_path / "gold.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in GOLD), encoding="utf-8")
    return p


def _run(gold: Path, out: Path, **kw: Any) -> Any:
    kw.setdefault("n_boot", 100)
    kw.setdefault("progress", False)
    return run_benchmark(gold, out, **kw)


def test_run_with_injected_suggester_writes_the_contract_files(gold: Path, tmp_path: Path) -> None:
    fake = FakeSuggester()
    res = _run(gold, tmp_path / "out", suggester=fake)
    out = tmp_path / "out"
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_docs"] == 4
    for system in ("icd10cm", "cpt"):
        for key in ("f1_micro", "precision_micro", "recall_micro", "f1_macro", "map", "precision@5", "recall@10", "ece"):
            assert key in m[system], (system, key)
    assert "icd10pcs" not in m  # not in the gold
    # icd10cm: predicted {E11.65, I10}, {J45.909}, {M54.50, I10}, {S02.0XXA}; gold 6 codes; tp 4
    assert m["icd10cm"]["precision_micro"] == pytest.approx(4 / 6)
    assert m["icd10cm"]["recall_micro"] == pytest.approx(4 / 6)
    # CodiEsp prefix rule reported beside the strict headline: S02.0XXA matches S02.0XX
    assert m["icd10cm"]["prefix_match"]["recall_micro"] == pytest.approx(5 / 6)
    # pairs: gold (99213,E11.65) (99213,I10) | (99214,J45.901) (71046,J45.901) | (99213,M54.50)
    # predicted (99213,E11.65) (99213,I10) | (99213,J45.909) | (99213,M54.50) (99213,I10) | (99213,S02.0XXA)
    assert m["pairs"]["link_precision"] == pytest.approx(3 / 6)
    assert m["pairs"]["link_recall"] == pytest.approx(3 / 5)
    assert m["em_level"]["accuracy"] == pytest.approx(2 / 4)  # n4 has no gold E/M but a predicted 99213
    assert m["validation"]["rule_note_rate"] == {"missing_modifier": 0.25}
    assert set(m["icd10cm"]["ci"]) >= {"f1_micro", "map", "f1_macro"}
    assert m["icd10cm"]["by_specialty"]["family_medicine"]["n_docs"] == 2
    meta = m["meta"]
    assert meta["model_version"] == "fake-1" and meta["ruleset_version"] == "rules-test"
    assert meta["codeset_version"] == "cs-test" and len(meta["data_hash"]) == 64
    assert meta["source"] == "in-process suggester"
    # predictions.jsonl: the full SuggestionSet plus id, one per note, in gold order
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in preds] == ["n1", "n2", "n3", "n4"]
    assert all({"id", "icd10cm", "ranked", "cpt", "validation", "model_version"} <= set(p) for p in preds)
    # the suggester got the note context (specialty etc.), never the gold codes
    assert fake.calls[0] == {"specialty": "family_medicine"}
    # note text only in predictions.jsonl evidence and report snippets, never in metrics.json or gold.jsonl
    assert SECRET not in (out / "metrics.json").read_text()
    assert SECRET not in (out / "gold.jsonl").read_text()
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert res.metrics["icd10cm"]["f1_micro"] == m["icd10cm"]["f1_micro"]


def test_prefix_match_headline(gold: Path, tmp_path: Path) -> None:
    m = _run(gold, tmp_path / "o", suggester=FakeSuggester(), match="prefix").metrics
    assert m["icd10cm"]["recall_micro"] == pytest.approx(5 / 6)
    assert m["icd10cm"]["strict_match"]["recall_micro"] == pytest.approx(4 / 6)
    assert m["meta"]["match"] == "prefix"


def test_predictions_file_equals_model_run(gold: Path, tmp_path: Path) -> None:
    a = _run(gold, tmp_path / "a", suggester=FakeSuggester())
    # another system's output: the same records, plus one id not in the gold, minus note n4
    lines = (tmp_path / "a" / "predictions.jsonl").read_text().splitlines()
    extra = json.dumps({"id": "zz", "icd10cm": ["I10"], "ranked": {"icd10cm": []}})
    pred = tmp_path / "other.jsonl"
    pred.write_text("\n".join([*lines[:3], extra]) + "\n")
    b = _run(gold, tmp_path / "b", predictions=pred)
    assert b.metrics["meta"]["n_missing_predictions"] == 1
    assert b.metrics["meta"]["n_extra_predictions"] == 1
    assert b.metrics["meta"]["source"] == "predictions file other.jsonl"
    # n4's only prediction (S02.0XXA) was wrong, so dropping it raises precision, recall unchanged
    assert b.metrics["icd10cm"]["recall_micro"] == pytest.approx(a.metrics["icd10cm"]["recall_micro"])
    assert b.metrics["icd10cm"]["precision_micro"] == pytest.approx(4 / 5)
    assert len((tmp_path / "b" / "predictions.jsonl").read_text().splitlines()) == 3  # only gold ids


def test_plain_string_predictions(gold: Path, tmp_path: Path) -> None:
    pred = tmp_path / "p.jsonl"
    pred.write_text(
        "\n".join(
            json.dumps({"id": g["id"], "icd10cm": [c.lower().replace(".", "") for c in g["icd10cm"]], "cpt": g["cpt"]})
            for g in GOLD
        )
    )
    m = _run(gold, tmp_path / "o", predictions=pred).metrics
    assert m["icd10cm"]["f1_micro"] == pytest.approx(1.0)
    assert m["icd10cm"]["map"] == pytest.approx(1.0)  # emitted codes stand in for the ranked list
    assert m["icd10cm"]["ece"] is None  # no confidences to calibrate
    assert m["cpt"]["exact_match"] == pytest.approx(1.0)


def test_bad_inputs_are_one_line_errors(gold: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "n1", "icd10cm": []}\n{"id": \n')
    with pytest.raises(BenchmarkError, match=r"bad\.jsonl line 2: broken JSON"):
        _run(gold, tmp_path / "o", predictions=bad)
    with pytest.raises(BenchmarkError, match="not both"):
        _run(gold, tmp_path / "o", predictions=bad, suggester=FakeSuggester())
    notext = tmp_path / "notext.jsonl"
    notext.write_text(json.dumps({"id": "a", "icd10cm": ["I10"]}) + "\n")
    with pytest.raises(BenchmarkError, match="no text to run the model on"):
        _run(notext, tmp_path / "o", suggester=FakeSuggester())


def test_failed_suggestion_is_counted_without_leaking_text(gold: Path, tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    m = _run(gold, tmp_path / "o", suggester=FakeSuggester(fail_on="Asthma")).metrics
    assert m["meta"]["n_failed_suggestions"] == 1
    assert "RuntimeError" in caplog.text and "Asthma exacerbation" not in caplog.text
    assert m["icd10cm"]["n_pred"] == 5  # n2 scored as an empty prediction


def test_training_codes_give_unseen_metrics(gold: Path, tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    train.write_text("id,system,code\nt1,icd10cm,I10\nt1,icd10cm,E11.65\n")
    m = _run(gold, tmp_path / "o", suggester=FakeSuggester(), training_gold=train).metrics
    u = m["icd10cm"]["unseen"]
    assert u["seen"]["n_gold"] == 3 and u["seen"]["recall_micro"] == pytest.approx(1.0)
    assert u["unseen"]["n_gold"] == 3 and u["unseen"]["recall_micro"] == pytest.approx(1 / 3)
    assert m["meta"]["training_codes"] == "train.csv"


def test_mlflow_logging_when_a_run_is_active(gold: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logged: dict[str, Any] = {"metrics": {}, "tags": {}, "artifacts": []}
    fake = types.ModuleType("mlflow")
    fake.active_run = lambda: object()  # type: ignore[attr-defined]
    fake.log_metrics = lambda d: logged["metrics"].update(d)  # type: ignore[attr-defined]
    fake.set_tags = lambda d: logged["tags"].update(d)  # type: ignore[attr-defined]

    def log_artifact(path: str, artifact_path: str | None = None) -> None:
        logged["artifacts"].append((Path(path).name, Path(path).read_text()))

    fake.log_artifact = log_artifact  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    _run(gold, tmp_path / "o", suggester=FakeSuggester())
    names = logged["metrics"]
    assert "icd10cm.precision_at_5" in names and "icd10cm.f1_micro" in names and "pairs.link_f1" in names
    assert "icd10cm.f1_micro_ci_lo" in names
    assert not any("@" in k for k in names)
    assert logged["tags"]["benchmark.model_version"] == "fake-1"
    files = dict(logged["artifacts"])
    assert set(files) == {"metrics.json", "report.html"}
    assert SECRET not in files["report.html"] and "Asthma" not in files["report.html"]
    assert "“Asthma”" in (tmp_path / "o" / "report.html").read_text()  # the local report keeps snippets


def test_no_mlflow_logging_without_a_run(gold: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("mlflow")
    fake.active_run = lambda: None  # type: ignore[attr-defined]

    def boom(*a: Any, **k: Any) -> None:
        raise AssertionError("logged without an active run")

    fake.log_metrics = boom  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    _run(gold, tmp_path / "o", suggester=FakeSuggester())


def test_flatten_metrics_names() -> None:
    flat = flatten_metrics({"n_docs": 3, "icd10cm": {"precision@5": 0.5, "ci": {"map": [0.1, 0.2]}, "by_group": {"x": 1}}})
    assert flat == {"n_docs": 3.0, "icd10cm.precision_at_5": 0.5, "icd10cm.map_ci_lo": 0.1, "icd10cm.map_ci_hi": 0.2}


# ---- command line -----------------------------------------------------------------------------
runner = CliRunner()


def _pred_file(tmp_path: Path, keywords: dict[str, str], name: str, gold: Path) -> Path:
    _run(gold, tmp_path / f"tmp-{name}", suggester=FakeSuggester(keywords))
    return tmp_path / f"tmp-{name}" / "predictions.jsonl"


def test_cli_run_and_compare(gold: Path, tmp_path: Path) -> None:
    app = build_app()
    better = dict(KEYWORDS, asthma="J45.901")
    pa = _pred_file(tmp_path, KEYWORDS, "a", gold)
    pb = _pred_file(tmp_path, better, "b", gold)
    for name, p in (("A", pa), ("B", pb)):
        r = runner.invoke(app, ["benchmark", str(gold), "--out", str(tmp_path / name), "--predictions", str(p), "--bootstrap", "50"])
        assert r.exit_code == 0, r.output
        assert "icd10cm" in r.output and "F1 micro" in r.output
        assert {"metrics.json", "predictions.jsonl", "report.html", "gold.jsonl"} <= {x.name for x in (tmp_path / name).iterdir()}
    r = runner.invoke(app, ["benchmark", "compare", str(tmp_path / "A"), str(tmp_path / "B"), "--bootstrap", "50"])
    assert r.exit_code == 0, r.output
    assert "f1_micro" in r.output and "B - A" in r.output
    assert "B better on: J45.901 (+1), J45.909 (+1)" in r.output
    assert "A better on: none" in r.output
    r = runner.invoke(app, ["benchmark", "compare", str(tmp_path / "A"), str(tmp_path / "B"), "--format", "json", "--bootstrap", "50"])
    res = json.loads(r.output)
    row = next(x for x in res["systems"]["icd10cm"]["metrics"] if x["metric"] == "recall_micro")
    assert row["delta"] == pytest.approx(1 / 6)
    assert row["delta_ci"][0] <= row["delta"] <= row["delta_ci"][1]
    assert row["a_ci"][0] <= row["a"] <= row["a_ci"][1]


def test_cli_errors_are_one_line(gold: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app()
    # no champion registered and no cached default model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/absent.db")
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setenv("MEDCODE_DEFAULT_MODEL_DIR", str(tmp_path / "no-model"))
    r = runner.invoke(app, ["benchmark", str(gold), "--out", str(tmp_path / "o"), "-q"])
    assert r.exit_code != 0
    err = r.stderr.strip()
    assert err.startswith("error: no model available at models:/medcode-suggester@champion") and "\n" not in err
    assert not (tmp_path / "absent.db").exists()  # no empty registry created as a side effect
    r = runner.invoke(app, ["benchmark", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and r.stderr.strip() == f"error: gold file not found: {tmp_path / 'missing.jsonl'}"
    r = runner.invoke(app, ["benchmark", str(gold), "--out", str(tmp_path / "o"), "--model", "x", "--predictions", "y"])
    assert r.exit_code != 0 and "not both" in r.stderr
    r = runner.invoke(app, ["benchmark", "compare", str(tmp_path), str(tmp_path / "nope")])
    assert r.exit_code != 0 and r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1


def test_training_codes_from_the_model(gold: Path, tmp_path: Path) -> None:
    fake = FakeSuggester()
    fake.priors = {"icd10cm": {"I10": 1.0, "E11.65": 0.5}, "cpt": {"99213": 1.0}}  # type: ignore[attr-defined]
    m = _run(gold, tmp_path / "o", suggester=fake).metrics
    assert m["meta"]["training_codes"] == "model"
    assert m["icd10cm"]["unseen"]["unseen"]["n_gold"] == 3
    assert m["cpt"]["unseen"]["unseen"]["n_gold"] == 2  # 99214 and 71046


class BatchFake(FakeSuggester):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.batches = 0

    def suggest_batch(self, items: list[dict[str, Any]]) -> list[SuggestionSet]:
        self.batches += 1
        return [self.suggest(it["text"], {k: v for k, v in it.items() if k != "text"}) for it in items]


def test_batches_when_the_suggester_can(gold: Path, tmp_path: Path) -> None:
    fake = BatchFake()
    a = _run(gold, tmp_path / "a", suggester=fake).metrics
    b = _run(gold, tmp_path / "b", suggester=FakeSuggester()).metrics
    assert fake.batches == 1 and a["icd10cm"]["f1_micro"] == b["icd10cm"]["f1_micro"]
    # one failing note in a batch: the batch is retried note by note, only that note is lost
    failing = BatchFake(fail_on="Asthma")
    m = _run(gold, tmp_path / "c", suggester=failing).metrics
    assert failing.batches == 1 and m["meta"]["n_failed_suggestions"] == 1
    assert m["icd10cm"]["n_pred"] == 5
