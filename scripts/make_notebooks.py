"""Maintainer script: (re)write the walkthrough notebooks from the cells below.

    .venv/bin/python scripts/make_notebooks.py

The notebooks only call the package (no logic lives in them); tests/notebooks executes them
with nbclient against the tiny training config.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = """import os, json
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# MLflow store: MLFLOW_TRACKING_URI if set (the tests point it at a temp folder), else ./mlflow.db
CONFIG = os.environ.get("MEDCODE_NOTEBOOK_CONFIG", "tiny.yaml")
print("config:", CONFIG, "| tracking:", os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))"""

TRAIN = [
    new_markdown_cell("# 1.0 Train and register a medcode model\n\n"
                      "Trains the Suggester on the synthetic train split (plus CodiEsp train in the default "
                      "config), calibrates on the synthetic dev split, logs the run to MLflow, registers "
                      "`medcode-suggester` and promotes it to `champion` only if it passes the gates.\n\n"
                      "Set `MEDCODE_NOTEBOOK_CONFIG=default.yaml` for the full model (about 10 minutes)."),
    new_code_cell(SETUP),
    new_markdown_cell("## The configuration and the data it selects"),
    new_code_cell("from pipelines.train import load_config, collect_data\n"
                  "cfg = load_config(CONFIG)\n"
                  "data = collect_data(cfg)\n"
                  "print(json.dumps(data.sources, indent=1))\n"
                  "print(len(data.train), 'training notes,', len(data.dev), 'dev notes')"),
    new_markdown_cell("## Train, log, register, promote"),
    new_code_cell("from pipelines.train import train\n"
                  "result = train(CONFIG, register=True, promote=True, progress=False)\n"
                  "print('run', result.run_id, '| version', result.registered_version, '->', result.alias)\n"
                  "print('gate:', result.gate_reason)\n"
                  "{k: round(v, 3) for k, v in result.dev_metrics.items() if k in "
                  "('icd10cm.f1_micro', 'icd10cm.map', 'cpt.f1_micro', 'em_level.accuracy', 'icd10cm.ece')}"),
    new_markdown_cell("## The registry"),
    new_code_cell("from mlflow.tracking import MlflowClient\n"
                  "from pipelines.registry import configure_tracking, list_versions\n"
                  "configure_tracking()\n"
                  "for row in list_versions(MlflowClient()):\n"
                  "    print(row['version'], row['aliases'], row['metrics'])"),
    new_markdown_cell("## Use the champion"),
    new_code_cell("from pipelines.suggest import load_suggester\n"
                  "model = load_suggester('models:/medcode-suggester@champion')\n"
                  "note = ('CC: follow-up of diabetes. Established patient.\\nA/P:\\n'\n"
                  "        '1. Type 2 diabetes mellitus with hyperglycemia. Hemoglobin A1c drawn today.\\n'\n"
                  "        '2. Essential hypertension, stable.\\nTotal time 32 minutes.')\n"
                  "out = model.suggest(note, {'patient': {'age': 62, 'sex': 'F'}, 'date_of_service': '2026-03-02'})\n"
                  "[(s.code, round(s.confidence, 2)) for s in out.icd10cm], [(s.code, s.modifiers, s.dx) for s in out.cpt]"),
]

BENCH = [
    new_markdown_cell("# 2.0 QA benchmark walkthrough\n\n"
                      "Grades the champion against gold coding it never trained on (the synthetic test split, "
                      "written with phrasings and layouts absent from training), writes `metrics.json`, "
                      "`predictions.jsonl` and `report.html`, and compares two runs."),
    new_code_cell(SETUP + "\nimport tempfile, pathlib\nwork = pathlib.Path(tempfile.mkdtemp())"),
    new_markdown_cell("## A champion to grade (trained with the tiny config if the registry is empty)"),
    new_code_cell("from mlflow.tracking import MlflowClient\n"
                  "from pipelines.registry import configure_tracking, alias_version\n"
                  "configure_tracking()\n"
                  "if alias_version(MlflowClient(), 'champion') is None:\n"
                  "    from pipelines.train import train\n"
                  "    train(CONFIG, register=True, promote=True, progress=False)\n"
                  "print('champion:', alias_version(MlflowClient(), 'champion').version)"),
    new_markdown_cell("## Gold: a slice of the synthetic test split"),
    new_code_cell("from pipelines.train import load_config, load_synthetic\n"
                  "corpus = load_synthetic(load_config(CONFIG)['data'].get('synthetic_dir'))\n"
                  "test = [n for n in corpus if n.get('split') == 'test'][:25]\n"
                  "gold = work / 'gold.jsonl'\n"
                  "gold.write_text(''.join(json.dumps(n) + '\\n' for n in test))\n"
                  "len(test)"),
    new_markdown_cell("## Run the benchmark"),
    new_code_cell("from pipelines.benchmark import run_benchmark\n"
                  "res = run_benchmark(gold, work / 'champion', model_uri='models:/medcode-suggester@champion',\n"
                  "                    n_boot=50, progress=False)\n"
                  "m = res.metrics\n"
                  "{s: {k: round(m[s][k], 3) for k in ('f1_micro', 'precision_micro', 'recall_micro', 'map', 'ece')}\n"
                  " for s in ('icd10cm', 'cpt') if s in m}"),
    new_code_cell("sorted(p.name for p in (work / 'champion').iterdir())"),
    new_markdown_cell("## Where it fails: top false positives and false negatives"),
    new_code_cell("errs = res.evaluation.errors.get('icd10cm', {})\n"
                  "{k: v[:5] if isinstance(v, list) else v for k, v in errs.items() if k in "
                  "('false_positives', 'false_negatives')}"),
    new_markdown_cell("## Compare two runs\n\nHere the same model graded twice with a different "
                      "bootstrap seed; in practice, two model versions."),
    new_code_cell("from evaluation.compare import compare_dirs, format_comparison\n"
                  "res_b = run_benchmark(gold, work / 'again', model_uri='models:/medcode-suggester@champion',\n"
                  "                      n_boot=50, seed=1, progress=False)\n"
                  "print(format_comparison(compare_dirs(work / 'champion', work / 'again', n_boot=50)))"),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells in (("1.0-train-and-register.ipynb", TRAIN), ("2.0-qa-benchmark-walkthrough.ipynb", BENCH)):
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
