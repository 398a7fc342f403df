"""Re-log a registered Suggester version in the current artifact format: the supervised model
in the dense/rare split (faster scoring) and the estimators as a plain pickle instead of a
compressed joblib file (faster loading). Identical suggestions. The new version keeps the source
version's tags (dev metrics, data hashes) plus `upgraded_from`; promote it with
`medcode models promote N` (the gates would see identical metrics and keep the old champion).

    .venv/bin/python scripts/upgrade_model.py 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("version", help="registered version of medcode-suggester to upgrade")
    a = ap.parse_args()
    import mlflow

    from models.pyfunc import MedcodePyfunc, model_signature
    from pipelines.registry import MODEL_NAME, configure_tracking, ensure_experiment
    from pipelines.suggest import _local_registry_folder, load_suggester

    configure_tracking()
    client = mlflow.MlflowClient()
    src = client.get_model_version(MODEL_NAME, a.version)
    uri = f"models:/{MODEL_NAME}/{a.version}"
    with tempfile.TemporaryDirectory() as tmp:
        s = load_suggester(uri)
        local = _local_registry_folder(uri)
        joblib_store = local is not None and (local / "estimators.joblib").exists()
        split = s.supervised is not None and s.supervised.upgrade()
        if not (split or joblib_store):
            sys.exit(f"version {a.version} is already in the current format")
        art = s.save(Path(tmp) / "upgraded" / "suggester")
        with mlflow.start_run(experiment_id=ensure_experiment(), run_name=f"upgrade-v{a.version}",
                              tags={"upgraded_from": a.version}):
            info = mlflow.pyfunc.log_model(name="model", python_model=MedcodePyfunc(), artifacts={"suggester": str(art)},
                                           signature=model_signature(),
                                           pip_requirements=[f"-r {ROOT / 'requirements.lock'}"])
        mv = mlflow.register_model(info.model_uri, MODEL_NAME, tags={**(src.tags or {}), "upgraded_from": a.version})
    print(f"version {a.version} -> version {mv.version} (same model, current artifact format)")


if __name__ == "__main__":
    main()
