"""`medcode train` and `medcode models list|promote|rollback`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from serving.cli import fail


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        data: Annotated[list[Path] | None, typer.Option("--data", help="extra gold JSONL (repeatable)")] = None,
        config: Annotated[str | None, typer.Option("--config", help="YAML config (default: packaged default.yaml)")] = None,
        register_: Annotated[bool, typer.Option("--register", help="register the model in the MLflow registry")] = False,
        promote: Annotated[bool, typer.Option("--promote", help="register, then set champion if the gates pass")] = False,
    ) -> None:
        """Train the Suggester, log it to MLflow, optionally register and promote it."""
        from pipelines.train import ConfigError
        from pipelines.train import train as run_train

        try:
            res = run_train(config, [str(p) for p in data or []], register=register_, promote=promote)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        if res.alias:
            typer.echo(f"version {res.registered_version} -> {res.alias}: {res.gate_reason}", err=True)
        typer.echo(json.dumps(res.__dict__, indent=2, default=str))

    models = typer.Typer(help="List, promote and roll back registered model versions.", no_args_is_help=True)
    app.add_typer(models, name="models")

    def _client() -> Any:
        from mlflow.tracking import MlflowClient

        from pipelines.registry import configure_tracking

        configure_tracking()
        return MlflowClient()

    @models.command("list")
    def list_(fmt: Annotated[str, typer.Option("--format", help="json or table")] = "table") -> None:
        """Registered versions of medcode-suggester with aliases and dev metrics."""
        from pipelines.registry import list_versions

        rows = list_versions(_client())
        if fmt == "json":
            typer.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            typer.echo("no registered versions of medcode-suggester (run `medcode train --promote`)")
        for r in rows:
            m = " ".join(f"{k}={v:.3f}" for k, v in r["metrics"].items())
            typer.echo(f"v{r['version']:<4} {','.join(r['aliases']) or '-':<20} {m}  {r['gate']}")

    @models.command("promote")
    def promote_(version: str) -> None:
        """Make VERSION the champion (manual override of the gates)."""
        from mlflow.exceptions import MlflowException

        from pipelines.registry import MODEL_NAME, set_champion

        c = _client()
        try:
            c.get_model_version(MODEL_NAME, version)
            set_champion(c, version)
        except MlflowException as exc:
            raise fail(f"cannot promote version {version}: {exc.message}") from None
        typer.echo(f"champion -> version {version}")

    @models.command("ensure")
    def ensure(config: Annotated[str | None, typer.Option("--config", help="YAML config for the first training")] = None
               ) -> None:
        """Train, register and promote the default model when the registry has no champion."""
        from pipelines.registry import CHAMPION, alias_version
        from pipelines.train import train as run_train

        current = alias_version(_client(), CHAMPION)
        if current is not None:
            typer.echo(f"champion is version {current.version}", err=True)
            return
        typer.echo("no champion model yet: training the default model (first run only)...", err=True)
        res = run_train(config, [], register=True, promote=True)
        typer.echo(f"version {res.registered_version} -> {res.alias} in {res.seconds:.0f} s", err=True)

    @models.command("rollback")
    def rollback_() -> None:
        """Restore the previous champion."""
        from mlflow.exceptions import MlflowException

        from pipelines.registry import rollback

        try:
            v = rollback(_client())
        except (ValueError, MlflowException) as exc:
            raise fail(str(exc)) from None
        typer.echo(f"champion -> version {v}")
