"""MLflow registry helpers: tracking defaults, promotion gates, list / promote / rollback.

Default store: tracking and registry at `sqlite:///mlflow.db` with artifacts in `./mlartifacts`
unless MLFLOW_TRACKING_URI is set. Registered model `medcode-suggester`, aliases `champion`
and `challenger`. Dev metrics of each version are stored as model-version tags
(`dev.<system>.<metric>`) so gates compare versions without re-reading runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_NAME = "medcode-suggester"
CHAMPION = "champion"
CHALLENGER = "challenger"
# metrics that decide promotion (flattened metrics.json keys); higher is better
KEY_METRICS = ("icd10cm.f1_micro", "icd10cm.map", "cpt.f1_micro", "cpt.map", "em_level.accuracy")
PRIMARY = ("icd10cm.f1_micro", "cpt.f1_micro")


def configure_tracking() -> str:
    """Point MLflow at the embedded default store unless MLFLOW_TRACKING_URI is set."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI") or uri)
    return uri


def ensure_experiment(name: str = "medcode") -> str:
    """Experiment with artifacts under ./mlartifacts for a local sqlite store."""
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    uri = mlflow.get_tracking_uri()
    location = None
    if uri.startswith("sqlite:///"):
        location = Path(os.environ.get("MEDCODE_ARTIFACT_ROOT", "mlartifacts")).resolve().as_uri()
    created: Any = mlflow.create_experiment(name, artifact_location=location)
    return str(created)


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


def mlflow_key(key: str) -> str:
    return key.replace("@", "_at_")


@dataclass
class GateDecision:
    promote: bool
    reason: str
    deltas: dict[str, float]


def decide(new: dict[str, float], champion: dict[str, float] | None, tolerance: float = 0.01) -> GateDecision:
    """Champion only if the new model beats the champion on the primary metrics (mean) and
    regresses no key metric by more than `tolerance` (absolute)."""
    if champion is None:
        return GateDecision(True, "no current champion", {})
    deltas = {k: round(new[k] - champion[k], 4) for k in KEY_METRICS if k in new and k in champion}
    regressions = {k: d for k, d in deltas.items() if d < -tolerance}
    prim = [k for k in PRIMARY if k in new and k in champion]
    if not prim:
        return GateDecision(False, "no primary metric in common with the champion", deltas)
    gain = sum(new[k] - champion[k] for k in prim) / len(prim)
    if regressions:
        worst = ", ".join(f"{k} {d:+.4f}" for k, d in sorted(regressions.items()))
        return GateDecision(False, f"regresses beyond tolerance {tolerance}: {worst}", deltas)
    if gain <= 0:
        return GateDecision(False, f"does not beat the champion on {'/'.join(prim)} (mean delta {gain:+.4f})", deltas)
    return GateDecision(True, f"beats the champion (mean delta {gain:+.4f} on {'/'.join(prim)})", deltas)


def version_metrics(client: Any, version: Any) -> dict[str, float]:
    return {k[len("dev."):].replace("_at_", "@"): float(v) for k, v in (version.tags or {}).items() if k.startswith("dev.")}


def alias_version(client: Any, alias: str, name: str = MODEL_NAME) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def set_champion(client: Any, version: str, name: str = MODEL_NAME) -> None:
    """Point `champion` at `version`, remembering the previous champion for rollback."""
    current = alias_version(client, CHAMPION, name)
    if current is not None and str(current.version) != str(version):
        history = client.get_registered_model(name).tags.get("champion_history", "")
        client.set_registered_model_tag(name, "champion_history", ",".join(filter(None, [history, str(current.version)])))
    client.set_registered_model_alias(name, CHAMPION, str(version))


def rollback(client: Any, name: str = MODEL_NAME) -> str:
    """Restore the previous champion; returns its version."""
    history = [v for v in client.get_registered_model(name).tags.get("champion_history", "").split(",") if v]
    if not history:
        raise ValueError("no previous champion to roll back to")
    previous = str(history.pop())
    client.set_registered_model_tag(name, "champion_history", ",".join(history))
    client.set_registered_model_alias(name, CHAMPION, previous)
    return previous


def list_versions(client: Any, name: str = MODEL_NAME) -> list[dict[str, Any]]:
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException:
        return []
    aliases: dict[str, list[str]] = {}
    for alias, ver in (model.aliases or {}).items():
        aliases.setdefault(str(ver), []).append(alias)
    rows = []
    for v in sorted(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version)):
        m = version_metrics(client, v)
        rows.append({"version": str(v.version), "aliases": sorted(aliases.get(str(v.version), [])),
                     "run_id": v.run_id, "created": v.creation_timestamp,
                     "metrics": {k: m[k] for k in KEY_METRICS if k in m},
                     "gate": (v.tags or {}).get("gate_reason", "")})
    return rows
