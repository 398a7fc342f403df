"""Session fixtures for training, registry, batch and notebook tests: a small synthetic corpus,
a temporary MLflow store and one tiny model trained, registered and promoted into it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

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


@pytest.fixture
def rejects_unknown_keys(monkeypatch: pytest.MonkeyPatch) -> Callable[[ModuleType, Any, dict], None]:
    """Check that a rule-file loader (`loader`: an lru_cached `load_rules`) refuses a record with a
    key it does not know: `data` is served as the file through `module.read_rule_file`."""

    def check(module: ModuleType, loader: Any, data: dict) -> None:
        monkeypatch.setattr(module, "read_rule_file", lambda _name: data)
        loader.cache_clear()
        try:
            with pytest.raises(ValueError, match="unknown keys"):
                loader()
        finally:
            loader.cache_clear()

    return check
