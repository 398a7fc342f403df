"""The walkthrough notebooks run top to bottom (nbclient) against the tiny training config."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("nb-mlflow")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    mp.setenv("MEDCODE_ARTIFACT_ROOT", str(folder / "mlartifacts"))
    mp.setenv("MEDCODE_NOTEBOOK_CONFIG", "tiny.yaml")
    yield folder
    mp.undo()


def _run(name: str, cwd: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


@pytest.mark.slow
def test_train_and_register_notebook(store, tmp_path):
    text = _text(_run("1.0-train-and-register.ipynb", tmp_path))
    assert "-> champion" in text and "icd10cm.f1_micro" in text


@pytest.mark.slow
def test_benchmark_walkthrough_notebook(store, tmp_path):
    text = _text(_run("2.0-qa-benchmark-walkthrough.ipynb", tmp_path))
    for expected in ("metrics.json", "predictions.jsonl", "report.html", "f1_micro"):
        assert expected in text
