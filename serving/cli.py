"""The `medcode` command line. Each command group lives in serving/commands/<name>.py and
exposes `register(app)`; this module only assembles them."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer

COMMAND_MODULES = (
    "codes",  # medcode codes lookup|search, medcode codesets import
    "serve",  # medcode serve
    "validate",  # medcode validate
    "suggest",  # medcode suggest
    "data",  # medcode data synthesize
    "train",  # medcode train, medcode models ...
    "benchmark",  # medcode benchmark [compare]
    "batch",  # medcode batch
    "feedback",  # medcode feedback export
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="medcode",
        help="Suggest and validate ICD-10-CM and CPT/HCPCS codes for clinical visit notes.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for name in COMMAND_MODULES:
        modname = f"serving.commands.{name}"
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name == modname:
                continue  # that command group is not built yet
            raise
        module.register(app)
    return app


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=os.environ.get("MEDCODE_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    build_app()()


if __name__ == "__main__":
    main()
