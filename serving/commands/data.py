"""`medcode data synthesize`: the deterministic synthetic visit-note corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from serving.cli import fail


def register(app: typer.Typer) -> None:
    data = typer.Typer(help="Synthetic corpus generation.", no_args_is_help=True)
    app.add_typer(data, name="data")

    @data.command("synthesize")
    def synthesize(
        n: Annotated[int, typer.Option("--n", help="number of notes")] = 20_000,
        seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same bytes)")] = 13,
        out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("data/synthetic"),
        gz: Annotated[bool, typer.Option("--gzip/--no-gzip", help="write notes.jsonl.gz instead of notes.jsonl")] = False,
    ) -> None:
        """Generate N synthetic notes with gold codes into OUT/notes.jsonl and OUT/stats.json."""
        if n < 1:
            raise fail("--n must be at least 1")
        if out.exists() and not out.is_dir():
            raise fail(f"--out {out} exists and is not a folder")
        from pipelines.synthetic.corpus import write_corpus

        try:
            stats = write_corpus(out, n=n, seed=seed, gzip_output=gz)
        except OSError as exc:
            raise fail(f"cannot write corpus to {out}: {exc.strerror or exc}") from None
        summary = {k: stats[k] for k in ("notes", "distinct_icd10cm", "distinct_cpt_hcpcs", "distinct_concepts", "per_split",
                                          "leakage", "generation_seconds", "file")}
        typer.echo(json.dumps(summary, indent=2))
