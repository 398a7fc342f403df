"""`medcode batch IN OUT [--engine local|spark] [--model URI] [--master URL]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from serving.cli import fail


def register(app: typer.Typer) -> None:
    @app.command("batch")
    def batch(
        inp: Annotated[Path, typer.Argument(metavar="IN", help="JSONL or Parquet file, or a folder of parts")],
        out: Annotated[Path, typer.Argument(metavar="OUT", help="output folder (resumable)")],
        engine: Annotated[str, typer.Option(help="local (all cores) or spark")] = "local",
        model: Annotated[str | None, typer.Option(help="model URI (default models:/medcode-suggester@champion)")] = None,
        master: Annotated[str | None, typer.Option(help="Spark master URL (default local[*] or MEDCODE_SPARK_MASTER)")] = None,
        workers: Annotated[int | None, typer.Option(help="local engine processes (default: all cores)")] = None,
        output_format: Annotated[str, typer.Option("--output-format", help="jsonl or parquet")] = "jsonl",
    ) -> None:
        """Code many notes; rows that cannot be scored go to OUT/_errors with a reason."""
        from pipelines.batch import BatchError, run_batch

        try:
            s = run_batch(inp, out, engine=engine, model=model, master=master, workers=workers,
                          output_format=output_format)
        except BatchError as exc:
            raise fail(str(exc)) from None
        typer.echo(
            f"in={s.rows_in} scored={s.scored} errors={s.errors} skipped(already done)={s.skipped_done} "
            f"| {s.notes_per_s} notes/s | totals in {out}: out={s.totals['out']} errors={s.totals['errors']}",
            err=True,
        )
        typer.echo(json.dumps(s.as_dict()))
