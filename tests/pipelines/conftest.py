"""Session fixtures for training, registry, batch and notebook tests: a small synthetic corpus,
a temporary MLflow store and one tiny model trained, registered and promoted into it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipelines.synthetic import write_corpus

    folder = tmp_path_factory.mktemp("synthetic")
    write_corpus(folder, n=260, seed=5)
    return folder


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mlflow")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    mp.setenv("MEDCODE_ARTIFACT_ROOT", str(folder / "mlartifacts"))
    mp.setenv("MEDCODE_MODEL_CACHE_DIR", str(folder / "model-cache"))
    mp.setenv("MEDCODE_DEFAULT_MODEL_DIR", str(folder / "default-model"))
    yield folder
    mp.undo()


@pytest.fixture(scope="session")
def tiny_overrides(tiny_corpus: Path) -> dict:
    return {"data": {"synthetic_dir": str(tiny_corpus)}}


@pytest.fixture(scope="session")
def tiny_trained(mlflow_store: Path, tiny_overrides: dict):
    from pipelines.train import train

    assert os.environ["MLFLOW_TRACKING_URI"].startswith("sqlite:///")
    return train("tiny.yaml", register=True, promote=True, overrides=tiny_overrides, progress=False)
