"""Re-log a registered Suggester version with its supervised model in the current (dense/rare
split) format: identical suggestions, faster scoring. The new version keeps the source
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
    from pipelines.suggest import load_suggester

    configure_tracking()
    client = mlflow.MlflowClient()
    src = client.get_model_version(MODEL_NAME, a.version)
    with tempfile.TemporaryDirectory() as tmp:
        s = load_suggester(f"models:/{MODEL_NAME}/{a.version}")
        if s.supervised is None or not s.supervised.upgrade():
            sys.exit(f"version {a.version} is already in the current format")
        art = s.save(Path(tmp) / "upgraded" / "suggester")
        with mlflow.start_run(experiment_id=ensure_experiment(), run_name=f"upgrade-v{a.version}",
                              tags={"upgraded_from": a.version}):
            info = mlflow.pyfunc.log_model(name="model", python_model=MedcodePyfunc(), artifacts={"suggester": str(art)},
                                           signature=model_signature(),
                                           pip_requirements=[f"-r {ROOT / 'requirements.lock'}"])
        mv = mlflow.register_model(info.model_uri, MODEL_NAME, tags={**(src.tags or {}), "upgraded_from": a.version})
    print(f"version {a.version} -> version {mv.version} (same model, current supervised format)")


if __name__ == "__main__":
    main()
