"""`medcode benchmark GOLD --out DIR [--model URI | --predictions PRED.jsonl]` and
`medcode benchmark compare DIR_A DIR_B`.

`benchmark` is a command group whose default command is `run`: anything after `benchmark` that
is not a sub-command name (`run`, `compare`) is handed to `run`, so
`medcode benchmark GOLD --out DIR` and `medcode benchmark compare A B` both work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from serving.cli import fail


class DefaultRunGroup(TyperGroup):
    """A group that routes unknown first arguments to its `run` command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def register(app: typer.Typer) -> None:
    bench = typer.Typer(
        cls=DefaultRunGroup,
        help="Benchmark a model version or any system's predictions against gold coding "
        "(`medcode benchmark GOLD --out DIR`), or compare two benchmark folders "
        "(`medcode benchmark compare DIR_A DIR_B`).",
        no_args_is_help=True,
    )
    app.add_typer(bench, name="benchmark")

    @bench.command("run")
    def run(
        gold: Annotated[Path, typer.Argument(help="gold: JSONL contract, long CSV (id,system,code) or a CodiEsp folder")],
        out: Annotated[Path, typer.Option("--out", help="output folder for metrics.json, predictions.jsonl, report.html")],
        model: Annotated[
            str | None,
            typer.Option(
                "--model",
                help="model URI (models:/medcode-suggester@champion by default), a local model folder, "
                "or 'default' for the locally built default model",
            ),
        ] = None,
        predictions: Annotated[
            Path | None, typer.Option("--predictions", help="another system's predictions (JSONL, DESIGN.md 4.2 shape + id)")
        ] = None,
        codiesp_prefix_match: Annotated[
            bool,
            typer.Option(
                "--codiesp-prefix-match/--strict",
                help="headline metrics with CodiEsp's prefix-form rule (predictions cut to the gold's length where "
                "the gold code lost its 7th character, or is a 4-character PCS code); strict by default. "
                "Both variants are reported whenever the gold has prefix forms.",
            ),
        ] = False,
        train_gold: Annotated[
            Path | None, typer.Option("--train-gold", help="training gold, to report codes unseen in training separately")
        ] = None,
        bootstrap: Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples for the 95% CIs")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="bootstrap seed")] = 0,
        limit: Annotated[int | None, typer.Option("--limit", help="only the first N gold notes")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or summary")] = False,
    ) -> None:
        """Grade a model or a predictions file against gold coding; writes DIR/metrics.json,
        DIR/predictions.jsonl and DIR/report.html (and logs to MLflow when a run is active)."""
        from pipelines.benchmark import BenchmarkError, run_benchmark

        if model and predictions:
            raise fail("give either --model or --predictions, not both")
        if limit is not None and limit < 1:
            raise fail("--limit must be at least 1")
        try:
            suggester = None
            if model == "default":
                from pipelines.benchmark import load_default_model

                suggester = load_default_model()
                model = None
            result = run_benchmark(
                gold,
                out,
                suggester=suggester,
                predictions=predictions,
                model_uri=model,
                match="prefix" if codiesp_prefix_match else "strict",
                training_gold=train_gold,
                n_boot=bootstrap,
                seed=seed,
                limit=limit,
                progress=not quiet,
            )
        except BenchmarkError as exc:
            raise fail(str(exc)) from None
        if not quiet:
            typer.echo(summary(result.metrics))
            typer.echo(f"wrote {result.out_dir}/metrics.json, predictions.jsonl, report.html")

    @bench.command("compare")
    def compare(
        dir_a: Annotated[Path, typer.Argument(help="benchmark folder A")],
        dir_b: Annotated[Path, typer.Argument(help="benchmark folder B")],
        top: Annotated[int, typer.Option("--top", help="codes listed per side in wins/losses")] = 10,
        bootstrap: Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples for the 95% CIs")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="bootstrap seed")] = 0,
        fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    ) -> None:
        """Side-by-side headline metrics with 95% bootstrap CIs (and of the paired difference B - A),
        plus per-code wins and losses."""
        from evaluation.compare import CompareError, compare_dirs, format_comparison

        if fmt not in ("table", "json"):
            raise fail(f"unknown format {fmt!r} (expected table or json)")
        try:
            result = compare_dirs(dir_a, dir_b, n_boot=bootstrap, seed=seed, top=top)
        except CompareError as exc:
            raise fail(str(exc)) from None
        if fmt == "json":
            typer.echo(json.dumps(result, indent=2))
        else:
            typer.echo(format_comparison(result))


def summary(metrics: dict[str, Any]) -> str:
    """A few headline numbers per code system, one line each."""
    lines = [f"{metrics.get('n_docs', 0)} notes"]
    for system in ("icd10cm", "cpt", "icd10pcs"):
        m = metrics.get(system)
        if not m:
            continue
        ci = m.get("ci", {}).get("f1_micro")
        ci_s = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        lines.append(
            f"{system:<9} F1 micro {m['f1_micro']:.3f}{ci_s}  P {m['precision_micro']:.3f}  R {m['recall_micro']:.3f}"
            f"  F1 macro {m['f1_macro']:.3f}  MAP {m['map']:.3f}  P@5 {m['precision@5']:.3f}  R@10 {m['recall@10']:.3f}"
        )
    if "pairs" in metrics:
        lines.append(f"pairs     link F1 {metrics['pairs']['link_f1']:.3f}")
    return "\n".join(lines)
