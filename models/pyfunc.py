"""The MLflow pyfunc wrapper around a saved Suggester artifact directory.

Input: a DataFrame with a `text` column and optional `id`, `age`, `sex`, `date_of_service`,
`setting`, `specialty`. Output: a DataFrame with one string column `suggestion` holding the
DESIGN.md 4.2 SuggestionSet as JSON (one row per input row), so the same model serves
`mlflow.pyfunc.load_model`, `mlflow.pyfunc.spark_udf(..., result_type="string")` and batch.
"""

from __future__ import annotations

import json
import math
from typing import Any

import mlflow.pyfunc
import pandas as pd

INPUT_COLUMNS = ("id", "text", "age", "sex", "date_of_service", "setting", "specialty")
OUTPUT_COLUMN = "suggestion"


def _clean(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def row_context(row: dict[str, Any]) -> dict[str, Any]:
    """The suggest request for one input row (DESIGN.md 4.2 request shape)."""
    age = _clean(row.get("age"))
    sex = _clean(row.get("sex"))
    ctx: dict[str, Any] = {"text": str(row.get("text") or "")}
    if age is not None or sex:
        ctx["patient"] = {"age": int(age) if age is not None else None, "sex": sex or "U"}
    for key in ("date_of_service", "setting", "specialty"):
        val = _clean(row.get(key))
        if val:
            ctx[key] = str(val)
    return ctx


class MedcodePyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """Loads the Suggester from the logged artifact directory `suggester`."""

    def __init__(self) -> None:
        self.suggester: Any = None

    def load_context(self, context: Any) -> None:
        from pipelines.suggest import Suggester

        self.suggester = Suggester.load(context.artifacts["suggester"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if self.suggester is None:
            self.load_context(context)
        df = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        rows = [{str(k): v for k, v in rec.items()} for rec in df.to_dict(orient="records")]
        # one batch: NLP through nlp.pipe, one TF-IDF transform and matrix product for all rows
        results = self.suggester.suggest_batch([row_context(row) for row in rows])
        out = []
        for row, result in zip(rows, results, strict=True):
            payload = result.model_dump(mode="json")
            if _clean(row.get("id")) is not None:
                payload["id"] = str(row["id"])
            out.append(json.dumps(payload, sort_keys=True))
        return pd.DataFrame({OUTPUT_COLUMN: out})


def model_signature() -> Any:
    """Input: `text` required, context columns optional (age double, the rest strings);
    output: the `suggestion` JSON string column."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([
        ColSpec("string", "id", required=False),
        ColSpec("string", "text"),
        ColSpec("double", "age", required=False),
        *(ColSpec("string", c, required=False) for c in ("sex", "date_of_service", "setting", "specialty")),
    ])
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("string", OUTPUT_COLUMN)]))


def unwrap_suggester(pyfunc_model: Any) -> Any:
    """The in-process Suggester inside a loaded pyfunc model."""
    inner = pyfunc_model.unwrap_python_model()
    if inner.suggester is None:
        raise RuntimeError("pyfunc model has no loaded suggester")
    return inner.suggester
