"""Smoke test for the pinned stack: these break together when numpy/pandas flip versions."""

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["numpy", "pandas", "spacy", "medspacy", "sklearn", "torch", "transformers", "mlflow", "fastapi",
     "sqlalchemy", "pyspark", "onnxruntime", "rapidfuzz", "sentence_transformers"],
)
def test_import(module: str) -> None:
    importlib.import_module(module)


def test_numpy_pinned() -> None:
    import numpy
    import pandas

    assert numpy.__version__ == "1.26.4"
    assert int(pandas.__version__.split(".")[0]) < 3


def test_mlflow_is_full_distribution() -> None:
    # mlflow-skinny refuses sqlite:/// tracking; the server and store need full mlflow
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401
